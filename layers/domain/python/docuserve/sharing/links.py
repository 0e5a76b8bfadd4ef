"""The share-link item (``pk = LINK#{sha256(token)}``) and keeping its document copy current.

A link item carries a copy of what a partner download needs (name, type, size, object key and
S3 version of the linked version, document status) so that redemption is a single conditional
UpdateItem: no second read, no S3 or KMS call. The documents feature calls
``document_changed`` after every change of a document (new current version, rename, trash,
restore, purge) to refresh those copies.

Link item attributes (besides the copies): ``share_id``, ``workspace_id``, ``document_id``,
``pinned_version_id`` (absent: follows the current version), ``expires_at`` / ``expires_epoch``
(every read checks this; ``ttl`` only tidies up, ``TIDY_DAYS`` after expiry), ``max_downloads``
(absent: unlimited), ``download_count``, ``password_hash`` (absent: no password),
``failed_attempts``, ``locked_until`` / ``locked_until_epoch``, ``lockouts``, ``label``,
``revoked_at``/``revoked_by``, ``created_*``/``updated_*``, and ``last_event``: the audit event of
the latest partner-side write, which the table stream materialises (``sharing.activity``).

A pointer item ``SHARE#{share_id}`` / ``SHARE`` holds ``token_hash`` so members reach a link by its
share id with strongly consistent reads (``pointer``).
"""

from __future__ import annotations

from typing import Any

from docuserve import clock, keys
from docuserve.adapters.store import ConditionFailed, Store
from docuserve.records import Document
from docuserve.sharing.state import LinkState, state_of

TIDY_DAYS = 30  # TTL deletes a link this long after it expired; reads never rely on it


def pointer(share_id: str) -> dict[str, str]:
    """Key of the item that maps a share id to its link item's token hash."""
    return {"pk": keys.share_pk(share_id), "sk": "SHARE"}


# Attributes copied from the document (and its current version for unpinned links).
DOCUMENT_COPY = ("document_name", "document_status")
VERSION_COPY = ("content_type", "size", "object_key", "s3_version_id", "version_id")


def document_copy(document: Document) -> dict[str, Any]:
    """The document-derived attributes of an unpinned link."""
    return {
        "document_name": document.name,
        "document_status": document.status,
        "document_revision": document.revision,
        "content_type": document.content_type,
        "size": document.size,
        "object_key": document.current_object_key,
        "s3_version_id": document.current_s3_version_id,
        "version_id": document.current_version,
    }


OUT_OF_SERVICE = ("deleted", "purging", "purged")  # a document status whose links are suspended


def document_changed(
    document: Document, store: Store | None = None, *, restored: bool = False, resume: bool = False
) -> int:
    """Refresh every link of ``document``; returns how many were updated.

    Pinned links keep their version's bytes and only follow the name and status. Each link keeps
    the ``document_revision`` its copy came from, and a refresh applies only if it carries a
    newer one: refreshes run after their change has committed and can arrive late or out of
    order (a rename's refresh after the trash that followed it, version 2's after version 3's),
    and a late one must never put an older copy back.

    Links of a document that leaves service (trash, purge) are *suspended* (``suspended_at``);
    only a ``restored`` document with ``resume`` lifts that. A restore without it suspends them
    too (links trashed before suspension existed). With ``restored``, the answer counts the links
    that came back into service (active again); otherwise the links updated.
    """
    store = store or Store()
    copy = document_copy(document)
    now = clock.epoch(clock.now())
    updated = 0
    cursor: str | None = None
    while True:
        page = store.query(keys.document_shares_pk(document.id), index="gsi2", limit=100, cursor=cursor)
        for link in page.items:
            followed = DOCUMENT_COPY if link.get("pinned_version_id") else DOCUMENT_COPY + VERSION_COPY
            fields: tuple[str, ...] = (*followed, "document_revision")
            present = {f: copy[f] for f in fields if copy[f] is not None}
            absent = [f for f in fields if copy[f] is None]
            names = {f"#{i}": f for i, f in enumerate(present)}
            vals = {f":{i}": v for i, v in enumerate(present.values())}
            update = "SET " + ", ".join(f"#{i} = :{i}" for i in range(len(present)))
            # Drop the last access event so the stream does not see it again with this image.
            removals = [*(f"#r{i}" for i in range(len(absent))), "last_event"]
            names.update({f"#r{i}": f for i, f in enumerate(absent)})
            if document.status in OUT_OF_SERVICE or (restored and not resume):
                update += ", suspended_at = if_not_exists(suspended_at, :suspended)"
                vals[":suspended"] = clock.iso(clock.now())
            elif restored and resume:
                removals.append("suspended_at")
            update += " REMOVE " + ", ".join(removals)
            try:
                saved = store.update(
                    {"pk": link["pk"], "sk": link["sk"]},
                    update,
                    condition="attribute_exists(pk) AND (attribute_not_exists(#rev) OR #rev < :rev)",
                    names=names | {"#rev": "document_revision"},
                    expression_values=vals | {":rev": document.revision},
                    return_values="ALL_NEW",
                )
                if not restored:
                    updated += 1
                elif resume and saved is not None and state_of(saved, now) is LinkState.ACTIVE:
                    updated += 1  # back in service
            except ConditionFailed:
                continue  # deleted meanwhile, or already holds a newer copy
        cursor = page.next_cursor
        if not cursor:
            return updated
