"""The authorization matrix: every route in ``docuserve.routes.ROUTES`` by every kind of caller.

One row per route (a route may have more than one row, e.g. trash and purge). A row names the
route, how to prepare the request (fresh objects where the call changes state), and the expected
status for each caller: ``owner``, ``editor``, ``viewer`` (members of the workspace),
``nonmember``, ``admin`` (in the admins group, not a member) and ``anonymous`` (no token).
Adding a route without a row fails ``test_every_route_has_a_row``. Expected values: ``2`` is
any 2xx; otherwise the exact status. Uploads belong to the editor who started them.

The ``anonymous`` column goes through ``local.authorizer.CognitoAuthorizer`` (what the local stack
runs in front of the functions, standing in for API Gateway's Cognito authorizer): a protected
route's 401 comes from it, a public route runs its function. That a function refuses a request
without claims on its own is ``test_the_function_itself_rejects_a_request_without_claims``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest

from docuserve.limits import MIB
from docuserve.routes import ROUTES
from local.authorizer import CognitoAuthorizer
from local.events import rest_event
from tests.support.documents import User, add_member, create_document, make_user, ok, sha256_b64, upload
from tests.support.gateway import FakeContext, call
from tests.support.recipients import last_code

ROLES = ("owner", "editor", "viewer", "nonmember", "admin", "anonymous")
SMALL_PART = 5 * MIB  # S3's minimum part size; the matrix stack uses it as threshold and part size


@dataclass
class Request:
    params: dict[str, str]
    body: Any = None
    query: dict[str, str] | None = None


class World:
    """Users, one workspace with an owner, an editor and a viewer, and builders for fresh objects."""

    def __init__(self, resources: Any, patch: pytest.MonkeyPatch) -> None:
        self.resources, self._patch = resources, patch
        self.users: dict[str, User] = {
            role: make_user(resources, f"{role}@example.com", admin=role == "admin") for role in ROLES[:-1]
        }
        self.authorizer = CognitoAuthorizer(
            jwks_url=f"https://cognito-idp.{resources.region}.amazonaws.com/{resources.user_pool_id}/.well-known/jwks.json",
            region=resources.region,
            user_pool_id=resources.user_pool_id,
            app_client_id=resources.user_pool_client_id,
        )
        self._n = 0
        self.row = ""
        self.ws = self.doc = ""

    def start_row(self, row_id: str) -> None:
        """A fresh, empty table per row (moto copies the whole table on every transaction)."""
        if row_id == self.row:
            return
        from docuserve.adapters import aws as adapters
        from docuserve.schema import TABLE

        ddb = boto3.client("dynamodb", region_name=self.resources.region)
        self._n += 1
        name = f"matrix-{self._n}"
        ddb.create_table(**TABLE.create_table_kwargs(name))
        if self.row:
            ddb.delete_table(TableName=self.table)
        self.table, self.row = name, row_id
        self._patch.setenv("TABLE_NAME", name)
        adapters.reset()
        self.ws = self.workspace()
        self.doc = self.document(self.ws)

    def claims(self, role: str) -> dict[str, str] | None:
        return None if role == "anonymous" else self.users[role].claims

    def workspace(self) -> str:
        owner = self.users["owner"]
        ws = str(ok(call("POST", "/workspaces", claims=owner.claims, body={"name": "Matrix"}), 201)["id"])
        add_member(owner, ws, self.users["editor"], "editor")
        add_member(owner, ws, self.users["viewer"], "viewer")
        return ws

    def document(self, ws: str | None = None, *, trashed: bool = False) -> str:
        data = b"matrix bytes"
        created = create_document(self.users["editor"], ws or self.ws, data, content_type="text/plain")
        upload(self.resources, created["upload"]["upload_id"], data)
        doc = str(created["document"]["id"])
        if trashed:
            ok(call("DELETE", f"/documents/{doc}", claims=self.users["editor"].claims), 204)
        return doc

    def multipart_upload(self, *, with_parts: bool = False) -> tuple[str, list[dict[str, Any]]]:
        """A pending two-part upload started by the editor (and its parts uploaded, if asked)."""
        data = b"m" * (SMALL_PART + 1)
        created = create_document(self.users["editor"], self.ws, data, content_type="text/plain")
        instructions = created["upload"]
        assert instructions["method"] == "MULTIPART"
        parts: list[dict[str, Any]] = []
        if with_parts:
            from docuserve import keys
            from docuserve.adapters.store import Store

            session = Store().get(keys.upload(instructions["upload_id"]))
            assert session is not None
            s3 = boto3.client("s3", region_name=self.resources.region)
            for number, chunk in ((1, data[:SMALL_PART]), (2, data[SMALL_PART:])):
                etag = s3.upload_part(
                    Bucket=self.resources.bucket_name,
                    Key=session["object_key"],
                    UploadId=session["s3_upload_id"],
                    PartNumber=number,
                    Body=chunk,
                )["ETag"]
                parts.append({"part_number": number, "etag": etag, "sha256": sha256_b64(chunk)})
        else:
            parts = [
                {"part_number": 1, "etag": '"abc"', "sha256": sha256_b64(b"1")},
                {"part_number": 2, "etag": '"def"', "sha256": sha256_b64(b"2")},
            ]
        return str(instructions["upload_id"]), parts

    def fresh_user(self) -> User:
        self._n += 1
        return make_user(self.resources, f"fresh{self._n}-{os.urandom(3).hex()}@example.com")

    def member(self, role: str = "viewer") -> User:
        user = self.fresh_user()
        add_member(self.users["owner"], self.ws, user, role)
        return user


Prepare = Callable[[World], Request]


@dataclass
class Row:
    method: str
    path: str
    expect: tuple[int, int, int, int, int, int]  # owner, editor, viewer, nonmember, admin, anonymous
    prepare: Prepare = field(default=lambda w: Request({}))
    label: str = ""

    @property
    def id(self) -> str:
        return f"{self.method} {self.path}{' ' + self.label if self.label else ''}"


def ws(w: World) -> Request:
    return Request({"workspace_id": w.ws})


def doc(w: World) -> Request:
    return Request({"document_id": w.doc})


def _doc_body() -> dict[str, Any]:
    return {"name": "m.txt", "content_type": "text/plain", "size": 3, "sha256": sha256_b64(b"abc")}


def _upload(w: World) -> Request:
    return Request({"upload_id": w.multipart_upload()[0]})


def _complete(w: World) -> Request:
    upload_id, parts = w.multipart_upload(with_parts=True)
    return Request({"upload_id": upload_id}, body={"parts": parts})


def _unscannable_version(w: World) -> Request:
    """A fresh document whose only version the scanner could not scan (releasing needs one)."""
    from local import scanner

    created = create_document(w.users["editor"], w.ws, b"one", content_type="text/plain")
    scanner.force("UNSUPPORTED")
    try:
        upload(w.resources, created["upload"]["upload_id"], b"one")
    finally:
        scanner.force(None)
    return Request({"document_id": created["document"]["id"], "version_id": created["upload"]["version_id"]})


def _older_version(w: World) -> Request:
    """A fresh document with two landed versions, naming the older one (restore needs one)."""
    created = create_document(w.users["editor"], w.ws, b"one", content_type="text/plain")
    upload(w.resources, created["upload"]["upload_id"], b"one")
    doc = str(created["document"]["id"])
    body = {"size": 3, "sha256": sha256_b64(b"two")}
    second = ok(call("POST", f"/documents/{doc}/versions", claims=w.users["editor"].claims, body=body), 201)
    upload(w.resources, second["upload_id"], b"two")
    return Request({"document_id": doc, "version_id": created["upload"]["version_id"]})


def _share(w: World) -> dict[str, Any]:
    """A fresh link to the row's document, created by its owner."""
    created: dict[str, Any] = ok(
        call("POST", f"/documents/{w.doc}/shares", claims=w.users["owner"].claims, body={}), 201
    )
    return created


def _bundle(w: World) -> dict[str, Any]:
    """A fresh bundle of the row's document, created by its owner (issue 17)."""
    created: dict[str, Any] = ok(
        call("POST", f"/workspaces/{w.ws}/shares", claims=w.users["owner"].claims, body={"document_ids": [w.doc]}),
        201,
    )
    return created


RECIPIENT = "recipient@example.org"


def _verify(w: World) -> Request:
    """A fresh recipient-restricted link (its own flood window) and its recipient's address."""
    created = ok(
        call("POST", f"/documents/{w.doc}/shares", claims=w.users["owner"].claims, body={"recipients": [RECIPIENT]}),
        201,
    )
    return Request({"token": created["token"]}, {"email": RECIPIENT})


def _confirm(w: World) -> Request:
    """As ``_verify``, with the code mailed to the recipient."""
    asked = _verify(w)
    ok(call("POST", _path("/public/shares/{token}/verify", asked.params), body=asked.body), 202)
    return Request(asked.params, {"email": RECIPIENT, "code": last_code(RECIPIENT)})


def _empty_folder(w: World) -> Request:
    """A fresh empty folder, created by the owner, named in the query."""
    w._n += 1
    path = f"/empty-{w._n}"
    ok(call("POST", f"/workspaces/{w.ws}/folders", claims=w.users["owner"].claims, body={"path": path}), 201)
    return Request({"workspace_id": w.ws}, query={"path": path})


def _request(w: World) -> dict[str, Any]:
    """A fresh upload request of the row's workspace, created by its owner (room for a multipart file)."""
    body = {"folder": "/inbox", "max_files": 5, "max_bytes": 4 * SMALL_PART}
    created: dict[str, Any] = ok(
        call("POST", f"/workspaces/{w.ws}/requests", claims=w.users["owner"].claims, body=body), 201
    )
    return created


def _partner_upload(w: World, *, multipart: bool = False) -> Request:
    """A partner's pending upload into a fresh request (two parts when ``multipart``)."""
    token = _request(w)["token"]
    size = SMALL_PART + 1 if multipart else 3
    body = {"name": "p.bin", "content_type": "application/octet-stream", "size": size, "sha256": sha256_b64(b"abc")}
    started = ok(call("POST", f"/public/requests/{token}/uploads", body=body), 201)
    return Request({"token": token, "upload_id": started["upload_id"]})


def _partner_parts(w: World) -> Request:
    started = _partner_upload(w, multipart=True)
    return Request(started.params, {"parts": [{"part_number": 1, "sha256": sha256_b64(b"1")}]})


def _partner_complete(w: World) -> Request:
    started = _partner_upload(w, multipart=True)
    parts = [
        {"part_number": 1, "etag": '"abc"', "sha256": sha256_b64(b"1")},
        {"part_number": 2, "etag": '"def"', "sha256": sha256_b64(b"2")},
    ]
    return Request(started.params, {"parts": parts})


def _verify_request(w: World) -> Request:
    """A fresh recipient-restricted upload request (its own flood window) and its recipient's address."""
    body = {"folder": "/", "max_files": 1, "max_bytes": 10, "recipients": [RECIPIENT]}
    created = ok(call("POST", f"/workspaces/{w.ws}/requests", claims=w.users["owner"].claims, body=body), 201)
    return Request({"token": created["token"]}, {"email": RECIPIENT})


def _confirm_request(w: World) -> Request:
    asked = _verify_request(w)
    ok(call("POST", _path("/public/requests/{token}/verify", asked.params), body=asked.body), 202)
    return Request(asked.params, {"email": RECIPIENT, "code": last_code(RECIPIENT)})


def _partner_file(w: World) -> Request:
    body = {"name": "p.txt", "content_type": "text/plain", "size": 3, "sha256": sha256_b64(b"abc")}
    return Request({"token": _request(w)["token"]}, body)


ANYONE = (2, 2, 2, 2, 2, 2)
MEMBERS_READ = (2, 2, 2, 404, 404, 401)
EDITORS = (2, 2, 403, 404, 404, 401)
OWNERS = (2, 403, 403, 404, 404, 401)
UPLOADER = (404, 2, 404, 404, 404, 401)
ADMINS = (403, 403, 403, 403, 2, 401)
SIGNED_IN = (2, 2, 2, 2, 2, 401)

ROWS: list[Row] = [
    # documents issue
    Row("POST", "/workspaces", SIGNED_IN, lambda w: Request({}, body={"name": "Mine"})),
    Row("GET", "/workspaces", SIGNED_IN),
    Row("GET", "/workspaces/{workspace_id}", MEMBERS_READ, ws),
    Row("PATCH", "/workspaces/{workspace_id}", OWNERS, lambda w: Request({"workspace_id": w.ws}, {"description": "d"})),
    Row("DELETE", "/workspaces/{workspace_id}", OWNERS, lambda w: Request({"workspace_id": w.workspace()})),
    Row("GET", "/workspaces/{workspace_id}/members", MEMBERS_READ, ws),
    Row(
        "POST",
        "/workspaces/{workspace_id}/members",
        OWNERS,
        lambda w: Request({"workspace_id": w.ws}, {"email": w.fresh_user().email, "role": "viewer"}),
    ),
    Row(
        "PUT",
        "/workspaces/{workspace_id}/members/{user_id}",
        OWNERS,
        lambda w: Request({"workspace_id": w.ws, "user_id": w.member().id}, {"role": "viewer"}),
    ),
    Row(
        "DELETE",
        "/workspaces/{workspace_id}/members/{user_id}",
        OWNERS,
        lambda w: Request({"workspace_id": w.ws, "user_id": w.member().id}),
    ),
    Row(
        "POST", "/workspaces/{workspace_id}/documents", EDITORS, lambda w: Request({"workspace_id": w.ws}, _doc_body())
    ),
    Row("GET", "/workspaces/{workspace_id}/documents", MEMBERS_READ, ws),
    Row("GET", "/documents/{document_id}", MEMBERS_READ, doc),
    Row("PATCH", "/documents/{document_id}", EDITORS, lambda w: Request({"document_id": w.doc}, {"tags": ["x"]})),
    Row("DELETE", "/documents/{document_id}", EDITORS, lambda w: Request({"document_id": w.document()}), "trash"),
    Row(
        "DELETE",
        "/documents/{document_id}",
        OWNERS,
        lambda w: Request({"document_id": w.document(trashed=True)}, query={"purge": "true"}),
        "purge",
    ),
    Row(
        "POST",
        "/documents/{document_id}/restore",
        EDITORS,
        lambda w: Request({"document_id": w.document(trashed=True)}),
    ),
    Row(
        "POST",
        "/documents/{document_id}/versions",
        EDITORS,
        lambda w: Request({"document_id": w.doc}, {"size": 3, "sha256": sha256_b64(b"abc")}),
    ),
    Row("POST", "/documents/{document_id}/versions/{version_id}/restore", EDITORS, _older_version),
    Row("POST", "/documents/{document_id}/versions/{version_id}/release", OWNERS, _unscannable_version),
    Row("GET", "/documents/{document_id}/download", MEMBERS_READ, doc),
    Row("GET", "/uploads/{upload_id}", UPLOADER, _upload),
    Row(
        "POST",
        "/uploads/{upload_id}/parts",
        UPLOADER,
        lambda w: Request(_upload(w).params, {"parts": [{"part_number": 2, "sha256": sha256_b64(b"2")}]}),
    ),
    Row("POST", "/uploads/{upload_id}/complete", UPLOADER, _complete),
    Row("DELETE", "/uploads/{upload_id}", UPLOADER, _upload),
    Row("GET", "/workspaces/{workspace_id}/audit", (2, 403, 403, 404, 2, 401), ws),
    Row("GET", "/workspaces/{workspace_id}/audit/export", (2, 403, 403, 404, 2, 401), ws),
    Row("GET", "/documents/{document_id}/audit", (2, 2, 403, 404, 2, 401), doc),
    # explicit folders (issue 15)
    Row("POST", "/workspaces/{workspace_id}/folders", EDITORS, lambda w: Request(ws(w).params, {"path": "/m/n"})),
    Row("GET", "/workspaces/{workspace_id}/folders", MEMBERS_READ, ws),
    Row("DELETE", "/workspaces/{workspace_id}/folders", EDITORS, _empty_folder),
    Row("POST", "/admin/users", ADMINS, lambda w: Request({}, {"email": f"new-{os.urandom(4).hex()}@example.com"})),
    Row("GET", "/admin/users", ADMINS),
    Row("POST", "/admin/users/{user_id}/disable", ADMINS, lambda w: Request({"user_id": w.fresh_user().id})),
    Row("POST", "/admin/users/{user_id}/enable", ADMINS, lambda w: Request({"user_id": w.fresh_user().id})),
    # quotas (issue 17)
    Row("PATCH", "/admin/workspaces/{workspace_id}", ADMINS, lambda w: Request(ws(w).params, {"quota_bytes": 10**12})),
    # sharing issue
    Row("POST", "/documents/{document_id}/shares", EDITORS, lambda w: Request({"document_id": w.doc}, {})),
    Row("GET", "/documents/{document_id}/shares", EDITORS, doc),
    Row("GET", "/workspaces/{workspace_id}/links", EDITORS, ws),
    Row("GET", "/shares/{share_id}", EDITORS, lambda w: Request({"share_id": _share(w)["id"]})),
    Row("PATCH", "/shares/{share_id}", EDITORS, lambda w: Request({"share_id": _share(w)["id"]}, {"label": "x"})),
    Row("DELETE", "/shares/{share_id}", EDITORS, lambda w: Request({"share_id": _share(w)["id"]})),
    Row("GET", "/shares/{share_id}/activity", EDITORS, lambda w: Request({"share_id": _share(w)["id"]})),
    Row("GET", "/public/shares/{token}", ANYONE, lambda w: Request({"token": _share(w)["token"]})),
    Row("POST", "/public/shares/{token}/download", ANYONE, lambda w: Request({"token": _share(w)["token"]}, {})),
    # bundles (issue 17): create (editor+), a partner's one file and 'download all' (202 while built)
    Row(
        "POST",
        "/workspaces/{workspace_id}/shares",
        EDITORS,
        lambda w: Request({"workspace_id": w.ws}, {"document_ids": [w.doc]}),
    ),
    Row(
        "POST",
        "/public/shares/{token}/download",
        ANYONE,
        lambda w: Request({"token": _bundle(w)["token"]}, {"document_id": w.doc}),
    ),
    Row(
        "POST",
        "/public/shares/{token}/download",
        ANYONE,
        lambda w: Request({"token": _bundle(w)["token"]}, {"archive": True}),
    ),
    Row("GET", "/public/shares/{token}", ANYONE, lambda w: Request({"token": _bundle(w)["token"]})),
    Row("GET", "/public/shares/{token}/manifest", ANYONE, lambda w: Request({"token": _share(w)["token"]})),
    Row("GET", "/public/shares/{token}/manifest", ANYONE, lambda w: Request({"token": _bundle(w)["token"]})),
    Row("GET", "/public/keys", ANYONE, lambda w: Request({})),
    Row("POST", "/public/shares/{token}/verify", ANYONE, _verify),
    Row("POST", "/public/shares/{token}/verify/confirm", ANYONE, _confirm),
    # upload requests (issue 17)
    Row(
        "POST",
        "/workspaces/{workspace_id}/requests",
        EDITORS,
        lambda w: Request(ws(w).params, {"folder": "/", "max_files": 1, "max_bytes": 10}),
    ),
    Row("GET", "/workspaces/{workspace_id}/requests", EDITORS, ws),
    Row("GET", "/requests/{request_id}", EDITORS, lambda w: Request({"request_id": _request(w)["id"]})),
    Row(
        "PATCH", "/requests/{request_id}", EDITORS, lambda w: Request({"request_id": _request(w)["id"]}, {"label": "x"})
    ),
    Row(
        "DELETE",
        "/requests/{request_id}",
        (2, 2, 403, 404, 2, 401),
        lambda w: Request({"request_id": _request(w)["id"]}),
    ),
    Row(
        "GET",
        "/requests/{request_id}/activity",
        (2, 2, 403, 404, 2, 401),
        lambda w: Request({"request_id": _request(w)["id"]}),
    ),
    Row("GET", "/admin/requests", ADMINS),
    Row("GET", "/admin/settings", ADMINS),
    Row("PUT", "/admin/settings", ADMINS, lambda w: Request({}, {"upload_requests": True})),
    Row("GET", "/public/requests/{token}", ANYONE, lambda w: Request({"token": _request(w)["token"]})),
    Row("POST", "/public/requests/{token}/uploads", ANYONE, _partner_file),
    Row("POST", "/public/requests/{token}/verify", ANYONE, _verify_request),
    Row("POST", "/public/requests/{token}/verify/confirm", ANYONE, _confirm_request),
    Row("GET", "/public/requests/{token}/uploads/{upload_id}", ANYONE, _partner_upload),
    Row("DELETE", "/public/requests/{token}/uploads/{upload_id}", ANYONE, _partner_upload),
    Row("POST", "/public/requests/{token}/uploads/{upload_id}/parts", ANYONE, _partner_parts),
    Row("POST", "/public/requests/{token}/uploads/{upload_id}/complete", ANYONE, _partner_complete),
    # system routes
    Row("GET", "/me", SIGNED_IN),
    # e-mail (issue 16): one's own mail preferences
    Row("GET", "/me/notifications", SIGNED_IN),
    Row("PUT", "/me/notifications", SIGNED_IN, lambda w: Request({}, {"files_arrived": True})),
    Row("GET", "/health", (2, 2, 2, 2, 2, 2)),
    Row("GET", "/openapi.json", (2, 2, 2, 2, 2, 2)),
]


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    """One moto stack for the whole matrix, with a 5 MiB single-PUT threshold and part size."""
    from moto import mock_aws

    from docuserve.adapters import aws as adapters
    from docuserve.limits import Limits
    from local.provision import provision

    with pytest.MonkeyPatch.context() as patch, mock_aws():
        resources = provision(web_origins=["http://localhost:8000"])
        limits = Limits(single_put_threshold=SMALL_PART, part_size=SMALL_PART)
        for key, value in resources.function_environment(web_origin="http://localhost:8000", limits=limits).items():
            patch.setenv(key, value)
        adapters.reset()
        yield World(resources, patch)
        adapters.reset()


def _path(template: str, params: dict[str, str]) -> str:
    path = template
    for name, value in params.items():
        path = path.replace("{" + name + "}", value)
    return path


def test_every_route_has_a_row() -> None:
    covered = {f"{r.method} {r.path}" for r in ROWS}
    missing = sorted(r.key for r in ROUTES if r.key not in covered)
    assert missing == [], f"add a row to ROWS for: {missing}"


def test_every_row_names_a_route() -> None:
    routes = {r.key for r in ROUTES}
    assert sorted(f"{r.method} {r.path}" for r in ROWS if f"{r.method} {r.path}" not in routes) == []


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("row", ROWS, ids=lambda r: r.id)
def test_route_answers_each_caller_as_the_matrix_says(world: World, row: Row, role: str) -> None:
    expected = row.expect[ROLES.index(role)]
    world.start_row(row.id)
    request = row.prepare(world)
    # Anonymous requests carry no Authorization header and pass the local stack's Cognito
    # authorizer, as API Gateway's would: protected routes are refused there, public ones run.
    reply = call(
        row.method,
        _path(row.path, request.params),
        claims=world.claims(role),
        body=request.body,
        query=request.query,
        authorizer=world.authorizer if role == "anonymous" else None,
    )
    if expected == 2:
        assert 200 <= reply.status < 300, (reply.status, reply.text)
    else:
        assert reply.status == expected, (reply.status, reply.text)


def _is_public(row: Row) -> bool:
    return any(x.public for x in ROUTES if x.key == f"{row.method} {row.path}")


@pytest.mark.parametrize("row", [r for r in ROWS if not _is_public(r)], ids=lambda r: r.id)
def test_the_function_itself_rejects_a_request_without_claims(world: World, row: Row) -> None:
    """Defence in depth: even if the authorizer were bypassed, a handler without claims answers 401."""
    import importlib

    route = next(x for x in ROUTES if x.key == f"{row.method} {row.path}")
    world.start_row(row.id)
    request = row.prepare(world)
    event = rest_event(
        row.method,
        row.path,
        _path(row.path, request.params),
        path_parameters=request.params or None,
        query={k: [v] for k, v in (request.query or {}).items()},
        headers={"content-type": "application/json"},
        body=None if request.body is None else __import__("json").dumps(request.body),
        claims=None,
    )
    result = importlib.import_module(f"handlers.{route.function.value}").handler(event, FakeContext())
    assert result["statusCode"] == 401, result
