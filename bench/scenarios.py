"""The operations the performance claims are about, driven through the real handlers against moto.

``world()`` builds one workspace with an available document the way a client would (API calls, the
object landing in S3, the upload-processing function); ``operations()`` then counts each operation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bench.calls import Tally, counting
from tests.support.documents import User, create_document, create_workspace, make_user, ok, upload
from tests.support.gateway import Reply, call

CONTENT = b"%PDF-1.7 launch plan " * 64
PASSWORD = "correct horse battery"  # noqa: S105  (a test link's password)


@dataclass
class World:
    resources: Any
    owner: User
    workspace_id: str
    document_id: str
    share_id: str
    token_open: str
    token_password: str
    upload_id: str | None = None  # a pending upload (its object has not landed)


def create_share(owner: User, document_id: str, **fields: Any) -> dict[str, Any]:
    return dict(ok(call("POST", f"/documents/{document_id}/shares", claims=owner.claims, body=fields), 201))


def world(resources: Any) -> World:
    owner = make_user(resources, "owner@example.com")
    ws = create_workspace(owner)
    doc = create_document(owner, ws, CONTENT)
    upload(resources, doc["upload"]["upload_id"], CONTENT)
    document_id = doc["document"]["id"]
    open_link = create_share(owner, document_id, expires_in_days=7)
    locked = create_share(owner, document_id, expires_in_days=7, password=PASSWORD)
    pending = create_document(owner, ws, b"pending", name="pending.pdf")
    return World(
        resources,
        owner,
        ws,
        document_id,
        open_link["id"],
        open_link["token"],
        locked["token"],
        upload_id=pending["upload"]["upload_id"],
    )


@dataclass(frozen=True)
class Operation:
    name: str
    run: Callable[[World], Reply]
    expect: int


def _body(data: bytes) -> dict[str, Any]:
    import base64
    import hashlib

    digest = base64.b64encode(hashlib.sha256(data).digest()).decode()
    return {"name": "budget.pdf", "content_type": "application/pdf", "size": len(data), "sha256": digest}


OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "upload creation",
        lambda w: call("POST", f"/workspaces/{w.workspace_id}/documents", claims=w.owner.claims, body=_body(CONTENT)),
        201,
    ),
    Operation(
        "member download",
        lambda w: call("GET", f"/documents/{w.document_id}/download", claims=w.owner.claims),
        200,
    ),
    Operation(
        "list page (50)",
        lambda w: call("GET", f"/workspaces/{w.workspace_id}/documents", claims=w.owner.claims, query={"limit": "50"}),
        200,
    ),
    Operation(
        "share creation",
        lambda w: call(
            "POST", f"/documents/{w.document_id}/shares", claims=w.owner.claims, body={"expires_in_days": 7}
        ),
        201,
    ),
    Operation(
        "public link page",
        lambda w: call("GET", f"/public/shares/{w.token_open}"),
        200,
    ),
    Operation(
        "public redemption, no password",
        lambda w: call("POST", f"/public/shares/{w.token_open}/download", body={}),
        200,
    ),
    Operation(
        "public redemption, password",
        lambda w: call("POST", f"/public/shares/{w.token_password}/download", body={"password": PASSWORD}),
        200,
    ),
)

# The claims: exact or upper bounds on round trips per service. None: reported, no target.
TARGETS: dict[str, dict[str, tuple[str, int]]] = {
    "public redemption, no password": {"dynamodb": ("==", 1), "s3": ("==", 0), "kms": ("==", 0)},
    "public redemption, password": {"total": ("<=", 2)},
    "member download": {"total": ("<=", 2)},
}


def measure_operation(w: World, op: Operation) -> tuple[Reply, Tally]:
    with counting() as tally:
        reply = op.run(w)
    return reply, tally


def verdict(name: str, tally: Tally) -> tuple[bool | None, str]:
    """Whether ``tally`` meets the operation's targets (None when it has none), and the target text."""
    targets = TARGETS.get(name)
    if not targets:
        return None, ""
    met = True
    texts = []
    for service, (op, bound) in targets.items():
        value = tally.total_round_trips if service == "total" else tally.service_round_trips(service)
        met &= value == bound if op == "==" else value <= bound
        texts.append(f"{service} {op} {bound}")
    return met, ", ".join(texts)
