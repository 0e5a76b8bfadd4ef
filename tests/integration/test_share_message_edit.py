"""A link's message to the partner can be edited after creation (``PATCH /shares/{id}`` with
``message``): the next visit of the partner page shows the new text; blank or null removes it."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.gateway import call
from tests.support.links import OWNER, claims, fast_passwords, seed  # noqa: F401  (fixture)

pytestmark = pytest.mark.usefixtures("aws", "fast_passwords")


def _link(message: str | None = "First note") -> dict[str, Any]:
    s = seed()
    reply = call("POST", f"/documents/{s.document_id}/shares", claims=claims(OWNER), body={"message": message})
    assert reply.status == 201, reply.text
    body: dict[str, Any] = reply.json()
    return body


def _edit(link: dict[str, Any], body: dict[str, Any]) -> Any:
    return call("PATCH", f"/shares/{link['id']}", claims=claims(OWNER), body=body)


def test_editing_the_message_changes_what_the_partner_page_shows_and_is_audited() -> None:
    link = _link()
    reply = _edit(link, {"message": "  Hi Bob,\r\nthe signed copy.  "})
    assert reply.status == 200, reply.text
    assert reply.json()["message"] == "Hi Bob,\nthe signed copy."
    assert reply.json()["label"] == link["label"]  # nothing else changed
    page = call("GET", f"/public/shares/{link['token']}").json()
    assert page["message"] == "Hi Bob,\nthe signed copy."
    activity = call("GET", f"/shares/{link['id']}/activity", claims=claims(OWNER)).json()["items"]
    edited = next(e for e in activity if e["action"] == "share.edited")
    assert edited["details"]["changed"] == ["message"]


@pytest.mark.parametrize("cleared", [None, "", "   "])
def test_a_blank_or_null_message_removes_it(cleared: str | None) -> None:
    link = _link()
    reply = _edit(link, {"message": cleared})
    assert reply.status == 200, reply.text
    assert reply.json()["message"] is None
    assert call("GET", f"/public/shares/{link['token']}").json()["message"] is None


def test_a_message_can_be_added_to_a_link_created_without_one() -> None:
    link = _link(None)
    assert _edit(link, {"message": "Added later"}).json()["message"] == "Added later"


@pytest.mark.parametrize(("message", "says"), [("x" * 1001, "at most 1000"), ("bell \x07", "control characters")])
def test_a_bad_message_is_a_422_naming_the_field_and_changes_nothing(message: str, says: str) -> None:
    link = _link()
    reply = _edit(link, {"message": message})
    assert reply.status == 422, reply.text
    assert "message" in reply.text
    assert says in reply.text
    assert call("GET", f"/public/shares/{link['token']}").json()["message"] == "First note"


def test_a_revoked_links_message_cannot_be_edited() -> None:
    link = _link()
    assert call("DELETE", f"/shares/{link['id']}", claims=claims(OWNER)).status == 204
    assert _edit(link, {"message": "too late"}).status == 409
