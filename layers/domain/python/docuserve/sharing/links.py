"""The share-link item (``pk = LINK#{sha256(token)}``) and keeping its document copy current.

A link item carries a copy of what a partner download needs (name, type, size, object key and
S3 version of the linked version, document status) so that redemption is a single conditional
UpdateItem: no second read, no S3 or KMS call. The documents feature calls
``document_changed`` after every change of a document (new current version, rename, trash,
restore, purge) to refresh those copies; before a trash commits it ``hold``s every link, so
none serves the document in the moment between that commit and the refresh.

Each link has a ref in its document's partition (``keys.link_ref``, written in the link's own
transaction), so a strongly consistent Query finds every link a document has (``links_of``).

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

from contextlib import suppress
from dataclasses import dataclass
from typing import Any

from docuserve import clock, keys
from docuserve.adapters.store import ConditionFailed, Store
from docuserve.custody import manifest
from docuserve.observability import logger
from docuserve.records import Document
from docuserve.sharing.state import LinkState, entry_serves, state_of

TIDY_DAYS = 30  # TTL deletes a link this long after it expired; reads never rely on it


def pointer(share_id: str) -> dict[str, str]:
    """Key of the item that maps a share id to its link item's token hash."""
    return {"pk": keys.share_pk(share_id), "sk": "SHARE"}


def pointer_put(link_item: dict[str, Any], digest: str) -> dict[str, Any]:
    """Transaction action: create a new link's pointer item (share id → token hash)."""
    return {
        "Put": {
            "Item": {**pointer(link_item["share_id"]), "type": "share", "token_hash": digest, "ttl": link_item["ttl"]},
            "ConditionExpression": "attribute_not_exists(pk)",
        }
    }


# Attributes copied from the document (and its current version for unpinned links).
DOCUMENT_COPY = ("document_name", "document_status")
VERSION_COPY = ("content_type", "size", "sha256", "object_key", "s3_version_id", "version_id")


def document_copy(document: Document) -> dict[str, Any]:
    """The document-derived attributes of an unpinned link."""
    return {
        "document_name": document.name,
        "document_status": document.status,
        "document_revision": document.revision,
        "content_type": document.content_type,
        "size": document.size,
        "sha256": document.sha256 or None,
        "object_key": document.current_object_key,
        "s3_version_id": document.current_s3_version_id,
        "version_id": document.current_version,
    }


OUT_OF_SERVICE = ("deleted", "purging", "purged")  # a document status whose links are suspended


@dataclass(frozen=True)
class LinkRef:
    """One link of a document, as the document's partition records it."""

    key: dict[str, str]
    pinned: bool
    entry: str | None = None  # a bundle's link: the document id naming its entry (``sharing.bundles``)


def ref_item(document_id: str, share_id: str, digest: str, *, pinned: bool, bundle: bool = False) -> dict[str, Any]:
    """The ref a new link writes into its document's partition, in the link's own transaction.

    A bundle's link has one ref per document (``bundle``): a change of the document refreshes
    that document's entry of the link, not the whole link.
    """
    ref = {**keys.link_ref(document_id, share_id), "type": "link_ref", "token_hash": digest, "pinned": pinned}
    if bundle:
        ref["bundle"] = True
    return ref


def links_of(document: Document, store: Store) -> list[LinkRef]:
    """Every link of a document: a strongly consistent Query of the refs in its partition.

    A link committed before this read is in the answer (the document-shares index, gsi2, is
    eventually consistent and can miss it). Links made before refs existed have none: for a
    document older than refs (``link_refs`` false) gsi2 is read as well and adds them.
    """
    document_id = document.id
    found: dict[str, LinkRef] = {}
    cursor: str | None = None
    while True:
        page = store.query(
            keys.document_pk(document_id), sk_prefix=keys.LINK_PREFIX, limit=500, cursor=cursor, consistent=True
        )
        for ref in page.items:
            key = keys.link(ref["token_hash"])
            found[key["pk"]] = LinkRef(key, bool(ref.get("pinned")), document_id if ref.get("bundle") else None)
        cursor = page.next_cursor
        if not cursor:
            break
    while not document.link_refs:
        page = store.query(keys.document_shares_pk(document_id), index="gsi2", limit=100, cursor=cursor)
        for link in page.items:
            if link.get("type") == "link" and link["pk"] not in found:
                found[link["pk"]] = LinkRef({"pk": link["pk"], "sk": link["sk"]}, bool(link.get("pinned_version_id")))
        cursor = page.next_cursor
        if not cursor:
            break
    return list(found.values())


# A refresh applies to a link whose copy is older than it, or as new but *held* (see ``hold``).
_NEWER = "(attribute_not_exists(#rev) OR #rev < :rev OR (#rev = :rev AND attribute_exists(held_by)))"


def hold(document: Document, future_revision: int, holder: str, store: Store) -> list[LinkRef]:
    """Stop every link of a document from serving *before* a change that takes it out of service
    commits (the trash): fail closed. Returns the links held.

    A held link (``held_by``) carries the revision the change will commit at, so no late refresh
    of an older revision can overwrite it, and redemption refuses it (``unavailable``). Whatever
    commits at that revision clears the hold with its refresh (``document_changed``): the holder's
    own change, or another change that took the revision, in which case the holder's commit
    fails (it is conditioned on the revision before) and the holder ``release``s. A holder that
    dies between the two leaves its links held -- refusing partners, never serving -- until the
    document's next change refreshes them.

    A link created after this read makes the change's commit fail too: creating a link bumps the
    document's revision (``sharing.manage.create_share``), so the set held is complete at commit.
    """
    held = links_of(document, store)
    for link in held:
        if link.entry is not None:
            _hold_entry(link, future_revision, holder, store)
            continue
        try:
            store.update(
                link.key,
                "SET #rev = :rev, held_by = :holder REMOVE last_event",
                condition=f"attribute_exists(pk) AND {_NEWER}",
                names={"#rev": "document_revision"},
                expression_values={":rev": future_revision, ":holder": holder},
                return_values="NONE",
            )
        except ConditionFailed:
            continue  # deleted, or a change at that revision (not ours) has already refreshed it
    return held


def release(document_id: str, holder: str, store: Store) -> None:
    """Undo ``holder``'s holds after its change did not commit: each link gets the document's
    current copy back (the links another change has refreshed meanwhile are left as they are)."""
    item = store.get(keys.document(document_id))
    if item is not None:
        document_changed(Document.from_item(item), store, holder=holder)


def document_changed(
    document: Document,
    store: Store | None = None,
    *,
    restored: bool = False,
    resume: bool = False,
    links: list[LinkRef] | None = None,
    holder: str | None = None,
) -> int:
    """Refresh every link of ``document`` (or only ``links``); returns how many were updated.

    Pinned links keep their version's bytes and only follow the name and status. Each link keeps
    the ``document_revision`` its copy came from, and a refresh applies only if it carries a
    newer one: refreshes run after their change has committed and can arrive late or out of
    order (a rename's refresh after the trash that followed it, version 2's after version 3's),
    and a late one must never put an older copy back. A refresh also clears a ``hold`` at its
    revision; with ``holder`` it also applies to (and clears) that holder's holds whatever their
    revision (``release``).

    Links of a document that leaves service (trash, purge) are *suspended* (``suspended_at``);
    only a ``restored`` document with ``resume`` lifts that. A restore without it suspends them
    too (links trashed before suspension existed). With ``restored``, the answer counts the links
    that came back into service (active again); otherwise the links updated.
    """
    store = store or Store()
    copy = document_copy(document)
    now = clock.epoch(clock.now())
    condition = (
        f"attribute_exists(pk) AND ({_NEWER} OR held_by = :holder)" if holder else f"attribute_exists(pk) AND {_NEWER}"
    )
    updated = 0
    for link in links_of(document, store) if links is None else links:
        if link.entry is not None:
            updated += _refresh_entry(link, document, copy, store, restored=restored, resume=resume, holder=holder)
            continue
        followed = DOCUMENT_COPY if link.pinned else DOCUMENT_COPY + VERSION_COPY
        fields: tuple[str, ...] = (*followed, "document_revision")
        present = {f: copy[f] for f in fields if copy[f] is not None}
        absent = [f for f in fields if copy[f] is None]
        names = {f"#{i}": f for i, f in enumerate(present)}
        vals = {f":{i}": v for i, v in enumerate(present.values())}
        update = "SET " + ", ".join(f"#{i} = :{i}" for i in range(len(present)))
        # Drop the last access event so the stream does not see it again with this image.
        removals = [*(f"#r{i}" for i in range(len(absent))), "last_event", "held_by"]
        names.update({f"#r{i}": f for i, f in enumerate(absent)})
        if document.status in OUT_OF_SERVICE or (restored and not resume):
            update += ", suspended_at = if_not_exists(suspended_at, :suspended)"
            vals[":suspended"] = clock.iso(clock.now())
        elif restored and resume:
            removals.append("suspended_at")
        update += " REMOVE " + ", ".join(removals) + " ADD files_seq :one"
        vals[":one"] = 1
        if holder:
            vals[":holder"] = holder
        try:
            saved = store.update(
                link.key,
                update,
                condition=condition,
                names=names | {"#rev": "document_revision"},
                expression_values=vals | {":rev": document.revision},
                return_values="ALL_NEW",
            )
            resign_manifest(saved, store)
            if not restored:
                updated += 1
            elif resume and saved is not None and state_of(saved, now) is LinkState.ACTIVE:
                updated += 1  # back in service
        except ConditionFailed:
            continue  # deleted meanwhile, or already holds a newer copy
    return updated


def resign_manifest(saved: dict[str, Any] | None, store: Store) -> None:
    """Sign the link's manifest again after a refresh (``custody.manifest.resign``).

    A failure (KMS throttled past the SDK's retries) leaves the older manifest, which the next
    refresh replaces; the files a partner downloads then fail its check, never pass it.
    """
    if saved is None:
        return
    try:
        manifest.resign(saved, store)
    except Exception:
        share_id = saved.get("share_id")
        logger.warning("manifest not signed again after a refresh", extra={"share_id": share_id}, exc_info=True)


# --- a bundle's entries (``sharing.bundles``): the same rules, on ``entries.{document_id}`` ---------

_ENTRY_NEWER = (
    "(attribute_not_exists(entries.#d.#rev) OR entries.#d.#rev < :rev"
    " OR (entries.#d.#rev = :rev AND attribute_exists(entries.#d.held_by)))"
)


def _hold_entry(link: LinkRef, future_revision: int, holder: str, store: Store) -> None:
    """``hold`` for one entry of a bundle: that entry stops serving, the others go on."""
    with suppress(ConditionFailed):  # deleted, or already refreshed at that revision
        store.update(
            link.key,
            "SET entries.#d.#rev = :rev, entries.#d.held_by = :holder REMOVE last_event, bundle_zip",
            condition=f"attribute_exists(entries.#d) AND {_ENTRY_NEWER}",
            names={"#d": str(link.entry), "#rev": "document_revision"},
            expression_values={":rev": future_revision, ":holder": holder},
            return_values="NONE",
        )


def _refresh_entry(
    link: LinkRef,
    document: Document,
    copy: dict[str, Any],
    store: Store,
    *,
    restored: bool,
    resume: bool,
    holder: str | None,
) -> int:
    """``document_changed`` for one entry of a bundle; the bundle's archive is dropped (its set changed).

    Returns 1 when the entry was updated (with ``restored``: when it came back into service).
    """
    fields = (*DOCUMENT_COPY, *VERSION_COPY, "document_revision")
    present = {f: copy[f] for f in fields if copy[f] is not None}
    absent = [f for f in fields if copy[f] is None]
    if document.sha256:
        present["sha256"] = document.sha256
    names = {"#d": str(link.entry), "#rev": "document_revision"}
    names.update({f"#f{i}": f for i, f in enumerate(present)})
    names.update({f"#r{i}": f for i, f in enumerate(absent)})
    vals: dict[str, Any] = {f":f{i}": v for i, v in enumerate(present.values())}
    vals[":rev"] = document.revision
    update = "SET " + ", ".join(f"entries.#d.#f{i} = :f{i}" for i in range(len(present)))
    removals = [*(f"entries.#d.#r{i}" for i in range(len(absent))), "entries.#d.held_by", "last_event", "bundle_zip"]
    if document.status in OUT_OF_SERVICE or (restored and not resume):
        update += ", entries.#d.suspended_at = if_not_exists(entries.#d.suspended_at, :suspended)"
        vals[":suspended"] = clock.iso(clock.now())
    elif restored and resume:
        removals.append("entries.#d.suspended_at")
    update += " REMOVE " + ", ".join(removals) + " ADD files_seq :one"
    vals[":one"] = 1
    condition = f"attribute_exists(entries.#d) AND {_ENTRY_NEWER}"
    if holder:
        condition = f"attribute_exists(entries.#d) AND ({_ENTRY_NEWER} OR entries.#d.held_by = :holder)"
        vals[":holder"] = holder
    try:
        saved = store.update(link.key, update, condition=condition, names=names, expression_values=vals)
    except ConditionFailed:
        return 0
    resign_manifest(saved, store)
    if not restored:
        return 1
    entry = (saved or {}).get("entries", {}).get(link.entry, {})
    return 1 if resume and entry_serves(entry) else 0
