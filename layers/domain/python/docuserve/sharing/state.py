"""A link's state, computed from its item at the moment of the request (never from TTL).

DynamoDB TTL deletes expired links some time after ``ttl``; until then the item is still there,
so every read decides expiry itself from ``expires_epoch``.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from docuserve.sharing.errors import DocumentUnavailable, LinkExhausted, LinkExpired, LinkLocked, LinkRevoked


class LinkState(StrEnum):
    ACTIVE = "active"
    EXPIRED = "expired"
    REVOKED = "revoked"
    EXHAUSTED = "used_up"  # SPEC: the download limit is reached
    LOCKED = "locked"
    UNAVAILABLE = "unavailable"  # the document is trashed, purged, not clean, or restored without its links


def downloads_remaining(item: dict[str, Any]) -> int | None:
    """``None`` when the link has no download limit."""
    limit = item.get("max_downloads")
    if limit is None:
        return None
    return max(0, int(limit) - int(item.get("download_count", 0)))


def locked_for(item: dict[str, Any], now_epoch: int) -> int:
    """Seconds until the password lockout ends (0: not locked)."""
    return max(0, int(item.get("locked_until_epoch", 0)) - now_epoch)


def entry_serves(entry: dict[str, Any]) -> bool:
    """Whether one entry of a bundle may be served: the rule of ``serves_document``, per document."""
    return (
        entry.get("document_status") == "available"
        and bool(entry.get("object_key"))
        and not entry.get("suspended_at")
        and not entry.get("held_by")
    )


def is_bundle(item: dict[str, Any]) -> bool:
    return item.get("kind") == "bundle"


def serves_document(item: dict[str, Any]) -> bool:
    """Whether the link's document copy may be served: available, with bytes, and not suspended.

    ``suspended_at`` is set when the document goes to the trash and cleared only by a restore
    that asks for its links back (``resume_links``); ``held_by`` is set while a trash is
    committing (``sharing.links.hold``). A bundle serves while any of its entries does.
    """
    if is_bundle(item):
        return not item.get("activating") and any(entry_serves(e) for e in (item.get("entries") or {}).values())
    return (
        item.get("document_status") == "available"
        and bool(item.get("object_key"))
        and not item.get("suspended_at")
        and not item.get("held_by")
    )


def state_of(item: dict[str, Any], now_epoch: int) -> LinkState:
    """The first of revoked, expired, exhausted, unavailable, locked that applies; otherwise active."""
    if item.get("revoked_at"):
        return LinkState.REVOKED
    if int(item["expires_epoch"]) <= now_epoch:
        return LinkState.EXPIRED
    if downloads_remaining(item) == 0:
        return LinkState.EXHAUSTED
    if not serves_document(item):
        return LinkState.UNAVAILABLE
    if locked_for(item, now_epoch):
        return LinkState.LOCKED
    return LinkState.ACTIVE


def refuse_unusable(item: dict[str, Any], now_epoch: int) -> None:
    """Raise why a partner cannot use this link now (410 or 429); return if it is usable."""
    state = state_of(item, now_epoch)
    if state is LinkState.REVOKED:
        raise LinkRevoked("this link has been revoked")
    if state is LinkState.EXPIRED:
        raise LinkExpired("this link has expired")
    if state is LinkState.EXHAUSTED:
        raise LinkExhausted("this link has reached its download limit")
    if state is LinkState.UNAVAILABLE:
        raise DocumentUnavailable("the shared document is no longer available")
    if state is LinkState.LOCKED:
        wait = locked_for(item, now_epoch)
        raise LinkLocked(f"too many wrong passwords; try again in {wait} seconds", retry_after=wait)
