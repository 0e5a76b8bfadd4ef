"""Each class of bad input from issue 12 gets a clear 4xx with a stable code, never a 5xx (SPEC promise 10).

Given an owner's real workspace, document, upload and link (so requests reach the rules), when a
request carries the bad input, then the answer is the documented refusal and nothing stored changed.
"""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.support.documents import create_document, ok, sha256_b64
from tests.support.gateway import Reply, call
from tests.support.links import fast_passwords  # noqa: F401  (fixture)
from tests.support.world import World, build_world, snapshot

SURROGATE = '"x\\ud800"'  # valid JSON text, no Unicode string


@pytest.fixture
def world(aws: Any, fast_passwords: None) -> World:  # noqa: F811
    return build_world(aws)


def _raw(world: World, method: str, path: str, body: str, *, public: bool = False, **headers: str) -> Reply:
    return call(method, path, claims=None if public else world.owner.claims, raw_body=body, headers=headers or None)


def _refused(aws: Any, reply_of: Any, status: int, code: str, field: str | None = None) -> None:
    before = snapshot(aws)
    reply = reply_of()
    assert reply.status == status, (reply.status, reply.text)
    body = reply.json()
    assert body["code"] == code, body
    if field is not None:
        assert field in body["fields"], body
    assert snapshot(aws) == before, "a refused request changed stored state"


# --- lone surrogates ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "template", "field"),
    [
        ("POST", "/public/shares/{token}/download", '{"password": %s}', "password"),
        ("POST", "/workspaces", '{"name": %s}', "name"),
        ("POST", "/workspaces", '{"name": "ok", "description": %s}', "description"),
        ("PATCH", "/workspaces/{workspace_id}", '{"name": %s}', "name"),
        ("PATCH", "/documents/{document_id}", '{"name": %s}', "name"),
        ("PATCH", "/documents/{document_id}", '{"tags": ["a", %s]}', "tags.1"),
        ("PATCH", "/shares/{share_id}", '{"label": %s}', "label"),
        ("POST", "/documents/{document_id}/shares", '{"password": %s}', "password"),
        ("POST", "/workspaces/{workspace_id}/members", '{"email": %s, "role": "viewer"}', "email"),
        ("POST", "/workspaces/{workspace_id}/documents", "{%s: 1}", "x\\ud800"),
    ],
)
def test_a_lone_surrogate_is_a_422_naming_the_field(
    aws: Any, world: World, method: str, path: str, template: str, field: str
) -> None:
    url = path.format(**world.params)
    public = url.startswith("/public/")
    _refused(aws, lambda: _raw(world, method, url, template % SURROGATE, public=public), 422, "validation_error", field)


def test_a_lone_surrogate_in_a_document_name_is_a_422_not_a_404(aws: Any, world: World) -> None:
    body = json.dumps({"content_type": "text/plain", "size": 1, "sha256": sha256_b64(b"x")})[:-1]
    body += ', "name": ' + SURROGATE + "}"
    url = f"/workspaces/{world.workspace_id}/documents"
    _refused(aws, lambda: _raw(world, "POST", url, body), 422, "validation_error", "name")


# --- deep JSON ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/workspaces"),
        ("PATCH", "/documents/{document_id}"),
        ("POST", "/uploads/{upload_id}/complete"),
        ("POST", "/admin/users"),
        ("POST", "/public/shares/{token}/download"),
        ("GET", "/health"),
    ],
)
@pytest.mark.parametrize("depth", [33, 1_000, 100_000])
def test_json_nested_deeply_is_a_422(aws: Any, world: World, method: str, path: str, depth: int) -> None:
    url = path.format(**world.params)
    body = '{"name": ' + "[" * depth + "]" * depth + "}"
    public = url.startswith("/public/") or url == "/health"
    _refused(aws, lambda: _raw(world, method, url, body, public=public), 422, "validation_error")


def test_json_nested_as_deep_as_a_model_goes_still_works(world: World) -> None:
    body = {"parts": [{"part_number": 1, "etag": '"abc"', "sha256": base64.b64encode(bytes(32)).decode()}]}
    reply = call("POST", f"/uploads/{world.upload_id}/complete", claims=world.owner.claims, body=body)
    assert reply.status != 422 or "body" not in reply.json().get("fields", {}), reply.text


# --- bodies that are JSON but not an object ----------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        # A list around a valid body: Powertools would validate its first element and act on it.
        ("POST", "/workspaces/{workspace_id}/folders", '[{"path": "/wrapped"}]'),
        ("POST", "/workspaces", '[{"name": "Wrapped"}]'),
        ("PATCH", "/shares/{share_id}", '[{"label": "wrapped"}]'),
        ("POST", "/public/shares/{token}/download", '[{"password": "x"}]'),
        ("POST", "/workspaces", '"Plans"'),
        ("POST", "/workspaces", "42"),
        ("POST", "/workspaces", "[]"),
    ],
)
def test_a_body_that_is_not_a_json_object_is_a_422_naming_the_body(
    aws: Any, world: World, method: str, path: str, body: str
) -> None:
    url = path.format(**world.params)
    _refused(
        aws, lambda: _raw(world, method, url, body, public=url.startswith("/public/")), 422, "validation_error", "body"
    )


# --- bodies that are not JSON ------------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/octet-stream", "application/vnd.api+json", "application/jsonx", "", "json"],
)
@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/workspaces"), ("PATCH", "/shares/{share_id}"), ("POST", "/public/shares/{token}/download")],
)
def test_a_body_that_is_not_json_is_a_415(aws: Any, world: World, method: str, path: str, content_type: str) -> None:
    url = path.format(**world.params)
    public = url.startswith("/public/")
    body = json.dumps({"name": "Plans"})
    reply_of = lambda: _raw(world, method, url, body, public=public, **{"content-type": content_type})  # noqa: E731
    _refused(aws, reply_of, 415, "unsupported_media_type")


@pytest.mark.parametrize(
    "content_type",
    ["application/json", "application/json; charset=utf-8", "APPLICATION/JSON", "Application/Json;charset=UTF-8"],
)
def test_json_with_any_case_or_charset_is_json(world: World, content_type: str) -> None:
    reply = _raw(world, "POST", "/workspaces", json.dumps({"name": "Plans"}), **{"content-type": content_type})
    assert reply.status == 201, reply.text


def test_an_empty_body_needs_no_content_type(world: World) -> None:
    reply = call("POST", f"/public/shares/{world.token}/download", raw_body="", headers={"content-type": "text/plain"})
    assert reply.json()["code"] == "password_required", reply.text  # the body was not the problem


@pytest.mark.parametrize("body", ['{"password": NaN}', '{"password": Infinity}', "[-Infinity]"])
def test_json_constants_outside_rfc_8259_are_a_422(aws: Any, world: World, body: str) -> None:
    url = f"/public/shares/{world.token}/download"
    _refused(aws, lambda: _raw(world, "POST", url, body, public=True), 422, "validation_error", "body")


# --- extreme moments ---------------------------------------------------------------------------


@pytest.mark.parametrize("moment", ["0001-01-01T00:30:00+01:00", "9999-12-31T23:30:00-01:00"])
@pytest.mark.parametrize(
    ("method", "path"), [("POST", "/documents/{document_id}/shares"), ("PATCH", "/shares/{share_id}")]
)
def test_an_expiry_with_no_utc_form_is_a_422(aws: Any, world: World, method: str, path: str, moment: str) -> None:
    url = path.format(**world.params)
    body = json.dumps({"expires_at": moment})
    _refused(aws, lambda: _raw(world, method, url, body), 422, "validation_error", "expires_at")


# --- cursors -----------------------------------------------------------------------------------


def _cursor(value: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    ("path", "cursor_of"),
    [
        ("/documents/{document_id}/shares", lambda w: {"gsi2pk": f"DOC#{w.document_id}#SHARES"}),
        ("/documents/{document_id}/shares", lambda w: {"pk": "x", "sk": "y", "gsi2pk": f"DOC#{w.document_id}#SHARES"}),
        ("/workspaces/{workspace_id}/members", lambda w: {"pk": f"WS#{w.workspace_id}"}),
        ("/workspaces/{workspace_id}/members", lambda w: {"pk": f"WS#{w.workspace_id}", "sk": ""}),
        ("/workspaces/{workspace_id}/members", lambda w: {"pk": f"WS#{w.workspace_id}", "sk": "MEMBER#\ud800"}),
        ("/workspaces/{workspace_id}/documents", lambda w: {"pk": "x", "sk": "y"}),
        ("/workspaces", lambda w: {"gsi1pk": f"USER#{w.owner.id}"}),
        ("/shares/{share_id}/activity", lambda w: {"pk": "x"}),
        ("/workspaces/{workspace_id}/audit", lambda w: {"pk": f"WS#{w.workspace_id}#AUDIT"}),
    ],
)
def test_a_cursor_without_all_its_key_attributes_is_a_422(aws: Any, world: World, path: str, cursor_of: Any) -> None:
    url = path.format(**world.params)
    cursor = _cursor(cursor_of(world))
    _refused(
        aws,
        lambda: call("GET", url, claims=world.owner.claims, query={"cursor": cursor}),
        422,
        "validation_error",
        "cursor",
    )


def test_a_cursor_the_api_issued_still_pages(world: World) -> None:
    for _ in range(2):
        ok(call("POST", f"/documents/{world.document_id}/shares", claims=world.owner.claims, body={}), 201)
    url = f"/documents/{world.document_id}/shares"
    first = ok(call("GET", url, claims=world.owner.claims, query={"limit": "2"}))
    assert first["next_cursor"]
    second = ok(call("GET", url, claims=world.owner.claims, query={"limit": "2", "cursor": first["next_cursor"]}))
    assert len(first["items"]) + len(second["items"]) == 3


# --- 204 has no body ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("DELETE", "/shares/{share_id}"),
        ("DELETE", "/documents/{document_id}"),
        ("DELETE", "/uploads/{upload_id}"),
        ("DELETE", "/workspaces/{workspace_id}/members/{user_id}"),
    ],
)
def test_a_204_has_no_body(world: World, method: str, path: str) -> None:
    reply = call(method, path.format(**world.params), claims=world.owner.claims)
    assert reply.status == 204, reply.text
    assert reply.text == ""
    assert "content-type" not in reply.headers


# --- media types -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    ["text/plain;,text/html", "text/plain,text/html", "text/plain; charset", 'text/plain; a="b', "text/plain\x00"],
)
def test_a_content_type_that_is_not_a_media_type_is_a_422(aws: Any, world: World, content_type: str) -> None:
    body = json.dumps({"name": "x.txt", "content_type": content_type, "size": 1, "sha256": sha256_b64(b"x")})
    url = f"/workspaces/{world.workspace_id}/documents"
    _refused(aws, lambda: _raw(world, "POST", url, body), 422, "validation_error", "content_type")


def test_the_content_type_is_stored_normalised(world: World) -> None:
    created = create_document(
        world.owner, world.workspace_id, b"x", name="n.txt", content_type="Text/Plain ;CHARSET=UTF-8"
    )
    assert created["document"]["content_type"] == "text/plain; charset=utf-8"
    assert created["upload"]["headers"]["Content-Type"] == "text/plain; charset=utf-8"


def test_an_inline_download_names_the_allow_listed_type_itself(aws: Any, world: World) -> None:
    from tests.support.documents import upload

    created = create_document(
        world.owner, world.workspace_id, b"hi", name="n.txt", content_type="text/plain; charset=utf-8"
    )
    upload(aws, created["upload"]["upload_id"], b"hi")
    reply = call(
        "GET",
        f"/documents/{created['document']['id']}/download",
        claims=world.owner.claims,
        query={"disposition": "inline"},
    )
    query = parse_qs(urlsplit(ok(reply)["url"]).query)
    assert query["response-content-type"] == ["text/plain"]
    assert query["response-content-disposition"][0].startswith("inline")


# --- loose types -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("max_downloads", "5"),
        ("max_downloads", 2.0),
        ("max_downloads", True),
        ("expires_in_days", "3"),
        ("expires_in_days", 3.0),
        ("expires_in_days", False),
        ("label", "invoice\u202efdp.exe"),
        ("label", "tab\there"),
        ("label", "zero\u200bwidth"),
        ("password", " " * 8),
        ("password", "\t\n" * 6),
    ],
)
@pytest.mark.parametrize(
    ("method", "path"), [("POST", "/documents/{document_id}/shares"), ("PATCH", "/shares/{share_id}")]
)
def test_share_fields_take_only_their_own_type_and_rules(
    aws: Any, world: World, method: str, path: str, field: str, value: Any
) -> None:
    url = path.format(**world.params)
    _refused(
        aws, lambda: call(method, url, claims=world.owner.claims, body={field: value}), 422, "validation_error", field
    )


def test_a_label_with_a_slash_and_inner_spaces_is_fine(world: World) -> None:
    reply = call("PATCH", f"/shares/{world.share_id}", claims=world.owner.claims, body={"label": "  Q3 / partners  "})
    assert ok(reply)["label"] == "Q3 / partners"


def test_the_state_snapshot_sees_an_accepted_change(aws: Any, world: World) -> None:
    # Guards the helper every "nothing changed" assertion above relies on.
    before = snapshot(aws)
    ok(call("PATCH", f"/shares/{world.share_id}", claims=world.owner.claims, body={"label": "seen"}))
    assert snapshot(aws) != before
    before = snapshot(aws)
    ok(
        call(
            "POST",
            f"/documents/{world.document_id}/versions",
            claims=world.owner.claims,
            body={"size": 1, "sha256": sha256_b64(b"x")},
        ),
        201,
    )
    assert snapshot(aws) != before
