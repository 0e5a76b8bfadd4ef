"""Creating a document: the pending document and its first version's upload, in one transaction."""

from __future__ import annotations

from typing import Any

from docuserve import audit, clock, ids, keys, uploads
from docuserve.access import holds_role, lost_role, refuse_lost_role, workspace_access
from docuserve.adapters.store import Store, TransactionCancelled
from docuserve.audit import Actor, AuditEvent
from docuserve.documents.items import document_item, tag_item
from docuserve.errors import NotFound
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
        link_refs=True,
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
