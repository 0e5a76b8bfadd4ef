"""Bad input never yields a 5xx (SPEC promise 10) and responses carry no internal fields (promise 8)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from docuserve.routes import ROUTES, Function
from tests.support.documents import User, create_document, create_workspace, make_user, ok, sha256_b64, upload
from tests.support.gateway import call

MINE = [r for r in ROUTES if r.function in (Function.MEMBERS, Function.ADMIN) and not r.path.startswith("/shares")]
MINE = [r for r in MINE if "/shares" not in r.path]

GARBAGE_IDS = ["x", "..", "%2e%2e", "a" * 2000, "0" * 16, "0" * 16 + "." + "0" * 16, "ü", "null", "-1", "%00"]
GARBAGE_BODIES: list[bytes | str] = [
    "{",
    "[]",
    "null",
    "42",
    '"text"',
    '{"name": 1}',
    '{"name": null, "size": "big"}',
    '{"size": 1e400}',
    '{"size": -1, "sha256": "!!"}',
    '{"part_numbers": [0, -1, 1e9]}',
    '{"parts": [{"part_number": 1}]}',
    '{"role": "god"}',
    '{"email": ["a"]}',
    json.dumps({"name": "x" * 100_000}),
    json.dumps({"tags": ["t"] * 1000}),
    "\x00\x01",
    b"\xff\xfe\x00garbage",
]
GARBAGE_QUERIES = [
    {"limit": "0"},
    {"limit": "201"},
    {"limit": "abc"},
    {"cursor": "%%%"},
    {"cursor": "eyJwayI6IngifQ"},
    {"status": "everything"},
    {"purge": "maybe"},
    {"disposition": "evil"},
    {"version_id": "../../x"},
    {"folder": "/a/../b"},
    {"tag": "x" * 500},
    {"q": ""},
]


@pytest.fixture
def setup(aws: Any) -> tuple[User, dict[str, str]]:
    owner = make_user(aws, "owner@example.com", admin=True)
    ws = create_workspace(owner)
    created = create_document(owner, ws, b"abc")
    upload(aws, created["upload"]["upload_id"], b"abc")
    pending = create_document(owner, ws, b"def")
    params = {
        "workspace_id": ws,
        "document_id": created["document"]["id"],
        "upload_id": pending["upload"]["upload_id"],
        "email": "owner@example.com",
        "user_id": owner.id,
    }
    return owner, params


def _fill(path: str, params: dict[str, str]) -> str:
    for name, value in params.items():
        path = path.replace("{" + name + "}", value)
    return path


@pytest.mark.parametrize("route", MINE, ids=lambda r: r.key)
def test_garbage_never_yields_a_5xx(setup: tuple[User, dict[str, str]], route: Any) -> None:
    owner, params = setup
    statuses = []
    for garbage in GARBAGE_IDS:
        path = _fill(route.path, dict.fromkeys(params, garbage))
        statuses.append(call(route.method, path, claims=owner.claims, body={"name": "x"}).status)
    for body in GARBAGE_BODIES:
        statuses.append(call(route.method, _fill(route.path, params), claims=owner.claims, raw_body=body).status)
    for query in GARBAGE_QUERIES:
        statuses.append(call(route.method, _fill(route.path, params), claims=owner.claims, query=query).status)
    assert all(400 <= s < 500 or s < 300 for s in statuses), statuses


def test_validation_errors_name_the_field(setup: tuple[User, dict[str, str]]) -> None:
    owner, params = setup
    ws = params["workspace_id"]
    cases = {
        "name": {"name": "a/b"},
        "folder": {"folder": "x" * 1100},
        "tags": {"tags": [f"t{n}" for n in range(21)]},
        "sha256": {"sha256": sha256_b64(b"x")[:-2]},
        "size": {"size": 0},
        "content_type": {"content_type": "not a type"},
    }
    base = {"name": "ok.txt", "content_type": "text/plain", "size": 1, "sha256": sha256_b64(b"x")}
    for field, change in cases.items():
        reply = call("POST", f"/workspaces/{ws}/documents", claims=owner.claims, body=base | change)
        assert reply.status == 422, (field, reply.text)
        assert field in reply.json()["fields"], (field, reply.json())
    reply = call("POST", f"/workspaces/{ws}/documents", claims=owner.claims, body=base | {"surprise": 1})
    assert reply.status == 422
    listing = call("GET", f"/workspaces/{ws}/documents", claims=owner.claims, query={"limit": "500"})
    assert listing.status == 422
    assert "query.limit" in listing.json()["fields"]


@pytest.mark.parametrize("name", ["a\x00b", "tab\there", "line\nbreak", "", " ", "..", "x" * 256, "rtl\u202eexe.pdf"])
def test_bad_names_are_refused(setup: tuple[User, dict[str, str]], name: str) -> None:
    owner, params = setup
    body = {"name": name, "content_type": "text/plain", "size": 1, "sha256": sha256_b64(b"x")}
    assert call("POST", f"/workspaces/{params['workspace_id']}/documents", claims=owner.claims, body=body).status == 422


INTERNAL = {"pk", "sk", "gsi1pk", "gsi1sk", "gsi2pk", "gsi2sk", "gsi3pk", "gsi3sk", "ttl", "revision"}
INTERNAL |= {"object_key", "current_object_key", "s3_version_id", "current_s3_version_id", "s3_upload_id"}
INTERNAL |= {"token_hash", "password_hash", "name_lower", "owner_count", "document_count", "status_before_delete"}


def _walk(value: Any, path: str = "") -> list[str]:
    found = []
    if isinstance(value, dict):
        for key, inner in value.items():
            if key in INTERNAL:
                found.append(f"{path}.{key}")
            if key != "url":  # a presigned URL necessarily names the object it signs
                found += _walk(inner, f"{path}.{key}")
    elif isinstance(value, list):
        for n, inner in enumerate(value):
            found += _walk(inner, f"{path}[{n}]")
    elif isinstance(value, str) and value.startswith("documents/"):
        found.append(f"{path}={value}")
    return found


def test_no_response_carries_internal_fields(setup: tuple[User, dict[str, str]]) -> None:
    owner, params = setup
    ws, doc = params["workspace_id"], params["document_id"]
    new_version = {"size": 1, "sha256": sha256_b64(b"x")}
    version = ok(call("POST", f"/documents/{doc}/versions", claims=owner.claims, body=new_version), 201)
    replies = [
        call("GET", "/workspaces", claims=owner.claims),
        call("GET", f"/workspaces/{ws}", claims=owner.claims),
        call("GET", f"/workspaces/{ws}/members", claims=owner.claims),
        call("GET", f"/workspaces/{ws}/documents", claims=owner.claims),
        call("GET", f"/documents/{doc}", claims=owner.claims),
        call("PATCH", f"/documents/{doc}", claims=owner.claims, body={"tags": ["a"]}),
        call("GET", f"/documents/{doc}/download", claims=owner.claims),
        call("GET", f"/uploads/{params['upload_id']}", claims=owner.claims),
        call("GET", f"/workspaces/{ws}/audit", claims=owner.claims),
        call("GET", f"/documents/{doc}/audit", claims=owner.claims),
        call("GET", "/admin/users", claims=owner.claims),
        call("DELETE", f"/documents/{doc}", claims=owner.claims),
        call("POST", f"/documents/{doc}/restore", claims=owner.claims),
    ]
    bodies = [version] + [ok(r, r.status) for r in replies if r.text]
    assert all(r.status < 300 for r in replies), [(r.status, r.text) for r in replies]
    leaks = [leak for body in bodies for leak in _walk(body)]
    assert leaks == []
