"""The expiry sweep: upload sessions past their deadline stop being "Uploading" forever.

Every session carries the sparse gsi4 keys ``UPLOADS_DUE`` / ``{due}#{upload}`` (``uploads.plan``),
so one Query finds those whose deadline has passed, oldest first, without a Scan. For each:

- still ``pending``: ``uploads.expire`` fails it with reason ``expired`` (aborting S3's multipart
  upload) and discards its document if nothing of it ever landed;
- ended without landing (verification failed, S3 refused the parts): the never-landed document of
  a first upload is discarded (``uploads.discard_unlanded``);
- anything else (landed, completing): nothing to do.

Then the keys are removed, so each session is visited once. A ``completing`` session keeps them:
its job decides it (and its dead-letter queue raises an alarm), and the next sweep looks again.
The trash sweeper's daily run calls ``sweep``; ``GET /uploads/{id}`` also expires on read.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass

from docuserve import clock, keys, uploads
from docuserve.adapters.store import ConditionFailed, Store
from docuserve.observability import logger

PAGE = 100
RESERVE_MS = 60_000


@dataclass(frozen=True)
class ExpirySweep:
    expired: int  # pending sessions failed with reason "expired"
    discarded: int  # never-landed documents of sessions that had already ended
    finished: bool  # False: stopped for the time budget; the next run continues


def sweep(
    *,
    remaining_ms: Callable[[], int] | None = None,
    reserve_ms: int = RESERVE_MS,
    store: Store | None = None,
) -> ExpirySweep:
    """Expire every session past its deadline (see the module docstring); stops with ``reserve_ms`` left."""
    store = store or Store()
    now = clock.iso(clock.now())
    expired = discarded = 0
    cursor: str | None = None
    while True:
        # The sort key is "{due}#{upload}" (an ISO time first): "0" to "{now}$" is every one due.
        page = store.query(uploads.DUE_INDEX_PK, index="gsi4", sk_between=("0", f"{now}$"), limit=PAGE, cursor=cursor)
        for entry in page.items:
            if remaining_ms is not None and remaining_ms() < reserve_ms:
                return _done(expired, discarded, finished=False)
            upload = store.get(keys.upload(str(entry["id"])))
            if upload is None:
                continue  # its TTL removed it (and its index entry with it)
            if upload.get("status") == "pending":
                expired += uploads.expire(upload, store=store)
                upload = store.get(keys.upload(str(entry["id"]))) or upload
            elif upload.get("status") in ("failed", "aborted"):
                discarded += uploads.discard_unlanded(upload, store=store)
            if upload.get("status") != "completing":
                _seen(upload, store)
        cursor = page.next_cursor
        if not cursor:
            return _done(expired, discarded, finished=True)


def _seen(upload: dict[str, object], store: Store) -> None:
    with contextlib.suppress(ConditionFailed):  # its TTL removed it meanwhile
        store.update(
            keys.upload(str(upload["id"])),
            "REMOVE gsi4pk, gsi4sk",
            condition="attribute_exists(pk)",
            return_values="NONE",
        )


def _done(expired: int, discarded: int, *, finished: bool) -> ExpirySweep:
    result = ExpirySweep(expired=expired, discarded=discarded, finished=finished)
    logger.info("upload expiry sweep", extra={"expired": expired, "discarded": discarded, "finished": finished})
    return result
