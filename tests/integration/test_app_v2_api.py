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


# --- a workspace's share links ---


def _second_document(s: Seeded) -> str:
    from docuserve import clock, ids, keys
    from docuserve.adapters.store import Store

    store = Store()
    doc = ids.new_child_id(s.workspace_id)
    item = store.get(keys.document(s.document_id))
    assert item is not None
    now = clock.iso(clock.now())
    store.put({**item, **keys.document(doc), "id": doc, "name": "Budget.xlsx", "created_at": now, "updated_at": now})
    return doc


def test_a_workspace_lists_every_link_of_its_documents_newest_first_and_pages() -> None:
    s = seed()
    other = seed()  # another workspace's link never shows
    _link(other)
    budget = _second_document(s)
    first = _link(s, label="Acme")
    second = call("POST", f"/documents/{budget}/shares", claims=claims(OWNER), body={"label": "Bank"}).json()
    third = _link(s, label="Auditor")
    path = f"/workspaces/{s.workspace_id}/links"
    reply = call("GET", path, claims=claims(OWNER))
    assert reply.status == 200, reply.text
    items = reply.json()["items"]
    assert [i["id"] for i in items] == [third["id"], second["id"], first["id"]]
    assert {i["document_name"] for i in items} == {"Launch plan.pdf", "Budget.xlsx"}
    assert items[0]["label"] == "Auditor"
    assert items[0]["state"] == "active"
    assert items[0]["last_used_at"] is None

    page_1 = call("GET", path, claims=claims(OWNER), query={"limit": "2"}).json()
    assert len(page_1["items"]) == 2
    assert page_1["next_cursor"]
    page_2 = call("GET", path, claims=claims(OWNER), query={"limit": "2", "cursor": page_1["next_cursor"]}).json()
    assert [i["id"] for i in page_1["items"] + page_2["items"]] == [third["id"], second["id"], first["id"]]


def test_the_workspace_links_filter_by_state() -> None:
    s = seed()
    kept = _link(s, label="Kept")
    gone = _link(s, label="Gone")
    assert call("DELETE", f"/shares/{gone['id']}", claims=claims(OWNER)).status == 204
    path = f"/workspaces/{s.workspace_id}/links"
    revoked = call("GET", path, claims=claims(OWNER), query={"state": "revoked"}).json()["items"]
    assert [i["id"] for i in revoked] == [gone["id"]]
    active = call("GET", path, claims=claims(OWNER), query={"state": "active", "limit": "1"}).json()
    assert [i["id"] for i in active["items"]] == [kept["id"]]


def test_an_unknown_state_filter_is_a_422_naming_state() -> None:
    s = seed()
    reply = call("GET", f"/workspaces/{s.workspace_id}/links", claims=claims(OWNER), query={"state": "gone"})
    assert reply.status == 422, reply.text
    assert "state" in reply.text


def test_partner_and_member_link_events_carry_the_document_name_and_the_label() -> None:
    from docuserve.sharing.activity import event_from_image

    s = seed()
    link = _link(s, label="Acme")
    image = {
        "pk": "LINK#x",
        "share_id": link["id"],
        "document_name": "Launch plan.pdf",
        "label": "Acme",
        "download_count": 1,
        "last_event": {"id": "e1", "at": "2026-01-01T00:00:00Z", "action": "share.downloaded", "actor": {}},
    }
    event = event_from_image(image)
    assert event is not None
    assert event.details["document_name"] == "Launch plan.pdf"
    assert event.details["label"] == "Acme"
    assert call("DELETE", f"/shares/{link['id']}", claims=claims(OWNER)).status == 204
    events = call("GET", f"/shares/{link['id']}/activity", claims=claims(OWNER)).json()["items"]
    revoked = next(e for e in events if e["action"] == "share.revoked")
    created = next(e for e in events if e["action"] == "share.created")
    assert revoked["details"] == {"document_name": "Launch plan.pdf", "label": "Acme"}
    assert created["details"]["document_name"] == "Launch plan.pdf"


# --- old versions download under their own name ---


def test_an_older_version_downloads_under_a_name_carrying_its_number_and_its_own_type() -> None:
    from urllib.parse import parse_qs, urlparse

    from docuserve import keys
    from docuserve.adapters.store import Store
    from tests.support.links import add_version

    s = seed()
    older, _, _ = add_version(s.document_id, b"hello")
    Store().update(
        keys.version(s.document_id, older),
        "SET #n = :n, content_type = :t",
        names={"#n": "number"},
        expression_values={":n": 2, ":t": "text/plain"},
    )

    def served(version_id: str) -> dict[str, list[str]]:
        reply = call(
            "GET", f"/documents/{s.document_id}/download", claims=claims(OWNER), query={"version_id": version_id}
        )
        assert reply.status == 200, reply.text
        return parse_qs(urlparse(reply.json()["url"]).query)

    old = served(older)
    assert old["response-content-disposition"] == ['attachment; filename="Launch plan (v2).pdf"']
    assert old["response-content-type"] == ["text/plain"]
    current = served(s.version_id)
    assert current["response-content-disposition"] == ['attachment; filename="Launch plan.pdf"']


def test_versioned_name_keeps_the_extension() -> None:
    from docuserve.documents.download import versioned_name

    assert versioned_name("report.pdf", 2) == "report (v2).pdf"
    assert versioned_name("archive.tar.gz", 3) == "archive.tar (v3).gz"
    assert versioned_name("README", 4) == "README (v4)"
    assert versioned_name(".env", 5) == ".env (v5)"
