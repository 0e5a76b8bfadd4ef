"""Bad input never yields a 5xx (SPEC promise 10) and responses carry no internal fields (promise 8)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from docuserve.routes import ROUTES, Route
from tests.support.documents import User, ok, sha256_b64
from tests.support.gateway import Reply, call
from tests.support.links import fast_passwords  # noqa: F401  (fixture)
from tests.support.world import World, build_world

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
    '{"parts": [{"part_number": 1, "sha256": "!!"}]}',
    '{"parts": [{"part_number": 1}]}',
    '{"role": "god"}',
    '{"email": ["a"]}',
    json.dumps({"name": "x" * 100_000}),
    json.dumps({"tags": ["t"] * 1000}),
    "\x00\x01",
    b"\xff\xfe\x00garbage",
    '{"name": "x\\ud800", "password": "\\udfff", "label": "\\ud800"}',
    '{"password": NaN, "max_downloads": Infinity}',
    "[" * 1000 + "]" * 1000,
    '{"expires_at": "0001-01-01T00:30:00+01:00"}',
    '{"expires_at": "9999-12-31T23:30:00-01:00", "max_downloads": true}',
    '{"max_downloads": "5", "label": "\u202e"}',
    '{"password": "        "}',
    '{"content_type": "text/plain;,text/html", "name": "a", "size": 1, "sha256": "x"}',
    '{"email": "a@b.c", "role": "owner", "' + "k" * 10_000 + '": 1}',
]
GARBAGE_CONTENT_TYPES = ["text/plain", "application/octet-stream", "APPLICATION/JSON", "application/vnd.api+json", ";"]
GARBAGE_QUERIES = [
    {"limit": "0"},
    {"limit": "201"},
    {"limit": "abc"},
    {"cursor": "%%%"},
    {"cursor": "eyJwayI6IngifQ"},
    {"cursor": "eyJnc2kycGsiOiJ4In0"},
    {"status": "everything"},
    {"purge": "maybe"},
    {"disposition": "evil"},
    {"version_id": "../../x"},
    {"folder": "/a/../b"},
    {"tag": "x" * 500},
    {"q": ""},
]


@pytest.fixture
def setup(aws: Any, fast_passwords: None) -> tuple[User, dict[str, str]]:  # noqa: F811
    world = build_world(aws)
    return world.owner, world.params


@pytest.fixture
def world(aws: Any, fast_passwords: None) -> World:  # noqa: F811
    return build_world(aws)


def _fill(path: str, params: dict[str, str]) -> str:
    for name, value in params.items():
        path = path.replace("{" + name + "}", value)
    return path


def _is_clear(reply: Reply) -> bool:
    """A success, or a refusal below 500 that is a JSON error with a stable code."""
    if reply.status < 300:
        return True
    if not 400 <= reply.status < 500:
        return False
    body = reply.json()
    return isinstance(body, dict) and isinstance(body.get("code") or body.get("message"), str)


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.key)
def test_garbage_never_yields_a_5xx(world: World, route: Route) -> None:
    """Every route of the route table, as an owner whose ids are real, so the rules behind them run."""
    claims = None if route.public else world.owner.claims
    params = world.params
    replies: list[tuple[str, Reply]] = []
    for garbage in GARBAGE_IDS:
        path = _fill(route.path, dict.fromkeys(params, garbage))
        replies.append((f"id {garbage[:20]!r}", call(route.method, path, claims=claims, body={"name": "x"})))
    real = _fill(route.path, params)
    for body in GARBAGE_BODIES:
        replies.append((f"body {body[:40]!r}", call(route.method, real, claims=claims, raw_body=body)))
    for content_type in GARBAGE_CONTENT_TYPES:
        headers = {"content-type": content_type}
        replies.append((content_type, call(route.method, real, claims=claims, raw_body='{"x": 1}', headers=headers)))
    for query in GARBAGE_QUERIES:
        replies.append((f"query {query}", call(route.method, real, claims=claims, query=query)))
    unclear = [(what, r.status, r.text[:200]) for what, r in replies if not _is_clear(r)]
    assert unclear == []


def test_validation_errors_name_the_field(setup: tuple[User, dict[str, str]]) -> None:
    owner, params = setup
    ws = params["workspace_id"]
    cases = {
        "name": {"name": "a/b"},
        "folder": {"folder": "x" * 1100},
        "tags": {"tags": [f"t{n}" for n in range(21)]},
        "sha256": {"sha256": sha256_b64(b"x")[:-2]},
        "size": {"size": -1},
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
