"""An owner's world built through the routes, for tests that must reach the logic behind them.

A request with made-up ids stops at 404 before any rule runs. ``build_world`` gives an owner (also
an admin) a workspace with an available document, a pending multipart upload of a new version,
an active link with a password (and its token), and a second member; ``snapshot`` captures every
item and every object version so a test can show that a refused request changed nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from tests.support.documents import (
    User,
    add_member,
    create_document,
    create_workspace,
    make_user,
    ok,
    sha256_b64,
    upload,
)
from tests.support.gateway import call

LINK_PASSWORD = "correct horse battery"


@dataclass(frozen=True)
class World:
    owner: User
    member: User
    workspace_id: str
    document_id: str
    version_id: str
    upload_id: str
    share_id: str
    token: str
    request_id: str = ""  # an open upload request of the workspace (issue 17)

    @property
    def params(self) -> dict[str, str]:
        """Real values for every path parameter of the route table."""
        return {
            "workspace_id": self.workspace_id,
            "document_id": self.document_id,
            "upload_id": self.upload_id,
            "share_id": self.share_id,
            "request_id": self.request_id,
            "token": self.token,
            "user_id": self.member.id,
            "email": self.member.email,
        }


def build_world(resources: Any, *, email: str = "owner@example.com") -> World:
    owner = make_user(resources, email, admin=True)
    member = make_user(resources, "member." + email)
    ws = create_workspace(owner)
    add_member(owner, ws, member, "viewer")
    created = create_document(owner, ws, b"%PDF-1.7 plan", name="plan.pdf")
    document_id = created["document"]["id"]
    upload(resources, created["upload"]["upload_id"], b"%PDF-1.7 plan")
    detail = ok(call("GET", f"/documents/{document_id}", claims=owner.claims))
    big = {"size": 200 * 1024 * 1024, "sha256": sha256_b64(b"big")}
    pending = ok(call("POST", f"/documents/{document_id}/versions", claims=owner.claims, body=big), 201)
    share = ok(
        call("POST", f"/documents/{document_id}/shares", claims=owner.claims, body={"password": LINK_PASSWORD}),
        201,
    )
    request = ok(
        call(
            "POST",
            f"/workspaces/{ws}/requests",
            claims=owner.claims,
            body={"folder": "/inbox", "max_files": 5, "max_bytes": 1000},
        ),
        201,
    )
    return World(
        request_id=request["id"],
        owner=owner,
        member=member,
        workspace_id=ws,
        document_id=document_id,
        version_id=detail["versions"][0]["id"],
        upload_id=pending["upload_id"],
        share_id=share["id"],
        token=share["token"],
    )


def snapshot(resources: Any) -> tuple[list[str], list[tuple[str, str, str]]]:
    """Every item of the table, every object version and every open multipart upload, sorted.

    Read from moto's memory, not through its API: a Scan answered by moto costs a tenth of a
    second, and the property tier takes a snapshot for every case.
    """
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends
    from moto.s3.models import s3_backends

    table = dynamodb_backends[DEFAULT_ACCOUNT_ID][resources.region].get_table(resources.table_name)
    items = sorted(json.dumps(item.to_json(), sort_keys=True, default=str) for item in table.all_items())
    bucket = s3_backends[DEFAULT_ACCOUNT_ID]["aws"].buckets[resources.bucket_name]
    objects = [
        (str(name), str(getattr(version, "version_id", "")), str(getattr(version, "etag", "delete-marker")))
        for name, versions in bucket.keys._iterlists()
        for version in versions
    ]
    objects += [(str(m.key_name), str(m.id), "multipart") for m in bucket.multiparts.values()]
    return items, sorted(objects)
