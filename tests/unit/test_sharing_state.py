"""A link's state and the partner's answer are decided from the item at request time."""

from __future__ import annotations

from typing import Any

import pytest

from docuserve.errors import DomainError
from docuserve.sharing import activity
from docuserve.sharing.state import LinkState, downloads_remaining, refuse_unusable, state_of

NOW = 1_800_000_000


def _link(**changes: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "pk": "LINK#abc",
        "sk": "LINK",
        "share_id": "ws.share",
        "workspace_id": "ws",
        "document_id": "ws.doc",
        "expires_epoch": NOW + 60,
        "download_count": 0,
        "document_status": "available",
        "object_key": "documents/ws/ws.doc/ws.v",
        "version_id": "ws.v",
    }
    item.update(changes)
    return item


@pytest.mark.parametrize(
    ("changes", "state", "code"),
    [
        ({}, LinkState.ACTIVE, None),
        ({"expires_epoch": NOW}, LinkState.EXPIRED, "link_expired"),
        ({"revoked_at": "2027-01-01T00:00:00.000Z", "expires_epoch": NOW - 1}, LinkState.REVOKED, "link_revoked"),
        ({"max_downloads": 2, "download_count": 2}, LinkState.EXHAUSTED, "link_exhausted"),
        ({"max_downloads": 1, "download_count": 3}, LinkState.EXHAUSTED, "link_exhausted"),  # limit lowered
        ({"locked_until_epoch": NOW + 1}, LinkState.LOCKED, "link_locked"),
        ({"locked_until_epoch": NOW}, LinkState.ACTIVE, None),
        ({"document_status": "deleted"}, LinkState.UNAVAILABLE, "document_unavailable"),
        ({"document_status": "purging"}, LinkState.UNAVAILABLE, "document_unavailable"),
        ({"document_status": "purged", "object_key": None}, LinkState.UNAVAILABLE, "document_unavailable"),
        ({"suspended_at": "2027-01-01T00:00:00.000Z"}, LinkState.UNAVAILABLE, "document_unavailable"),
        ({"document_status": "deleted", "locked_until_epoch": NOW + 1}, LinkState.UNAVAILABLE, "document_unavailable"),
        ({"document_status": "deleted", "revoked_at": "2027-01-01T00:00:00.000Z"}, LinkState.REVOKED, "link_revoked"),
    ],
)
def test_state_and_refusal(changes: dict[str, Any], state: LinkState, code: str | None) -> None:
    item = _link(**changes)
    assert state_of(item, NOW) is state
    if code is None:
        refuse_unusable(item, NOW)
    else:
        with pytest.raises(DomainError) as refused:
            refuse_unusable(item, NOW)
        assert refused.value.code == code


def test_a_locked_link_says_when_to_come_back() -> None:
    with pytest.raises(DomainError) as refused:
        refuse_unusable(_link(locked_until_epoch=NOW + 90), NOW)
    assert getattr(refused.value, "retry_after", None) == 90


def test_downloads_remaining_is_null_without_a_limit() -> None:
    assert downloads_remaining(_link()) is None
    assert downloads_remaining(_link(max_downloads=5, download_count=2)) == 3


def test_the_stream_turns_a_carried_download_event_into_an_audit_event() -> None:
    carried = {
        "id": "e1",
        "at": "2027-01-15T08:00:00.000Z",
        "action": "share.downloaded",
        "actor": {"type": "partner", "ip": "198.51.100.9", "user_agent": "curl/8"},
    }
    event = activity.event_from_image(_link(last_event=carried, download_count=3))
    assert event is not None
    assert (event.id, event.at, event.action) == ("e1", "2027-01-15T08:00:00.000Z", "share.downloaded")
    assert (event.workspace_id, event.document_id, event.share_id) == ("ws", "ws.doc", "ws.share")
    assert event.actor.id == "ws.share"
    assert event.actor.ip == "198.51.100.9"
    assert event.details == {"download_count": 3, "version_id": "ws.v"}


@pytest.mark.parametrize(
    "image",
    [
        _link(),  # no event carried
        {"pk": "DOC#x", "sk": "DOC", "last_event": {"id": "e", "at": "t", "action": "a"}},  # not a link
        _link(last_event={"at": "t"}),  # malformed
    ],
)
def test_images_without_a_link_event_materialise_nothing(image: dict[str, Any]) -> None:
    assert activity.event_from_image(image) is None
