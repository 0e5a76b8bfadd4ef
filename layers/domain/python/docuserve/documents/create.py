"""Creating a document: the pending document and its first version's upload, in one transaction."""

from __future__ import annotations

from typing import Any

from docuserve import audit, clock, ids, quota, uploads
from docuserve.access import holds_role, lost_role, refuse_lost_role, workspace_access
from docuserve.adapters import objects
from docuserve.adapters.store import Store, TransactionCancelled
from docuserve.audit import Actor, AuditEvent
from docuserve.documents.items import document_item, tag_item
from docuserve.errors import Conflict, DomainError, NotFound
from docuserve.identity import Caller
from docuserve.records import Document
from docuserve.roles import Role


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
    store = Store()
    access = workspace_access(caller, workspace_id, Role.EDITOR, what="adding documents", store=store)
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
        link_refs=True,
    )
    # Before S3 is asked for anything: a full workspace is a 413 at once.
    reserve = quota.workspace_update(
        workspace_id, add_bytes=declared.size, add_documents=1, store=store, workspace=access.workspace
    )
    reservations = [quota.reservation_entry(workspace_id, declared.size)]
    planned = uploads.plan(caller, document_id=doc.id, number=1, declared=declared, reservations=reservations)
    event = AuditEvent(
        "document.created",
        Actor.member(caller),
        workspace_id=workspace_id,
        document_id=doc.id,
        details={"name": name, "folder": folder, "size": declared.size, "version_id": planned.version_item["id"]},
    )
    actions: list[dict[str, Any]] = [
        {"Put": {"Item": document_item(doc, 1), "ConditionExpression": "attribute_not_exists(pk)"}},
        reserve,  # WORKSPACE: the quota's reservation and the document count, one action on one item
        {"Put": {"Item": planned.version_item}},
        {"Put": {"Item": planned.upload_item}},
        *({"Put": {"Item": tag_item(doc, t)}} for t in tags),
        audit.put_action(event),
        holds_role(workspace_id, caller.user_id, Role.EDITOR),
    ]
    try:
        _commit(caller, workspace_id, declared.size, actions, store)
    except DomainError:
        if planned.upload_item.get("s3_upload_id"):  # refused: S3's multipart upload is of no use
            objects.abort_multipart(planned.upload_item["object_key"], s3_upload_id=planned.upload_item["s3_upload_id"])
        raise
    return doc, planned.instructions


WORKSPACE = 1  # the index of the workspace's action in the creation's transaction
RETRIES = 3


def _commit(caller: Caller, workspace_id: str, size: int, actions: list[dict[str, Any]], store: Store) -> None:
    """Run the creation's transaction; a failed workspace condition is a 413 (the quota), a 404
    (no workspace), or, when an admin changed the quota meanwhile, another try."""
    for _ in range(RETRIES):
        try:
            store.transact(actions)
            return
        except TransactionCancelled as cancelled:
            if lost_role(cancelled.reasons):
                refuse_lost_role(
                    caller, workspace_id, Role.EDITOR, what="adding documents", not_found="workspace not found"
                )
            if cancelled.reasons[WORKSPACE] != "ConditionalCheckFailed" or not quota.explain(workspace_id, size, store):
                raise NotFound("workspace not found") from None
            # An admin changed the quota since it was read and the upload still fits: read it again.
            actions[WORKSPACE] = quota.workspace_update(workspace_id, add_bytes=size, add_documents=1, store=store)
    raise Conflict("the workspace's quota kept changing; try again")
