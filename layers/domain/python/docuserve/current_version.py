"""Making a landed version current: the one document write upload processing needs.

Kept apart from ``documents`` so the upload-events function does not import the API's request
and response models (Pydantic) at cold start.
"""

from __future__ import annotations

import contextlib

from docuserve import clock, keys
from docuserve.adapters.store import ConditionFailed, Store
from docuserve.records import Document, Version

RETRIES = 5


def advance_current(document_id: str, version: Version, store: Store) -> Document | None:
    """Make ``version`` current if it is newer than the current one (never backwards).

    Returns the document whose links must follow it: the one just saved, or -- when ``version``
    is already current or older than the current one -- the document as it is, because a delivery
    that made a version current and then crashed (or was throttled) before its links were
    refreshed is redelivered, and its redelivery must finish that refresh (which is idempotent).
    ``None`` when the document is gone or being purged.
    """
    for _ in range(RETRIES):
        item = store.get(keys.document(document_id))
        if item is None:
            return None  # purged meanwhile
        doc, revision = Document.from_item(item), int(item.get("revision", 0))
        if doc.status == "purging":
            return None
        if doc.current_version_number >= version.number:
            return doc
        status, before = doc.status, doc.status_before_delete
        if status == "pending":
            status = "available"
        elif status == "deleted" and before == "pending":
            before = "available"
        try:
            saved = store.update(
                keys.document(document_id),
                "SET current_version = :v, current_object_key = :k, current_s3_version_id = :s3,"
                " current_version_number = :n, #size = :size, sha256 = :sha, content_type = :ct, #s = :status,"
                " status_before_delete = :before, updated_at = :at, revision = :next, scan_status = :scan",
                condition="revision = :rev",
                names={"#s": "status", "#size": "size"},
                expression_values={
                    ":v": version.id,
                    ":k": version.object_key,
                    ":s3": version.s3_version_id,
                    ":n": version.number,
                    ":size": version.size,
                    ":sha": version.sha256,
                    ":ct": version.content_type,
                    ":status": status,
                    ":before": before,
                    ":at": clock.iso(clock.now()),
                    ":rev": revision,
                    ":next": revision + 1,
                    ":scan": version.scan_status,
                },
            )
        except ConditionFailed:
            continue
        return Document.from_item(saved) if saved else None
    raise RuntimeError("document kept changing while a version was being made current")  # retried by SQS


def mark_unclean(document_id: str, scan_status: str, store: Store) -> None:
    """Show an infected or unscannable version on a document that has nothing current yet (its
    first upload); a document with a current version keeps that version's (clean) status.

    Something current (or the document gone) fails the condition: its status stands."""
    with contextlib.suppress(ConditionFailed):
        store.update(
            keys.document(document_id),
            "SET scan_status = :scan, revision = if_not_exists(revision, :zero) + :one",
            condition=(
                "attribute_exists(pk) AND #s <> :purging"
                " AND (attribute_not_exists(current_version_number) OR current_version_number = :zero)"
            ),
            names={"#s": "status"},
            expression_values={":scan": scan_status, ":one": 1, ":zero": 0, ":purging": "purging"},
            return_values="NONE",
        )
