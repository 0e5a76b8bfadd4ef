"""Members manage share links over the API: create, list, read, edit, revoke, activity."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from docuserve import clock
from docuserve.roles import Role
from tests.support.gateway import call
from tests.support.links import OWNER, add_member, claims, fast_passwords, seed  # noqa: F401  (fixture)
from tests.support.streams import audit_stream

pytestmark = pytest.mark.usefixtures("aws", "fast_passwords")

INTERNAL = ("token_hash", "password_hash", "object_key", "s3_version_id", "pk", "sk", "gsi1pk", "last_event", "ttl")


def _create(doc: str, body: dict[str, Any] | None = None, user: str = OWNER) -> Any:
    return call("POST", f"/documents/{doc}/shares", claims=claims(user), body=body or {})


def test_creating_a_link_returns_its_url_and_token_once_with_the_default_expiry() -> None:
    s = seed()
    reply = _create(s.document_id, {"label": "for ACME"})
    assert reply.status == 201, reply.text
    body = reply.json()
    assert body["url"] == f"http://localhost:8000/s/{body['token']}"
    assert len(body["token"]) == 43
    assert body["state"] == "active"
    assert body["label"] == "for ACME"
    assert body["download_count"] == 0
    assert body["max_downloads"] is None
    assert body["downloads_remaining"] is None
    expires = clock.parse(body["expires_at"])
    assert timedelta(days=6, hours=23) < expires - clock.now() <= timedelta(days=7)

    listed = call("GET", f"/documents/{s.document_id}/shares", claims=claims(OWNER)).json()
    read = call("GET", f"/shares/{body['id']}", claims=claims(OWNER)).json()
    for view in (listed["items"][0], read):
        assert view["id"] == body["id"]
        assert "token" not in view
        assert "url" not in view
        assert body["token"] not in json.dumps(view)


def test_no_management_answer_carries_internal_fields() -> None:
    s = seed()
    created = _create(s.document_id, {"password": "correct horse", "max_downloads": 3}).json()
    answers = [
        json.dumps({k: v for k, v in created.items() if k not in ("token", "url")}),
        call("GET", f"/documents/{s.document_id}/shares", claims=claims(OWNER)).text,
        call("GET", f"/shares/{created['id']}", claims=claims(OWNER)).text,
        call("PATCH", f"/shares/{created['id']}", claims=claims(OWNER), body={"label": "x"}).text,
        call("GET", f"/shares/{created['id']}/activity", claims=claims(OWNER)).text,
    ]
    for text in answers:
        assert created["token"] not in text
        assert "scrypt$" not in text
        assert "correct horse" not in text
        assert s.object_key not in text
        for name in INTERNAL:
            assert f'"{name}"' not in text


INVALID = [
    ({"expires_in_days": 91}, "expires_in_days"),
    ({"expires_in_days": 0}, "expires_in_days"),
    ({"expires_at": "2001-01-01T00:00:00Z"}, "expires_at"),
    ({"expires_at": "2999-01-01T00:00:00Z"}, "expires_at"),
    ({"expires_at": "2030-01-01T00:00:00"}, "expires_at"),  # no time zone
    ({"expires_at": "2999-01-01T00:00:00Z", "expires_in_days": 3}, "expires_at"),
    ({"password": "short"}, "password"),
    ({"max_downloads": 0}, "max_downloads"),
    ({"max_downloads": 10_001}, "max_downloads"),
    ({"label": "x" * 201}, "label"),
    ({"label": "bad\x07label"}, "label"),
    ({"surprise": 1}, "surprise"),
    ({"version_id": 7}, "version_id"),
]


def test_invalid_link_settings_are_422_naming_the_field_and_create_nothing() -> None:
    s = seed()
    for body, field in INVALID:
        reply = _create(s.document_id, body)
        assert reply.status == 422, (body, reply.text)
        assert field in reply.json()["fields"], body
    assert call("GET", f"/documents/{s.document_id}/shares", claims=claims(OWNER)).json()["items"] == []


def test_expiry_can_be_given_in_days_or_as_a_moment() -> None:
    s = seed()
    in_days = _create(s.document_id, {"expires_in_days": 90}).json()
    assert clock.parse(in_days["expires_at"]) - clock.now() > timedelta(days=89, hours=23)
    moment = clock.iso(clock.now() + timedelta(hours=3))
    assert _create(s.document_id, {"expires_at": moment}).json()["expires_at"] == moment


@pytest.mark.parametrize("status", ["pending", "deleted"])
def test_a_document_that_is_not_available_cannot_be_shared(status: str) -> None:
    s = seed(status=status)
    assert _create(s.document_id).status == 409


def test_a_link_can_pin_an_existing_version_and_not_an_unknown_one() -> None:
    s = seed()
    pinned = _create(s.document_id, {"version_id": s.version_id})
    assert pinned.status == 201
    assert pinned.json()["version_id"] == s.version_id
    unknown = _create(s.document_id, {"version_id": s.workspace_id + ".0000000000000000"})
    assert unknown.status == 404


def test_a_viewer_cannot_create_list_read_edit_or_revoke_links() -> None:
    s = seed()
    share = _create(s.document_id).json()["id"]
    add_member(s.workspace_id, "victor", Role.VIEWER)
    viewer = claims("victor")
    assert _create(s.document_id, user="victor").status == 403
    assert call("GET", f"/documents/{s.document_id}/shares", claims=viewer).status == 403
    assert call("GET", f"/shares/{share}", claims=viewer).status == 403
    assert call("PATCH", f"/shares/{share}", claims=viewer, body={"label": "x"}).status == 403
    assert call("DELETE", f"/shares/{share}", claims=viewer).status == 403
    assert call("GET", f"/shares/{share}/activity", claims=viewer).status == 403


def test_another_workspaces_member_cannot_see_edit_or_revoke_a_link() -> None:
    mine, theirs = seed(), seed()
    share = _create(mine.document_id).json()["id"]
    add_member(theirs.workspace_id, "mallory", Role.OWNER)
    outsider = claims("mallory")
    assert _create(mine.document_id, user="mallory").status == 404
    assert call("GET", f"/documents/{mine.document_id}/shares", claims=outsider).status == 404
    assert call("GET", f"/shares/{share}", claims=outsider).status == 404
    assert call("PATCH", f"/shares/{share}", claims=outsider, body={"label": "x"}).status == 404
    assert call("DELETE", f"/shares/{share}", claims=outsider).status == 404
    assert call("GET", f"/shares/{share}/activity", claims=outsider).status == 404
    assert call("GET", f"/shares/{share}", claims=claims(OWNER)).json()["state"] == "active"


def test_unknown_or_malformed_share_ids_are_404() -> None:
    seed()
    for share_id in ("nope", "x" * 300, "0000000000000000", "0000000000000000.0000000000000000", "..%2F..%2Fetc"):
        assert call("GET", f"/shares/{share_id}", claims=claims(OWNER)).status == 404, share_id


def test_edits_change_expiry_password_limit_and_label() -> None:
    s = seed()
    share = _create(s.document_id, {"label": "v1", "max_downloads": 5}).json()["id"]
    path = f"/shares/{share}"
    edited = call(
        "PATCH", path, claims=claims(OWNER), body={"expires_in_days": 30, "password": "a new secret", "label": "v2"}
    ).json()
    assert edited["password_required"] is True
    assert edited["label"] == "v2"
    assert clock.parse(edited["expires_at"]) - clock.now() > timedelta(days=29)
    cleared = call("PATCH", path, claims=claims(OWNER), body={"password": None, "max_downloads": None, "label": None})
    assert cleared.status == 200
    view = cleared.json()
    assert view["password_required"] is False
    assert view["max_downloads"] is None
    assert view["downloads_remaining"] is None
    assert view["label"] is None
    assert call("PATCH", path, claims=claims(OWNER), body={}).status == 422
    assert call("PATCH", path, claims=claims(OWNER), body={"expires_at": None}).status == 422


def test_revoking_is_204_idempotent_and_final() -> None:
    s = seed()
    share = _create(s.document_id).json()["id"]
    assert call("DELETE", f"/shares/{share}", claims=claims(OWNER)).status == 204
    assert call("DELETE", f"/shares/{share}", claims=claims(OWNER)).status == 204
    assert call("GET", f"/shares/{share}", claims=claims(OWNER)).json()["state"] == "revoked"
    assert call("PATCH", f"/shares/{share}", claims=claims(OWNER), body={"label": "x"}).status == 409


def test_activity_lists_management_and_partner_events_newest_first() -> None:
    s = seed()
    created = _create(s.document_id).json()
    call("PATCH", f"/shares/{created['id']}", claims=claims(OWNER), body={"label": "renamed"})
    download = call(
        "POST", f"/public/shares/{created['token']}/download", body={}, headers={"user-agent": "PartnerBrowser/1.0"}
    )
    assert download.status == 200
    call("DELETE", f"/shares/{created['id']}", claims=claims(OWNER))
    from docuserve.settings import get_settings

    audit_stream(get_settings().table_name).drain()
    events = call("GET", f"/shares/{created['id']}/activity", claims=claims(OWNER)).json()["items"]
    actions = sorted(e["action"] for e in events)
    assert actions == ["share.created", "share.downloaded", "share.edited", "share.revoked"]
    (partner,) = [e for e in events if e["action"] == "share.downloaded"]
    assert partner["actor"] == {
        "type": "partner",
        "id": created["id"],
        "ip": "203.0.113.7",
        "user_agent": "PartnerBrowser/1.0",
    }
    assert partner["details"] == {
        "download_count": 1,
        "version_id": s.version_id,
        "document_name": "Launch plan.pdf",  # names for activity lists (web app v2)
        "label": "renamed",
    }
