"""Bundles: one share link for up to 100 documents of one workspace (SPEC phase 2, issue 17).

A bundle is a link item like any other (``LINK#{sha256(token)}`` / ``LINK``, ``kind = bundle``) with
the same terms (expiry, password, limit, label, message, recipients) and, instead of one document
copy, ``entries``: a map from document id to that document's copy (name, type, size, SHA-256,
object key, S3 version, status, ``document_revision``), plus ``document_ids`` for their order.
Each document has a ref to the link in its own partition (``links.ref_item(bundle=True)``), so a
change of a document refreshes *its entry* (``links._refresh_entry``): a trashed or purged
document makes its entry unavailable and leaves the others serving; the link is unavailable only
when no entry serves (``state.serves_document``).

Redemption stays one conditional UpdateItem on the link item (``redeem._consume``): one file
(``document_id``) adds the entry's own conditions; the archive (``archive: true``) requires
``bundle_zip.status = ready``. A refused archive condition on an otherwise usable link is "not ready
yet": the first such request claims the build (a conditional write of ``bundle_zip`` with the
fingerprint of the serving entries), enqueues the job (``sharing.archive``) and answers 202; a
202 counts nothing. Any entry refresh removes ``bundle_zip``, so a ready archive always holds exactly
the entries that serve now.
"""

from __future__ import annotations

import hashlib
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from docuserve import audit, clock, ids, keys
from docuserve.access import holds_role, lost_role, refuse_lost_role, workspace_access
from docuserve.adapters.store import ConditionFailed, Store, TransactionCancelled
from docuserve.custody import manifest
from docuserve.errors import Conflict, InvalidInput, NotFound
from docuserve.identity import Caller
from docuserve.observability import BusinessMetric, count
from docuserve.records import Document
from docuserve.roles import Role
from docuserve.schema import ARCHIVES_PREFIX
from docuserve.settings import get_settings
from docuserve.sharing import manage
from docuserve.sharing.errors import ArchiveTooLarge, DocumentUnavailable
from docuserve.sharing.links import pointer_put, ref_item
from docuserve.sharing.state import entry_serves
from docuserve.sharing.tokens import new_token, token_hash

MAX_DOCUMENTS = 100
# 'Download all' is refused above this total (each file still downloads). docs/performance.md
# #bundle-archives: the job reads and writes every byte one after the other, so at an assumed
# 50 MiB/s each way it moves 25 MiB/s; 10 GiB then takes ~410 s, under half of its 900 s timeout.
ARCHIVE_MAX_BYTES = 10 * 1024**3
ARCHIVE_READY_HOURS = 20  # a ready archive is served this long (the object expires after 24 h)
CLAIM_STALE_SECONDS = 20 * 60  # a claim older than this (a lost job) may be claimed again
RETRY_AFTER_SECONDS = 5
# One transaction holds at most 100 actions: the link's four, then (ref, document bump) pairs.
_FIRST_PAIRS = 48
_MORE_PAIRS = 50


@dataclass(frozen=True)
class Entry:
    """One file of a bundle, as members and the partner page see it."""

    document_id: str
    name: str
    size: int
    content_type: str
    sha256: str
    version_id: str | None
    available: bool


@dataclass(frozen=True)
class Preparing:
    """The archive is being built: 202 with ``Retry-After``."""

    retry_after: int = RETRY_AFTER_SECONDS


def entries_of(item: dict[str, Any]) -> list[Entry]:
    """The bundle's files in the order they were shared."""
    found = item.get("entries") or {}
    order = item.get("document_ids") or sorted(found)
    return [
        Entry(
            document_id=doc,
            name=str(e.get("document_name", "")),
            size=int(e.get("size") or 0),
            content_type=str(e.get("content_type", "application/octet-stream")),
            sha256=str(e.get("sha256", "")),
            version_id=e.get("version_id"),
            available=entry_serves(e),
        )
        for doc in order
        if (e := found.get(doc)) is not None
    ]


def serving(item: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """``(document id, entry)`` of every entry that serves now, in order."""
    found = item.get("entries") or {}
    return [(doc, found[doc]) for doc in item.get("document_ids") or sorted(found) if entry_serves(found.get(doc, {}))]


def fingerprint(item: dict[str, Any]) -> str:
    """Names the archive of exactly the entries that serve now (their S3 versions and names)."""
    digest = hashlib.sha256()
    for doc, entry in serving(item):
        for part in (doc, entry.get("object_key"), entry.get("s3_version_id"), entry.get("document_name")):
            digest.update(str(part or "").encode())
            digest.update(b"\0")
    return digest.hexdigest()[:32]


def archive_key(share_id: str, print_: str) -> str:
    return f"{ARCHIVES_PREFIX}{share_id}/{print_}.zip"


# --- create ------------------------------------------------------------------------------------


def _checked_ids(document_ids: list[str]) -> list[str]:
    if not document_ids:
        raise InvalidInput("document_ids", "name at least one document")
    if len(document_ids) > MAX_DOCUMENTS:
        raise InvalidInput("document_ids", f"at most {MAX_DOCUMENTS} documents")
    if len(set(document_ids)) != len(document_ids):
        raise InvalidInput("document_ids", "a document may be named only once")
    return document_ids


def _documents(workspace_id: str, document_ids: list[str], store: Store) -> list[Document]:
    """The documents, each of this workspace and available (422 naming ``document_ids`` otherwise)."""
    wanted = [keys.document(d) if ids.workspace_of(d) == workspace_id else None for d in document_ids]
    found = store.get_many([k for k in wanted if k is not None])
    by_id = {item["id"]: item for item in found if item is not None and "id" in item}
    documents = []
    for position, doc_id in enumerate(document_ids):
        item = by_id.get(doc_id)
        if item is None or item.get("workspace_id") != workspace_id:
            raise InvalidInput(f"document_ids.{position}", "no such document in this workspace")
        document = Document.from_item(item)
        if document.status != "available" or not document.current_object_key:
            raise InvalidInput(f"document_ids.{position}", "only an available document can be shared")
        documents.append(document)
    return documents


def _entry(document: Document, order: int) -> dict[str, Any]:
    entry = {
        "order": order,
        "document_name": document.name,
        "document_status": document.status,
        "document_revision": document.revision + 1,  # the bundle's own transaction bumps it
        "content_type": document.content_type,
        "size": document.size,
        "sha256": document.sha256,
        "object_key": document.current_object_key,
        "s3_version_id": document.current_s3_version_id,
        "version_id": document.current_version,
    }
    return {k: v for k, v in entry.items() if v is not None}


def create_bundle(
    caller: Caller,
    workspace_id: str,
    document_ids: list[str],
    body: manage.Terms,
    *,
    ip: str | None = None,
    store: Store | None = None,
) -> manage.Created:
    """A new bundle link (201): the token and URL are in the answer and nowhere else.

    Up to 48 documents go in one transaction with the link (each document conditioned on being
    ``available`` at the revision read and bumped, as for a single link); a larger bundle is made
    ``activating`` (refused by redemption) and its further documents follow in transactions of
    50, then it is activated. A document that changes meanwhile makes the create 409 (the link is
    revoked, never served).
    """
    store = store or Store()
    document_ids = _checked_ids(list(document_ids))
    if body.version_id is not None:
        raise InvalidInput("version_id", "a bundle follows each document's current version")
    if body.notify_recipients and not body.recipients:
        raise InvalidInput("notify_recipients", "give recipients to send the link to")
    for _ in range(manage.CREATE_ATTEMPTS):
        workspace_access(caller, workspace_id, Role.EDITOR, what="sharing", store=store)
        documents = _documents(workspace_id, document_ids, store)
        item, event, token = _new_bundle(caller, workspace_id, documents, body, ip)
        item.update(manifest.signed(item))  # docuserve.custody.manifest: signed in the link's creation
        digest = token_hash(token)
        pairs = [
            action
            for document in documents
            for action in (
                {"Put": {"Item": ref_item(document.id, item["share_id"], digest, pinned=False, bundle=True)}},
                manage.document_bumped(document),
            )
        ]
        first, rest = pairs[: 2 * _FIRST_PAIRS], pairs[2 * _FIRST_PAIRS :]
        if rest:
            item["activating"] = True
        try:
            store.transact(
                [
                    {"Put": {"Item": item, "ConditionExpression": "attribute_not_exists(pk)"}},
                    pointer_put(item, digest),
                    audit.put_action(event),
                    *first,
                    holds_role(workspace_id, caller.user_id, Role.EDITOR),
                ]
            )
        except TransactionCancelled as cancelled:
            if lost_role(cancelled.reasons):
                refuse_lost_role(caller, workspace_id, Role.EDITOR, what="sharing", not_found="workspace not found")
            continue  # a document changed since it was read: look again
        if rest:
            _add_rest(caller, item, rest, store)
        count(BusinessMetric.LINKS_CREATED)
        url = f"{get_settings().web_origin}/s/{token}"
        if body.notify_recipients:
            manage.send_link(caller, item, url, ip=ip, store=store)
        item.pop("activating", None)
        return manage.Created(link=manage.view_of(item, clock.epoch(clock.now())), token=token, url=url)
    raise Conflict("the documents are changing concurrently; try again")


def _add_rest(caller: Caller, item: dict[str, Any], rest: list[dict[str, Any]], store: Store) -> None:
    key = {"pk": item["pk"], "sk": item["sk"]}
    for start in range(0, len(rest), 2 * _MORE_PAIRS):
        try:
            store.transact(rest[start : start + 2 * _MORE_PAIRS])
        except TransactionCancelled:
            # Never served (``activating``): revoke it so it cannot become live, and say so.
            store.update(
                key,
                "SET revoked_at = :at, revoked_by = :by REMOVE activating",
                expression_values={":at": clock.iso(clock.now()), ":by": caller.user_id},
                return_values="NONE",
            )
            raise Conflict("a document changed while the bundle was being made; try again") from None
    store.update(key, "REMOVE activating", condition="attribute_exists(pk)", return_values="NONE")


def _new_bundle(
    caller: Caller, workspace_id: str, documents: list[Document], body: manage.Terms, ip: str | None
) -> tuple[dict[str, Any], audit.AuditEvent, str]:
    now = clock.now()
    limits = get_settings().limits
    expires = manage.chosen_expiry(body.expires_at, body.expires_in_days, now) or now + timedelta(
        days=limits.share_default_days
    )
    name = f"{len(documents)} documents" if len(documents) != 1 else documents[0].name
    item: dict[str, Any] = {
        "kind": "bundle",
        "entries": {d.id: _entry(d, i) for i, d in enumerate(documents)},
        "document_ids": [d.id for d in documents],
        "document_name": name,
        "size": sum(d.size for d in documents),
        **manage._expiry_attributes(expires),
        "type": "link",
        "download_count": 0,
        "failed_attempts": 0,
        "created_at": clock.iso(now),
        "created_by": caller.user_id,
        "updated_at": clock.iso(now),
        "updated_by": caller.user_id,
    }
    if body.password is not None:
        item["password_hash"] = manage._password_hash(body.password)
    if body.max_downloads is not None:
        item["max_downloads"] = manage._max_downloads(body.max_downloads)
    if body.label is not None and (label := manage._label(body.label)):
        item["label"] = label
    if body.message:
        item["message"] = body.message
    if recipients := manage._recipients(body.recipients):
        item["recipients"] = recipients
    if caller.email:
        item["sender_email"] = caller.email
    token = new_token()
    share_id = ids.new_child_id(workspace_id)
    item.update(
        {
            **keys.link(token_hash(token)),
            "share_id": share_id,
            "workspace_id": workspace_id,
            "gsi1pk": keys.share_pk(share_id),
            "gsi1sk": "SHARE",
            "gsi3pk": keys.workspace_links_pk(workspace_id),
            "gsi3sk": f"{item['created_at']}#{share_id}",
        }
    )
    event = audit.AuditEvent(
        action="share.created",
        actor=audit.Actor.member(caller, ip=ip),
        workspace_id=workspace_id,
        share_id=share_id,
        details={
            k: v
            for k, v in {
                "expires_at": item["expires_at"],
                "password": "password_hash" in item,
                "max_downloads": item.get("max_downloads"),
                "label": item.get("label"),
                "document_name": name,
                "document_ids": item["document_ids"],
                "message": True if item.get("message") else None,
                "recipients": len(item["recipients"]) if item.get("recipients") else None,
            }.items()
            if v is not None
        },
    )
    return item, event, token


# --- redemption: what ``redeem._consume`` adds for a bundle ------------------------------------

BUNDLE_REDEEMABLE = (
    "attribute_exists(pk) AND #kind = :bundle AND attribute_not_exists(revoked_at) AND expires_epoch > :now"
    " AND (attribute_not_exists(max_downloads) OR download_count < max_downloads)"
    " AND attribute_not_exists(activating)"
    " AND (attribute_not_exists(locked_until_epoch) OR locked_until_epoch <= :now)"
)
ENTRY_SERVES = (
    "entries.#d.document_status = :available AND attribute_exists(entries.#d.object_key)"
    " AND attribute_not_exists(entries.#d.suspended_at) AND attribute_not_exists(entries.#d.held_by)"
)
ARCHIVE_READY = "bundle_zip.#st = :ready AND bundle_zip.ready_until > :now"


def explain_entry(old: dict[str, Any], document_id: str) -> None:
    """Raise why this file of a usable bundle cannot be served (404 not in it, 410 unavailable)."""
    entry = (old.get("entries") or {}).get(document_id)
    if entry is None:
        raise NotFound("no such file in this link")
    if not entry_serves(entry):
        raise DocumentUnavailable("this file is no longer available")


def check_archive_size(item: dict[str, Any]) -> None:
    total = sum(int(e.get("size") or 0) for _, e in serving(item))
    if total > ARCHIVE_MAX_BYTES:
        raise ArchiveTooLarge(
            f"'download all' is limited to {ARCHIVE_MAX_BYTES // 1024**3} GiB; download the files one by one",
            details={"archive_bytes": total, "archive_max_bytes": ARCHIVE_MAX_BYTES},
        )


def prepare_archive(store: Store, old: dict[str, Any], moment: datetime, event: dict[str, Any]) -> Preparing:
    """The archive of a usable bundle is not ready: claim its build once and enqueue it (202).

    The claim is a conditional write of ``bundle_zip`` (absent, of other entries, stale, or expired),
    so concurrent requests enqueue one job; the others see ``preparing``. Nothing is counted.
    """
    check_archive_size(old)
    now = clock.epoch(moment)
    current = fingerprint(old)
    archive = old.get("bundle_zip") or {}
    if (
        archive.get("fingerprint") == current
        and archive.get("status") == "preparing"
        and int(archive.get("claimed_epoch", 0)) > now - CLAIM_STALE_SECONDS
    ):
        return Preparing()
    claim = ids.new_event_id()
    key = {"pk": old["pk"], "sk": old["sk"]}
    condition = "attribute_exists(pk) AND attribute_not_exists(bundle_zip)"
    values: dict[str, Any] = {
        ":archive": {"fingerprint": current, "status": "preparing", "claim": claim, "claimed_epoch": now},
        ":event": event,
    }
    if archive.get("claim"):
        condition = "attribute_exists(pk) AND bundle_zip.claim = :old"
        values[":old"] = archive["claim"]
    try:
        store.update(key, "SET bundle_zip = :archive, last_event = :event", condition=condition,
                     expression_values=values, return_values="NONE")  # fmt: skip
    except ConditionFailed:
        return Preparing()  # another request claimed it first
    from docuserve.adapters import jobs  # imported here: only an archive request sends a job

    try:
        jobs.send(jobs.archive(old["pk"], current, claim))
    except Exception:
        # Leave no claim that no job will finish: the next request claims again.
        with suppress(ConditionFailed):
            store.update(key, "REMOVE bundle_zip", condition="bundle_zip.claim = :claim",
                         expression_values={":claim": claim}, return_values="NONE")  # fmt: skip
        raise
    return Preparing()
