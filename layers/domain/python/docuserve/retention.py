"""Trash retention: documents trashed longer than ``limits.trash_days`` are purged for good.

The trash sweeper (``handlers.trash_sweeper``, daily on an EventBridge schedule) Queries the sparse
trash index gsi4 (partition ``TRASH``, sort key ``{deleted_at}#{document_id}``) for entries older
than the cutoff, oldest first, and purges each through ``documents.purge_trashed`` -- the same
code the owner's purge route runs -- as the system actor, recording ``document.expired_from_trash``.

Work per run is bounded: it stops while enough of the Lambda's time is left (and, if asked, after
a number of documents); what is left stays in the index and the next run continues with it.
Every candidate is re-read consistently before it goes (the index is eventually consistent), so
a document restored or re-trashed since is never swept early.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from docuserve import clock, keys
from docuserve.adapters.store import Store
from docuserve.audit import Actor
from docuserve.documents import purge_trashed
from docuserve.errors import Conflict
from docuserve.observability import BusinessMetric, count, logger
from docuserve.records import Document
from docuserve.settings import get_settings

EXPIRED_ACTION = "document.expired_from_trash"
PAGE = 100
# Stop before less than this much of the invocation is left: one purge of a document with many
# versions lists and deletes its objects in pages of 1,000, which stays well below a minute.
RESERVE_MS = 60_000
# The lowest possible sort key: every gsi4sk starts with an ISO 8601 year.
_LOWEST = "0"


def cutoff(now: datetime, trash_days: int) -> str:
    """The gsi4 sort-key bound: documents trashed strictly before ``now - trash_days`` expire.

    ``{deleted_at}#{id}`` sorts after the bare timestamp it starts with, so a document trashed
    exactly at the cutoff instant is not yet expired (BETWEEN is inclusive of the bound itself).
    """
    return clock.iso(now - timedelta(days=trash_days))


@dataclass(frozen=True)
class SweepResult:
    purged: int  # documents purged by this run
    skipped: int  # candidates no longer eligible (restored, re-trashed, purged or changed meanwhile)
    failed: int  # candidates whose purge raised an unexpected error (they stay for the next run)
    finished: bool  # False when the run stopped at its budget with candidates left


def sweep(
    *,
    remaining_ms: Callable[[], int] | None = None,
    max_documents: int | None = None,
    reserve_ms: int = RESERVE_MS,
    store: Store | None = None,
) -> SweepResult:
    """Purge the expired trash, oldest first, within the budget; see the module docstring."""
    store = store or Store()
    limits = get_settings().limits
    bound = cutoff(clock.now(), limits.trash_days)
    details = {"reason": "trash_retention", "trash_days": limits.trash_days}
    purged = skipped = failed = 0
    cursor: str | None = None

    def out_of_budget() -> bool:
        if max_documents is not None and purged + failed >= max_documents:
            return True
        return remaining_ms is not None and remaining_ms() < reserve_ms

    while True:
        page = store.query(keys.TRASH_INDEX_PK, index="gsi4", sk_between=(_LOWEST, bound), limit=PAGE, cursor=cursor)
        for entry in page.items:
            if out_of_budget():
                return _done(purged, skipped, failed, finished=False)
            item = store.get(keys.document(str(entry["id"])))
            doc = Document.from_item(item) if item else None
            # ``purging``: a purge that failed half-way (its items are kept); this one finishes it.
            if doc is None or doc.status not in ("deleted", "purging") or not doc.deleted_at or doc.deleted_at >= bound:
                skipped += 1
                continue
            try:
                purge_trashed(
                    doc,
                    Actor.system(),
                    store=store,
                    action=EXPIRED_ACTION,
                    details={**details, "deleted_at": doc.deleted_at},
                )
            except Conflict:  # restored or changed between the re-read and the purge: not expired now
                logger.warning("expired document changed while being purged", extra={"document_id": doc.id})
                skipped += 1
                continue
            except Exception:  # one document that cannot be purged must not block the ones after it
                logger.exception("purging an expired document failed", extra={"document_id": doc.id})
                failed += 1
                continue
            purged += 1
        cursor = page.next_cursor
        if not cursor:
            return _done(purged, skipped, failed, finished=True)


def _done(purged: int, skipped: int, failed: int, *, finished: bool) -> SweepResult:
    result = SweepResult(purged=purged, skipped=skipped, failed=failed, finished=finished)
    if purged:
        count(BusinessMetric.DOCUMENTS_EXPIRED, purged)
    logger.info("trash sweep", extra={"purged": purged, "skipped": skipped, "failed": failed, "finished": finished})
    return result
