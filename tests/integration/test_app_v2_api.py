"""API behind the web app v2 (issue 15): the partner page's sender and message, the count a
download leaves, and a workspace's list of share links."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.gateway import call
from tests.support.links import OWNER, Seeded, claims, fast_passwords, seed  # noqa: F401  (fixture)

pytestmark = pytest.mark.usefixtures("aws", "fast_passwords")


def _link(s: Seeded, **settings: Any) -> dict[str, Any]:
    reply = call("POST", f"/documents/{s.document_id}/shares", claims=claims(OWNER), body=settings)
    assert reply.status == 201, reply.text
    body: dict[str, Any] = reply.json()
    return body


def test_the_partner_page_names_the_sender_and_carries_the_message_as_plain_text() -> None:
    s = seed()
    text = "Hi Bob,\nhere is the <b>plan</b> & the numbers.\r\nRegards"
    link = _link(s, message=text)
    assert link["message"] == "Hi Bob,\nhere is the <b>plan</b> & the numbers.\nRegards"
    assert link["sender"] == "alice@example.com"
    page = call("GET", f"/public/shares/{link['token']}").json()
    assert page["sender"] == "alice@example.com"
    assert page["message"] == link["message"]  # stored and served as text: the page never parses it
    listed = call("GET", f"/documents/{s.document_id}/shares", claims=claims(OWNER)).json()["items"]
    assert listed[0]["message"] == link["message"]


def test_an_unverified_creator_is_not_named_and_a_blank_message_is_none() -> None:
    s = seed()
    unverified = claims(OWNER) | {"email_verified": "false"}
    reply = call("POST", f"/documents/{s.document_id}/shares", claims=unverified, body={"message": "   "})
    assert reply.status == 201, reply.text
    page = call("GET", f"/public/shares/{reply.json()['token']}").json()
    assert page["sender"] is None
    assert page["message"] is None


@pytest.mark.parametrize(
    ("message", "says"),
    [
        ("x" * 1001, "at most 1000"),
        ("bell \x07", "control characters"),
        ("bidi \u202e override", "control characters"),
        (42, "valid string"),
    ],
)
def test_a_bad_message_is_a_422_naming_the_field(message: Any, says: str) -> None:
    s = seed()
    reply = call("POST", f"/documents/{s.document_id}/shares", claims=claims(OWNER), body={"message": message})
    assert reply.status == 422, reply.text
    assert "message" in reply.text
    assert says in reply.text


def test_a_download_answers_how_many_downloads_are_left_and_the_link_records_its_last_use() -> None:
    s = seed()
    link = _link(s, max_downloads=2)
    first = call("POST", f"/public/shares/{link['token']}/download", body={})
    assert first.status == 200, first.text
    assert first.json()["downloads_remaining"] == 1
    second = call("POST", f"/public/shares/{link['token']}/download", body={})
    assert second.json()["downloads_remaining"] == 0
    unlimited = _link(s)
    assert call("POST", f"/public/shares/{unlimited['token']}/download", body={}).json()["downloads_remaining"] is None
    view = call("GET", f"/shares/{link['id']}", claims=claims(OWNER)).json()
    assert view["last_used_at"] is not None
    assert view["state"] == "used_up"
