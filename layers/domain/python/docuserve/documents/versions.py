"""Starting a new version: a gap-free number claimed on the document, the upload planned with it."""

from __future__ import annotations

from typing import Any

from docuserve import audit, keys, quota, uploads
from docuserve.access import document_access, holds_role, lost_role
from docuserve.adapters import objects
from docuserve.adapters.store import Store, TransactionCancelled
from docuserve.audit import Actor, AuditEvent
from docuserve.documents.common import BEING_PURGED, RETRIES, load, refuse
from docuserve.documents.items import DELETED, PURGING
from docuserve.errors import Conflict
from docuserve.identity import Caller
from docuserve.roles import Role


def new_version(caller: Caller, document_id: str, declared: uploads.Declared) -> uploads.Instructions:
    """Instructions to upload the next version of an existing document (empty type: the document's)."""
    uploads.check_size(declared.size)
    store = Store()
    doc = document_access(caller, document_id, Role.EDITOR, what="uploading versions", store=store).document
    if not declared.content_type:  # not given: the new version keeps the document's type
        declared = uploads.Declared(size=declared.size, sha256=declared.sha256, content_type=doc.content_type)
    for _ in range(RETRIES):
        if doc.status == PURGING:
            raise Conflict(BEING_PURGED)
        if doc.status == DELETED:
            raise Conflict("the document is in the trash; restore it first")
        number = doc.version_count + 1
        # Before S3 is asked for anything: a full workspace is a 413 at once.
        reserve = quota.workspace_update(doc.workspace_id, add_bytes=declared.size, store=store)
        reservations = [quota.reservation_entry(doc.workspace_id, declared.size)]
        planned = uploads.plan(
            caller, document_id=document_id, number=number, declared=declared, reservations=reservations
        )
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
                    claim_number(document_id, number),
                    {"Put": {"Item": planned.version_item}},
                    {"Put": {"Item": planned.upload_item}},
                    audit.put_action(event),
                    reserve,
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
                refuse(caller, doc, Role.EDITOR, "uploading versions")
            if cancelled.reasons[RESERVE] == "ConditionalCheckFailed":
                quota.explain(doc.workspace_id, declared.size, store)  # the 413; else the quota changed
            doc, _ = load(document_id, store)
    raise Conflict("other versions are being started at the same time; try again")


RESERVE = 4  # the index of the quota's reservation in the transaction that starts a version


def claim_number(document_id: str, number: int) -> dict[str, Any]:
    """Transaction action: claim version ``number`` of a document that still takes versions.

    It succeeds only if ``number - 1`` versions were claimed (so numbers never repeat or skip) and
    the document is neither in the trash nor being purged. The revision moves too: a concurrent
    edit that read the old count must fail and re-read, or its whole-item write would put it back.
    """
    return {
        "Update": {
            "Key": keys.document(document_id),
            "UpdateExpression": "SET version_count = :n, revision = if_not_exists(revision, :zero) + :one",
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
    }
