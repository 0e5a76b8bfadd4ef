"""Documents: create with an upload, read with versions, list, edit, trash, restore, purge, download.

Every write that touches a document's listing keys or tag items is one transaction conditioned on
the document's ``revision`` (and bumps it), so concurrent edits never leave tag items or listing
keys out of step with the document. After each change that a share link copies, the sharing
feature is told (``sharing.links.document_changed``).
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import timedelta
from typing import Any, NoReturn

from docuserve import audit, clock, ids, keys, uploads
from docuserve.access import document_access, holds_role, lost_role, refuse_lost_role, workspace_access
from docuserve.adapters import objects
from docuserve.adapters.store import Page, Store, TransactionCancelled
from docuserve.audit import Actor, AuditEvent
from docuserve.disposition import inline_type
from docuserve.errors import Conflict, InvalidInput, NotFound
from docuserve.identity import Caller
from docuserve.observability import BusinessMetric, count
from docuserve.records import Document, Version
from docuserve.roles import Role
from docuserve.schema import DOCUMENTS_PREFIX
from docuserve.settings import get_settings
from docuserve.sharing import links

RETRIES = 5
FILL_ROUNDS = 5  # Queries per list request when filters thin out a page
VERSIONS_SHOWN = 100
DELETED, PURGING, PURGED = "deleted", "purging", "purged"
_BEING_PURGED = "the document is being purged"


def document_item(doc: Document, revision: int) -> dict[str, Any]:
    """The stored document: the record's fields plus keys, listing keys and the revision.

    A trashed document also carries the sparse trash-index keys (gsi4); the item is always
    written whole, so restoring drops them.
    """
    trash_index = keys.trash_index_keys(doc.deleted_at, doc.id) if doc.status == "deleted" and doc.deleted_at else {}
    return {
        **keys.document(doc.id),
        **keys.document_listing_keys(doc.workspace_id, doc.id, name=doc.name, folder=doc.folder, status=doc.status),
        **trash_index,
        "type": "document",
        **asdict(doc),
        "name_lower": doc.name.lower(),
        "revision": revision,
    }


def tag_item(doc: Document, tag: str) -> dict[str, Any]:
    state = keys.document_state(doc.status)
    return {
        **keys.document_tag(doc.id, tag),
        "type": "document_tag",
        "document_id": doc.id,
        "workspace_id": doc.workspace_id,
        "tag": tag,
        "folder": doc.folder,
        "name_lower": doc.name.lower(),
        "gsi3pk": keys.tag_listing_pk(doc.workspace_id, state, tag),
        "gsi3sk": keys.document_name_key(doc.name, doc.id),
    }


def _rewrite(
    doc: Document, revision: int, old_tags: list[str], event: AuditEvent, guard: dict[str, Any]
) -> list[dict[str, Any]]:
    """Transaction actions replacing the document (if still at ``revision``) and its tag items;
    ``guard`` (the caller's role re-checked) goes last."""
    actions: list[dict[str, Any]] = [
        {
            "Put": {
                "Item": document_item(doc, revision + 1),
                "ConditionExpression": "revision = :rev",
                "ExpressionAttributeValues": {":rev": revision},
            }
        }
    ]
    actions += [{"Delete": {"Key": keys.document_tag(doc.id, t)}} for t in old_tags if t not in doc.tags]
    actions += [{"Put": {"Item": tag_item(doc, t)}} for t in doc.tags]
    actions += [audit.put_action(event), guard]
    return actions


def _editor(caller: Caller, doc: Document) -> dict[str, Any]:
    return holds_role(doc.workspace_id, caller.user_id, Role.EDITOR)


def _refuse(caller: Caller, doc: Document, role: Role, what: str) -> NoReturn:
    refuse_lost_role(caller, doc.workspace_id, role, what=what, not_found="document not found")


class _LostRole(Exception):
    """The caller's role check (the last action of the purge's claim) failed."""


def _load(document_id: str, store: Store) -> tuple[Document, int]:
    item = store.get(keys.document(document_id))
    if item is None:
        raise NotFound("document not found")
    return Document.from_item(item), int(item.get("revision", 0))


# --- create and new versions --------------------------------------------------------------------


def create(
    caller: Caller,
    workspace_id: str,
    *,
    name: str,
    folder: str,
    tags: list[str],
    description: str,
    declared: uploads.Declared,
) -> tuple[Document, uploads.Instructions]:
    """A pending document and the instructions to upload its first version."""
    uploads.check_size(declared.size)
    workspace_access(caller, workspace_id, Role.EDITOR, what="adding documents")
    at = clock.iso(clock.now())
    doc = Document(
        id=ids.new_child_id(workspace_id),
        workspace_id=workspace_id,
        name=name,
        folder=folder,
        content_type=declared.content_type,
        size=declared.size,
        sha256=declared.sha256,
        status="pending",
        created_at=at,
        created_by=caller.user_id,
        updated_at=at,
        updated_by=caller.user_id,
        tags=tags,
        description=description,
        version_count=1,
    )
    planned = uploads.plan(caller, document_id=doc.id, number=1, declared=declared)
    event = AuditEvent(
        "document.created",
        Actor.member(caller),
        workspace_id=workspace_id,
        document_id=doc.id,
        details={"name": name, "folder": folder, "size": declared.size, "version_id": planned.version_item["id"]},
    )
    actions: list[dict[str, Any]] = [
        {"Put": {"Item": document_item(doc, 1), "ConditionExpression": "attribute_not_exists(pk)"}},
        {
            "Update": {
                "Key": keys.workspace(workspace_id),
                "UpdateExpression": "ADD document_count :one",
                "ConditionExpression": "attribute_exists(pk)",
                "ExpressionAttributeValues": {":one": 1},
            }
        },
        {"Put": {"Item": planned.version_item}},
        {"Put": {"Item": planned.upload_item}},
        *({"Put": {"Item": tag_item(doc, t)}} for t in tags),
        audit.put_action(event),
        holds_role(workspace_id, caller.user_id, Role.EDITOR),
    ]
    try:
        Store().transact(actions)
    except TransactionCancelled as cancelled:
        if lost_role(cancelled.reasons):
            refuse_lost_role(
                caller, workspace_id, Role.EDITOR, what="adding documents", not_found="workspace not found"
            )
        raise NotFound("workspace not found") from None
    return doc, planned.instructions


def new_version(caller: Caller, document_id: str, declared: uploads.Declared) -> uploads.Instructions:
    """Instructions to upload the next version of an existing document (empty type: the document's)."""
    uploads.check_size(declared.size)
    store = Store()
    doc = document_access(caller, document_id, Role.EDITOR, what="uploading versions", store=store).document
    if not declared.content_type:  # not given: the new version keeps the document's type
        declared = uploads.Declared(size=declared.size, sha256=declared.sha256, content_type=doc.content_type)
    for _ in range(RETRIES):
        if doc.status == PURGING:
            raise Conflict(_BEING_PURGED)
        if doc.status == DELETED:
            raise Conflict("the document is in the trash; restore it first")
        number = doc.version_count + 1
        planned = uploads.plan(caller, document_id=document_id, number=number, declared=declared)
        event = AuditEvent(
            "version.started",
            Actor.member(caller),
            workspace_id=doc.workspace_id,
            document_id=document_id,
            details={"version_id": planned.version_item["id"], "number": number, "size": declared.size},
        )
        try:
            store.transact(
                [
                    {
                        "Update": {
                            "Key": keys.document(document_id),
                            # The revision moves too: a concurrent edit that read the old count
                            # must fail and re-read, or its whole-item write would put it back.
                            "UpdateExpression": "SET version_count = :n,"
                            " revision = if_not_exists(revision, :zero) + :one",
                            "ConditionExpression": "version_count = :seen AND NOT #s IN (:deleted, :purging)",
                            "ExpressionAttributeNames": {"#s": "status"},
                            "ExpressionAttributeValues": {
                                ":n": number,
                                ":seen": number - 1,
                                ":deleted": DELETED,
                                ":purging": PURGING,
                                ":zero": 0,
                                ":one": 1,
                            },
                        }
                    },
                    {"Put": {"Item": planned.version_item}},
                    {"Put": {"Item": planned.upload_item}},
                    audit.put_action(event),
                    holds_role(doc.workspace_id, caller.user_id, Role.EDITOR),
                ]
            )
            return planned.instructions
        except TransactionCancelled as cancelled:
            if planned.upload_item.get("s3_upload_id"):
                objects.abort_multipart(
                    planned.upload_item["object_key"], s3_upload_id=planned.upload_item["s3_upload_id"]
                )
            if lost_role(cancelled.reasons):
                _refuse(caller, doc, Role.EDITOR, "uploading versions")
            doc, _ = _load(document_id, store)
    raise Conflict("other versions are being started at the same time; try again")


# --- read and list ------------------------------------------------------------------------------


def get(caller: Caller, document_id: str) -> tuple[Document, list[Version]]:
    """The document and its newest versions (every version of every status, newest first)."""
    store = Store()
    doc = document_access(caller, document_id, store=store).document
    page = store.query(f"DOC#{document_id}", sk_prefix=keys.version_prefix(), limit=1000, consistent=True)
    versions = sorted((Version.from_item(i) for i in page.items), key=lambda v: v.number, reverse=True)
    return doc, versions[:VERSIONS_SHOWN]


def list_documents(
    caller: Caller,
    workspace_id: str,
    *,
    folder: str | None,
    tag: str | None,
    q: str | None,
    trash: bool,
    limit: int,
    cursor: str | None,
) -> tuple[list[Document], str | None]:
    """One page of documents, by name, using Query on gsi1 (folder), gsi2 (all) or gsi3 (tag)."""
    workspace_access(caller, workspace_id)
    state = keys.TRASH if trash else keys.LIVE
    filters: list[str] = []
    names: dict[str, str] = {}
    values: dict[str, Any] = {}
    if q:
        filters.append("contains(name_lower, :q)")
        values[":q"] = q.lower()
    if tag is not None:
        index, partition = "gsi3", keys.tag_listing_pk(workspace_id, state, tag)
        if folder is not None:
            filters.append("#folder = :folder")
            names["#folder"], values[":folder"] = "folder", folder
    elif folder is not None:
        index, partition = "gsi1", keys.folder_listing_pk(workspace_id, state, folder)
    else:
        index, partition = "gsi2", keys.documents_listing_pk(workspace_id, state)
    store = Store()
    found: list[dict[str, Any]] = []
    for _ in range(FILL_ROUNDS):
        page: Page = store.query(
            partition,
            index=index,
            limit=limit - len(found),
            cursor=cursor,
            filter_expression=" AND ".join(filters) or None,
            names=names or None,
            expression_values=values or None,
        )
        found += page.items
        cursor = page.next_cursor
        if len(found) >= limit or not cursor:
            break
    if tag is not None:
        docs = []
        for start in range(0, len(found), 100):
            chunk = found[start : start + 100]
            docs += store.get_many([keys.document(i["document_id"]) for i in chunk], consistent=False)
        found = [d for d in docs if d is not None]
    return [Document.from_item(i) for i in found], cursor


# --- edit, trash, restore, purge ----------------------------------------------------------------


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
        doc, revision = _load(document_id, store)
        if doc.status == PURGING:
            raise Conflict(_BEING_PURGED)
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
            store.transact(_rewrite(doc, revision, old_tags, event, _editor(caller, doc)))
        except TransactionCancelled as cancelled:
            if lost_role(cancelled.reasons):
                _refuse(caller, doc, Role.EDITOR, "editing documents")
            continue
        doc.revision = revision + 1
        links.document_changed(doc, store)
        return doc
    raise Conflict("the document is changing concurrently; try again")


def _move(caller: Caller, document_id: str, *, to_trash: bool, resume_links: bool = False) -> tuple[Document, int]:
    store = Store()
    document_access(caller, document_id, Role.EDITOR, what="trash and restore", store=store)
    for _ in range(RETRIES):
        doc, revision = _load(document_id, store)
        at = clock.iso(clock.now())
        if doc.status == PURGING:
            raise Conflict(_BEING_PURGED)
        if to_trash:
            if doc.status == "deleted":
                raise Conflict("the document is already in the trash")
            doc.status_before_delete, doc.status, doc.deleted_at = doc.status, "deleted", at
        else:
            if doc.status != "deleted":
                raise Conflict("the document is not in the trash")
            doc.status, doc.status_before_delete, doc.deleted_at = doc.status_before_delete or "pending", None, None
        doc.updated_at, doc.updated_by = at, caller.user_id
        action = "document.trashed" if to_trash else "document.restored"
        event = AuditEvent(action, Actor.member(caller), workspace_id=doc.workspace_id, document_id=doc.id)
        try:
            store.transact(_rewrite(doc, revision, list(doc.tags), event, _editor(caller, doc)))
        except TransactionCancelled as cancelled:
            if lost_role(cancelled.reasons):
                _refuse(caller, doc, Role.EDITOR, "trash and restore")
            continue
        doc.revision = revision + 1
        resumed = links.document_changed(doc, store, restored=not to_trash, resume=resume_links)
        return doc, 0 if to_trash else resumed
    raise Conflict("the document is changing concurrently; try again")


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
        _refuse(caller, doc, Role.OWNER, "purging documents")


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
    links.document_changed(doc, store)  # its links stop serving before the first byte goes
    children = []
    cursor: str | None = None
    while True:
        page = store.query(f"DOC#{document_id}", limit=500, cursor=cursor, consistent=True)
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
        store.delete({"pk": child["pk"], "sk": child["sk"]})
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
    links.document_changed(doc, store)


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


# --- download -----------------------------------------------------------------------------------


def download(
    caller: Caller,
    document_id: str,
    *,
    version_id: str | None,
    inline: bool,
    ip: str | None,
    user_agent: str | None,
) -> tuple[str, str]:
    """A presigned GET (≤ 60 s) and its expiry: one BatchGetItem, one audit PutItem, no S3 call."""
    if version_id is not None and not ids.is_valid(version_id):
        raise NotFound("version not found")
    access = document_access(caller, document_id, version_id=version_id)
    doc = access.document
    if doc.status in (DELETED, PURGING):
        raise Conflict("the document is in the trash")
    if access.version is not None:
        version = access.version
        if version.status != "available":
            raise Conflict(f"this version is {version.status}")
        key, s3_version, content_type = version.object_key, version.s3_version_id, version.content_type
        chosen = version.id
    else:
        if not doc.current_version or not doc.current_object_key:
            raise Conflict("no version of this document is available yet")
        key, s3_version, content_type = doc.current_object_key, doc.current_s3_version_id, doc.content_type
        chosen = doc.current_version
    if inline:
        # Served inline as the allow-listed type itself, never as the stored value.
        served = inline_type(content_type)
        if served is None:
            raise InvalidInput("disposition", f"{content_type} can only be downloaded as an attachment")
        content_type = served
    ttl = get_settings().limits.download_url_ttl_seconds
    url = objects.presign_get(
        key, filename=doc.name, content_type=content_type, s3_version_id=s3_version, inline=inline
    )
    audit.record(
        AuditEvent(
            "document.downloaded",
            Actor.member(caller, ip=ip, user_agent=user_agent),
            workspace_id=doc.workspace_id,
            document_id=doc.id,
            details={"version_id": chosen, "disposition": "inline" if inline else "attachment"},
        )
    )
    count(BusinessMetric.MEMBER_DOWNLOADS)
    return url, clock.iso(clock.now() + timedelta(seconds=ttl))
