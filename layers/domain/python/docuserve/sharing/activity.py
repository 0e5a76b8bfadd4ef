"""Materialise the audit events that link writes carry in ``last_event`` (from the table's stream).

A partner-side write (download, wrong password, lockout) sets ``last_event`` on the link item in
the same atomic write that changes the counters; a recipient's code request or try sets it on the
address's verification item in the link's partition, which copies the link's share, workspace,
document and label for this (``docuserve.sharing.recipients``). The audit-stream function reads each new image
and appends the event as an audit item with ``attribute_not_exists``, so a retried or duplicated
stream record can never write it twice or overwrite anything.
"""

from __future__ import annotations

from typing import Any

from docuserve import audit
from docuserve.adapters.store import ConditionFailed, Store
from docuserve.keys import LINK_PREFIX


def event_from_image(image: dict[str, Any]) -> audit.AuditEvent | None:
    """The audit event a link item's new image carries, or None (not a link, or no event)."""
    if not str(image.get("pk", "")).startswith(LINK_PREFIX):
        return None
    carried = image.get("last_event")
    if not isinstance(carried, dict) or not carried.get("id") or not carried.get("action"):
        return None
    actor = carried.get("actor") or {}
    details = dict(carried.get("details") or {})
    # Which document and which link, as they were named at the time (activity lists show names).
    details.setdefault("document_name", image.get("document_name"))
    details.setdefault("label", image.get("label"))
    entry = (image.get("entries") or {}).get(details.get("document_id") or "")
    if entry:  # one file of a bundle: name that file and its version
        details["document_name"] = entry.get("document_name")
        details.setdefault("version_id", entry.get("version_id"))
    if carried["action"] == "share.downloaded":
        # Known only after the write: which download this was and which version it served.
        details.setdefault("download_count", image.get("download_count"))
        details.setdefault("version_id", image.get("version_id"))
    return audit.AuditEvent(
        action=str(carried["action"]),
        actor=audit.Actor(
            type=str(actor.get("type", "partner")),
            id=str(actor.get("id") or image.get("share_id", "")),
            ip=actor.get("ip"),
            user_agent=actor.get("user_agent"),
        ),
        workspace_id=image.get("workspace_id"),
        document_id=image.get("document_id") or details.get("document_id"),
        share_id=image.get("share_id"),
        request_id=image.get("request_id"),  # an upload request's partner events (same partition prefix)
        details={k: v for k, v in details.items() if v is not None},
        id=str(carried["id"]),
        at=str(carried["at"]),
    )


def materialise(image: dict[str, Any], store: Store | None = None) -> bool:
    """Append the carried event once; True if this call wrote it, False if absent or already there."""
    event = event_from_image(image)
    if event is None:
        return False
    try:
        audit.record(event, store)
    except ConditionFailed:
        return False  # a retry or duplicate of a record already materialised
    return True
