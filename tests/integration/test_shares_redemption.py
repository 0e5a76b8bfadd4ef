"""Partners open and redeem links: one write per download, and every rule checked at request time."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from docuserve import clock, keys
from docuserve.adapters.store import Store
from docuserve.records import Document
from docuserve.sharing.links import document_changed
from docuserve.sharing.tokens import token_hash
from tests.support.calls import aws_calls
from tests.support.gateway import call
from tests.support.links import OWNER, Seeded, add_version, claims, fast_passwords, seed  # noqa: F401  (fixture)
from tests.support.world import LINK_PASSWORD, build_world

pytestmark = pytest.mark.usefixtures("aws", "fast_passwords")


def _link(s: Seeded, **settings: Any) -> dict[str, Any]:
    reply = call("POST", f"/documents/{s.document_id}/shares", claims=claims(OWNER), body=settings)
    assert reply.status == 201, reply.text
    body: dict[str, Any] = reply.json()
    return body


def _page(token: str) -> Any:
    return call("GET", f"/public/shares/{token}")


def _download(token: str, password: str | None = None) -> Any:
    return call("POST", f"/public/shares/{token}/download", body={} if password is None else {"password": password})


def _later(monkeypatch: pytest.MonkeyPatch, delta: timedelta) -> None:
    moment = clock.now() + delta
    monkeypatch.setattr(clock, "now", lambda: moment)


def test_the_partner_page_shows_what_the_link_offers_and_is_never_cached() -> None:
    s = seed()
    link = _link(s, password="open sesame", max_downloads=3)
    reply = _page(link["token"])
    assert reply.status == 200
    assert reply.json() == {
        "name": "Launch plan.pdf",
        "size": len(s.content),
        "content_type": "application/pdf",
        "expires_at": link["expires_at"],
        "password_required": True,
        "downloads_remaining": 3,
        "sender": "alice@example.com",  # the creator's verified e-mail (tests/support/links.claims)
        "message": None,
        "verification_required": False,
    }
    assert reply.headers["cache-control"] == "no-store"
    assert reply.headers["referrer-policy"] == "no-referrer"


def test_a_download_without_password_is_exactly_one_dynamodb_write_and_no_s3_call() -> None:
    s = seed()
    token = _link(s)["token"]
    with aws_calls() as calls:
        reply = _download(token)
    assert reply.status == 200, reply.text
    assert calls == ["dynamodb:UpdateItem"]
    url = urlparse(reply.json()["url"])
    query = parse_qs(url.query)
    assert url.path.endswith(s.object_key)
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    assert int(query["X-Amz-Expires"][0]) <= 60
    assert query["response-content-disposition"] == ['attachment; filename="Launch plan.pdf"']
    expires = clock.parse(reply.json()["expires_at"])
    assert expires - clock.now() <= timedelta(seconds=60)
    assert reply.headers["cache-control"] == "no-store"


def test_a_download_with_password_is_two_dynamodb_calls() -> None:
    s = seed()
    token = _link(s, password="open sesame")["token"]
    with aws_calls() as calls:
        assert _download(token, "open sesame").status == 200
    assert calls == ["dynamodb:GetItem", "dynamodb:UpdateItem"]


def test_unknown_and_forged_tokens_are_404_and_malformed_ones_never_reach_the_table() -> None:
    s = seed()
    real = _link(s)["token"]
    forged = ("A" if real[0] != "A" else "B") + real[1:]
    for token in (forged, "x" * 43):
        assert _page(token).status == 404
        assert _download(token).status == 404
    with aws_calls() as calls:
        for token in ("short", "x" * 44, "x" * 42 + "!", "%2e%2e", real + "=", "ö" * 43):
            assert _page(token).status == 404, token
            assert _download(token).status == 404, token
    assert calls == []


def test_password_required_then_incorrect_then_correct() -> None:
    s = seed()
    token = _link(s, password="open sesame")["token"]
    missing = _download(token)
    assert (missing.status, missing.json()["code"]) == (403, "password_required")
    wrong = _download(token, "open says me")
    assert (wrong.status, wrong.json()["code"]) == (403, "password_incorrect")
    assert _download(token, "open sesame").status == 200


def test_the_download_limit_is_enforced_and_then_the_link_is_used_up() -> None:
    s = seed()
    token = _link(s, max_downloads=2)["token"]
    assert _download(token).status == 200
    assert _page(token).json()["downloads_remaining"] == 1
    assert _download(token).status == 200
    for reply in (_download(token), _page(token)):
        assert (reply.status, reply.json()["code"]) == (410, "link_exhausted")


def test_expiry_is_enforced_at_read_time_while_the_item_is_still_in_the_table(monkeypatch: pytest.MonkeyPatch) -> None:
    s = seed()
    link = _link(s, expires_in_days=1)
    _later(monkeypatch, timedelta(days=1, seconds=1))
    assert Store().get(keys.link(token_hash(link["token"]))) is not None  # TTL has not run
    for reply in (_page(link["token"]), _download(link["token"])):
        assert (reply.status, reply.json()["code"]) == (410, "link_expired")
    assert call("GET", f"/shares/{link['id']}", claims=claims(OWNER)).json()["state"] == "expired"


def test_revocation_takes_effect_on_the_next_request() -> None:
    s = seed()
    link = _link(s)
    assert _download(link["token"]).status == 200
    assert call("DELETE", f"/shares/{link['id']}", claims=claims(OWNER)).status == 204
    for reply in (_download(link["token"]), _page(link["token"])):
        assert (reply.status, reply.json()["code"]) == (410, "link_revoked")


def test_password_edits_take_effect_on_the_next_request() -> None:
    s = seed()
    link = _link(s)
    path = f"/shares/{link['id']}"
    assert _download(link["token"]).status == 200
    call("PATCH", path, claims=claims(OWNER), body={"password": "first secret"})
    assert _download(link["token"]).json()["code"] == "password_required"
    assert _download(link["token"], "first secret").status == 200
    call("PATCH", path, claims=claims(OWNER), body={"password": "second secret"})
    assert _download(link["token"], "first secret").json()["code"] == "password_incorrect"
    assert _download(link["token"], "second secret").status == 200
    call("PATCH", path, claims=claims(OWNER), body={"password": None})
    assert _download(link["token"]).status == 200


def test_limit_and_expiry_edits_take_effect_on_the_next_request(monkeypatch: pytest.MonkeyPatch) -> None:
    s = seed()
    link = _link(s, max_downloads=1)
    path = f"/shares/{link['id']}"
    assert _download(link["token"]).status == 200
    assert _download(link["token"]).status == 410
    call("PATCH", path, claims=claims(OWNER), body={"max_downloads": 2})
    assert _download(link["token"]).status == 200
    assert _download(link["token"]).status == 410
    call("PATCH", path, claims=claims(OWNER), body={"max_downloads": None})
    assert _download(link["token"]).status == 200
    soon = clock.iso(clock.now() + timedelta(minutes=5))
    call("PATCH", path, claims=claims(OWNER), body={"expires_at": soon})
    assert _download(link["token"]).status == 200
    _later(monkeypatch, timedelta(minutes=5, seconds=1))
    assert _download(link["token"]).json()["code"] == "link_expired"


def test_a_trashed_document_cannot_be_downloaded_through_its_links(aws: Any) -> None:
    # Built and trashed through the routes, so the trash's own link bookkeeping is what is tested.
    world = build_world(aws)
    token = world.token
    assert _download(token, LINK_PASSWORD).status == 200
    trashed = call("DELETE", f"/documents/{world.document_id}", claims=world.owner.claims)
    assert trashed.status == 204, trashed.text
    for reply in (_page(token), _download(token, LINK_PASSWORD)):
        assert (reply.status, reply.json()["code"]) == (410, "document_unavailable")


def test_a_pinned_link_keeps_its_version_and_an_unpinned_one_follows_the_current() -> None:
    s = seed()
    pinned = _link(s, version_id=s.version_id)["token"]
    latest = _link(s)["token"]
    new_version, new_key, new_s3_version = add_version(s.document_id, b"%PDF-1.7 second draft")
    store = Store()
    document = Document.from_item(store.get(keys.document(s.document_id)) or {})
    document.current_version, document.current_object_key = new_version, new_key
    document.current_s3_version_id, document.size = new_s3_version, 21
    document.revision += 1  # every change moves the revision; links refresh only forwards
    document_changed(document)
    assert urlparse(_download(pinned).json()["url"]).path.endswith(s.object_key)
    assert urlparse(_download(latest).json()["url"]).path.endswith(new_key)
    assert _page(latest).json()["size"] == 21
    assert _page(pinned).json()["size"] == len(s.content)


def test_a_download_request_body_may_be_empty_but_not_malformed() -> None:
    s = seed()
    token = _link(s)["token"]
    assert call("POST", f"/public/shares/{token}/download").status == 200
    assert call("POST", f"/public/shares/{token}/download", raw_body="{not json").status in (400, 422)
    assert call("POST", f"/public/shares/{token}/download", body={"password": 5}).status == 422
    assert call("POST", f"/public/shares/{token}/download", body={"password": "x" * 257}).status == 422
