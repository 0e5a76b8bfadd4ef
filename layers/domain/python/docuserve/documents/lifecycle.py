"""A document's life cycle: edit, trash, restore, and purge (the owner's and the sweeper's).

After each change that a share link copies, the sharing feature is told
(``sharing.links.document_changed``), conditioned on the document's revision. A trash first
*holds* every link (``sharing.links.hold``): links stop serving before the trash commits, so no
partner is served a trashed document between the commit and the refresh, and a refresh that fails
after the commit leaves them refusing, never serving (fail closed).
"""

from __future__ import annotations

import secrets
from typing import Any

from docuserve import audit, clock, keys, quota
from docuserve.access import document_access, holds_role, lost_role
from docuserve.adapters import objects
from docuserve.adapters.store import Store, TransactionCancelled
from docuserve.audit import Actor, AuditEvent
from docuserve.documents.common import BEING_PURGED, RETRIES, editor, load, refuse
from docuserve.documents.items import DELETED, PURGED, PURGING, rewrite
from docuserve.errors import Conflict, InvalidInput, NotFound, Throttled, busy
from docuserve.identity import Caller
from docuserve.observability import logger
from docuserve.records import Document
from docuserve.roles import Role
from docuserve.schema import DOCUMENTS_PREFIX
from docuserve.sharing import links


def update(
    caller: Caller,
    document_id: str,
    *,
    name: str | None,
    folder: str | None,
    tags: list[str] | None,
    description: str | None,
) -> Document:
    """Rename, move, retag or describe a document (not while it is in the trash)."""
    store = Store()
    doc = document_access(caller, document_id, Role.EDITOR, what="editing documents", store=store).document
    changes = {k: v for k, v in (("name", name), ("folder", folder), ("tags", tags), ("description", description))}
    changes = {k: v for k, v in changes.items() if v is not None}
    if not changes:
        raise InvalidInput("body", "name, folder, tags or description is required")
    for _ in range(RETRIES):
        doc, revision = load(document_id, store)
        if doc.status == PURGING:
            raise Conflict(BEING_PURGED)
        if doc.status == DELETED:
            raise Conflict("the document is in the trash; restore it first")
        old_tags = list(doc.tags)
        for field, value in changes.items():
            setattr(doc, field, value)
        doc.updated_at, doc.updated_by = clock.iso(clock.now()), caller.user_id
        event = AuditEvent(
            "document.updated", Actor.member(caller), workspace_id=doc.workspace_id, document_id=doc.id, details=changes
        )
        try:
            store.transact(rewrite(doc, revision, old_tags, event, editor(caller, doc)))
        except TransactionCancelled as cancelled:
            if lost_role(cancelled.reasons):
                refuse(caller, doc, Role.EDITOR, "editing documents")
            continue
        doc.revision = revision + 1
        _refresh_links(doc, store)
        return doc
    raise Conflict("the document is changing concurrently; try again")


def _refresh_links(doc: Document, store: Store, **refresh: Any) -> int:
    """Tell the document's links about a change that has committed; 0 if that fails transiently.

    The change stands whatever happens here, so its answer must not say otherwise (a client that
    retries a trash answered 429 gets 409 "already in the trash"). A refresh that did not happen
    leaves each link on its older copy, which the next change refreshes: after a trash they are
    held (refusing), after a restore still suspended, after a rename on the older name.
    """
    try:
        return links.document_changed(doc, store, **refresh)
    except Exception as exc:
        if not (isinstance(exc, Throttled) or busy(exc)):
            raise
        logger.warning("links not refreshed after a committed change", extra={"document_id": doc.id}, exc_info=True)
        return 0


def _move(caller: Caller, document_id: str, *, to_trash: bool, resume_links: bool = False) -> tuple[Document, int]:
    store = Store()
    document_access(caller, document_id, Role.EDITOR, what="trash and restore", store=store)
    holder = secrets.token_hex(8) if to_trash else None  # this trash's mark on the links it holds
    committed = False
    try:
        for _ in range(RETRIES):
            doc, revision = load(document_id, store)
            at = clock.iso(clock.now())
            if doc.status == PURGING:
                raise Conflict(BEING_PURGED)
            if to_trash:
                if doc.status == DELETED:
                    raise Conflict("the document is already in the trash")
                doc.status_before_delete, doc.status, doc.deleted_at = doc.status, DELETED, at
            else:
                if doc.status != DELETED:
                    raise Conflict("the document is not in the trash")
                doc.status, doc.status_before_delete, doc.deleted_at = doc.status_before_delete or "pending", None, None
            doc.updated_at, doc.updated_by = at, caller.user_id
            action = "document.trashed" if to_trash else "document.restored"
            event = AuditEvent(action, Actor.member(caller), workspace_id=doc.workspace_id, document_id=doc.id)
            held = links.hold(doc, revision + 1, holder, store) if holder else None
            try:
                store.transact(rewrite(doc, revision, list(doc.tags), event, editor(caller, doc)))
            except TransactionCancelled as cancelled:
                if lost_role(cancelled.reasons):
                    refuse(caller, doc, Role.EDITOR, "trash and restore")
                continue
            committed = True
            doc.revision = revision + 1
            resumed = _refresh_links(doc, store, restored=not to_trash, resume=resume_links, links=held)
            return doc, 0 if to_trash else resumed
        raise Conflict("the document is changing concurrently; try again")
    finally:
        if holder and not committed:
            _release(document_id, holder, store)


def _release(document_id: str, holder: str, store: Store) -> None:
    """Give the links a trash held back their copy after the trash did not commit; if that fails
    transiently they stay held (refusing partners) until the document's next change."""
    try:
        links.release(document_id, holder, store)
    except Exception as exc:
        if not (isinstance(exc, Throttled) or busy(exc)):
            raise
        logger.warning("held links not released", extra={"document_id": document_id}, exc_info=True)


def trash(caller: Caller, document_id: str) -> Document:
    """Move a document to the trash: its links stop serving it (state ``unavailable``)."""
    return _move(caller, document_id, to_trash=True)[0]


def restore(caller: Caller, document_id: str, *, resume_links: bool = False) -> tuple[Document, int]:
    """Bring a document back from the trash; its links come back only with ``resume_links``.

    Returns the document and how many of its links are active again.
    """
    return _move(caller, document_id, to_trash=False, resume_links=resume_links)


def purge(caller: Caller, document_id: str) -> None:
    """An owner deletes a trashed document for good (``purge_trashed`` does the work)."""
    store = Store()
    doc = document_access(caller, document_id, Role.OWNER, what="purging documents", store=store).document
    owner = holds_role(doc.workspace_id, caller.user_id, Role.OWNER)
    try:
        purge_trashed(doc, Actor.member(caller), store=store, guards=(owner,))
    except _LostRole:
        refuse(caller, doc, Role.OWNER, "purging documents")


class _LostRole(Exception):
    """The caller's role check (the last action of the purge's claim) failed."""


def purge_trashed(
    doc: Document,
    actor: Actor,
    *,
    store: Store,
    action: str = "document.purged",
    details: dict[str, Any] | None = None,
    guards: tuple[dict[str, Any], ...] = (),
) -> None:
    """Delete a trashed document for good: every object version, every version and tag item.

    Shared by the owner's purge route and the trash sweeper (``retention``, a system actor): the
    caller has already decided who may; this only insists the document is in the trash.

    First the document is *claimed*: one conditional write moves it from ``deleted`` to
    ``purging`` (and bumps its revision), so a restore, an edit or a new version that comes later
    is refused (409) and one that came earlier makes the claim fail -- before anything is deleted.
    A version landing while it is ``purging`` is refused and its bytes deleted (``processing``).
    Then the bytes go (any failed object delete raises: the items stay, the document stays
    ``purging``, and purging it again finishes the job), then the version and tag items, and last
    the document item, the workspace's ``document_count`` and the audit event ``action`` (with
    ``details`` added to name and version count) in one transaction; links then see ``purged``.
    ``guards`` (the owner's role) ride in the claim's transaction.
    """
    document_id = doc.id
    if doc.status not in (DELETED, PURGING):
        raise Conflict("only a document in the trash can be purged; move it to the trash first")
    if doc.status == DELETED:
        doc = _claim_for_purge(doc, store, guards)
    found = links.links_of(doc, store)  # before their refs go with the other children
    links.document_changed(doc, store, links=found)  # its links stop serving before the first byte goes
    children = []
    cursor: str | None = None
    while True:
        page = store.query(keys.document_pk(document_id), limit=500, cursor=cursor, consistent=True)
        children += [i for i in page.items if i["sk"] != "DOC"]
        cursor = page.next_cursor
        if not cursor:
            break
    for child in children:  # stop unfinished multipart uploads before the bytes go
        if child.get("type") == "version" and child.get("status") == "pending":
            session = store.get(keys.upload(child["upload_id"]))
            if session and session.get("s3_upload_id"):
                objects.abort_multipart(session["object_key"], s3_upload_id=session["s3_upload_id"])
    objects.delete_everything_under(f"{DOCUMENTS_PREFIX}{doc.workspace_id}/{document_id}/")
    for child in children:
        _delete_child(child, doc.workspace_id, store)
    event = AuditEvent(
        action,
        actor,
        workspace_id=doc.workspace_id,
        document_id=document_id,
        details={"name": doc.name, "versions": doc.version_count, **(details or {})},
    )
    try:
        store.transact(
            [
                {
                    "Delete": {
                        "Key": keys.document(document_id),
                        "ConditionExpression": "#s = :purging",
                        "ExpressionAttributeNames": {"#s": "status"},
                        "ExpressionAttributeValues": {":purging": PURGING},
                    }
                },
                {
                    "Update": {
                        "Key": keys.workspace(doc.workspace_id),
                        "UpdateExpression": "ADD document_count :minus",
                        "ConditionExpression": "attribute_exists(pk)",
                        "ExpressionAttributeValues": {":minus": -1},
                    }
                },
                audit.put_action(event),
            ]
        )
    except TransactionCancelled:
        if store.get(keys.document(document_id)) is not None:
            raise Conflict("the document changed while it was being purged") from None
        # Another purge of the same claim (the sweeper, a retry) finished first: nothing is left.
    doc.status = PURGED
    doc.revision += 1
    doc.current_object_key = doc.current_s3_version_id = doc.current_version = None
    links.document_changed(doc, store, links=found)


def _delete_child(child: dict[str, Any], workspace_id: str, store: Store) -> None:
    """Delete a version or tag item. A version whose bytes the workspace counts (``counted_bytes``)
    gives them back in the same transaction, conditioned on the item still being there and not
    ``failed`` (a failed upload gave them back when it failed), so a retried purge, or an upload
    failing meanwhile, never releases twice."""
    key = {"pk": child["pk"], "sk": child["sk"]}
    counted = int(child.get("counted_bytes") or 0)
    if child.get("type") == "version" and counted and child.get("status") != "failed":
        delete = {
            "Delete": {
                "Key": key,
                "ConditionExpression": "attribute_exists(pk) AND #s <> :failed",
                "ExpressionAttributeNames": {"#s": "status"},
                "ExpressionAttributeValues": {":failed": "failed"},
            }
        }
        try:
            store.transact([delete, quota.release_action(workspace_id, counted)])
            return
        except TransactionCancelled:
            pass  # gone already, or failed meanwhile (and released then): delete what is left
    store.delete(key)


def _claim_for_purge(doc: Document, store: Store, guards: tuple[dict[str, Any], ...]) -> Document:
    """Move a trashed document to ``purging`` (conditionally, with ``guards``); the claimed document."""
    claim = {
        "Update": {
            "Key": keys.document(doc.id),
            "UpdateExpression": "SET #s = :purging, purging_at = :at, revision = if_not_exists(revision, :zero) + :one",
            "ConditionExpression": "#s = :deleted",
            "ExpressionAttributeNames": {"#s": "status"},
            "ExpressionAttributeValues": {
                ":purging": PURGING,
                ":deleted": DELETED,
                ":at": clock.iso(clock.now()),
                ":one": 1,
                ":zero": 0,
            },
        }
    }
    try:
        store.transact([claim, *guards])
    except TransactionCancelled as cancelled:
        if guards and lost_role(cancelled.reasons):
            raise _LostRole() from None
    current = store.get(keys.document(doc.id))
    if current is None:
        raise NotFound("document not found")
    if current.get("status") != PURGING:
        raise Conflict("the document left the trash; only a document in the trash can be purged")
    # Claimed by us, or by another purge meanwhile: finishing it is the same work.
    return Document.from_item(current)
