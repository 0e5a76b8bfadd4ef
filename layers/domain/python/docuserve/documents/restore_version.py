"""Restoring an older version: its bytes become the newest version, under a new number.

Versions are immutable and numbered without gaps, so a restore never moves ``current`` back: it
claims the next number exactly as a new upload does (one transaction with the role and document
checks), then S3 copies the old object version server-side into a new server-generated key
(SSE-KMS, SHA-256). From there the new version takes the normal landing path: S3's object-created
event reaches upload processing, which checks the size and SHA-256 against the old version's and
makes it current. The session is recorded like an upload (method ``COPY``, already
``completing``), so ``GET /uploads/{id}`` follows it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from docuserve import audit, clock, ids, keys, quota, uploads
from docuserve.access import document_access, holds_role, lost_role
from docuserve.adapters import copies, objects
from docuserve.adapters.store import Store, TransactionCancelled
from docuserve.audit import Actor, AuditEvent
from docuserve.documents.common import BEING_PURGED, RETRIES, load, refuse
from docuserve.documents.items import DELETED, PURGING
from docuserve.documents.versions import claim_number
from docuserve.errors import Conflict, NotFound
from docuserve.identity import Caller
from docuserve.observability import logger
from docuserve.records import Document, Version
from docuserve.roles import Role
from docuserve.uploads import SESSION_DAYS

WHAT = "restoring versions"
RESERVE = 4  # the index of the quota's reservation in the restore's transaction


@dataclass(frozen=True)
class Restored:
    """The new version a restore started, and the one it copies."""

    upload_id: str
    document_id: str
    version_id: str
    number: int
    status: str  # the session's: "completing" until the copy has landed and been verified
    restored_from_version_id: str
    restored_from_number: int


def restore_version(caller: Caller, document_id: str, version_id: str) -> Restored:
    """Make ``version_id``'s bytes the document's newest version (editor+; the document not in the trash)."""
    if not ids.is_valid(version_id):
        raise NotFound("version not found")
    store = Store()
    access = document_access(caller, document_id, Role.EDITOR, version_id=version_id, what=WHAT, store=store)
    doc, source = access.document, access.version
    assert source is not None  # asked for: a missing version is a NotFound above
    if source.status != "available":
        raise Conflict(f"only an available version can be restored; this one is {source.status}")
    if source.size > copies.MAX_SINGLE_COPY:
        raise Conflict(
            "versions larger than 5 GiB cannot be restored yet; download this version and upload it as a new one"
        )
    for _ in range(RETRIES):
        _check_document(doc, source)
        number = doc.version_count + 1
        reserve = quota.workspace_update(doc.workspace_id, add_bytes=source.size, store=store)
        version_item, upload_item = _items(caller, doc, source, number)
        event = AuditEvent(
            "version.restored",
            Actor.member(caller),
            workspace_id=doc.workspace_id,
            document_id=doc.id,
            details={
                "version_id": version_item["id"],
                "number": number,
                "restored_from_version_id": source.id,
                "restored_from_number": source.number,
                "size": source.size,
            },
        )
        try:
            store.transact(
                [
                    claim_number(doc.id, number),
                    {"Put": {"Item": version_item}},
                    {"Put": {"Item": upload_item}},
                    audit.put_action(event),
                    reserve,
                    holds_role(doc.workspace_id, caller.user_id, Role.EDITOR),
                ]
            )
        except TransactionCancelled as cancelled:
            if lost_role(cancelled.reasons):
                refuse(caller, doc, Role.EDITOR, WHAT)
            if cancelled.reasons[RESERVE] == "ConditionalCheckFailed":
                quota.explain(doc.workspace_id, source.size, store)  # the 413; else the quota changed
            doc, _ = load(document_id, store)
            continue
        _copy(version_item, upload_item, source, store)
        return Restored(
            upload_id=upload_item["id"],
            document_id=doc.id,
            version_id=version_item["id"],
            number=number,
            status="completing",
            restored_from_version_id=source.id,
            restored_from_number=source.number,
        )
    raise Conflict("other versions are being started at the same time; try again")


def _check_document(doc: Document, source: Version) -> None:
    if doc.status == PURGING:
        raise Conflict(BEING_PURGED)
    if doc.status == DELETED:
        raise Conflict("the document is in the trash; restore it first")
    if source.id == doc.current_version:
        raise Conflict("this version is already the current one")


def _items(caller: Caller, doc: Document, source: Version, number: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """The new version (pending, declaring the source's size, SHA-256 and type) and its session."""
    version_id, upload_id = ids.new_child_id(doc.workspace_id), ids.new_child_id(doc.workspace_id)
    key = objects.object_key(doc.id, version_id)
    now = clock.now()
    at = clock.iso(now)
    declared = {"size": source.size, "sha256": source.sha256, "content_type": source.content_type}
    version_item = {
        **keys.version(doc.id, version_id),
        "type": "version",
        "id": version_id,
        "document_id": doc.id,
        "number": number,
        "object_key": key,
        **declared,
        "status": "pending",
        "created_at": at,
        "created_by": caller.user_id,
        "upload_id": upload_id,
        "restored_from": source.id,
    }
    upload_item = {
        **keys.upload(upload_id),
        "gsi1pk": keys.uploader_pk(doc.workspace_id, caller.user_id),
        "gsi1sk": upload_id,
        "type": "upload",
        "id": upload_id,
        "workspace_id": doc.workspace_id,
        "document_id": doc.id,
        "version_id": version_id,
        "object_key": key,
        **declared,
        "method": "COPY",
        "status": "completing",  # no client bytes to wait for: S3 copies, processing verifies
        "created_at": at,
        "created_by": caller.user_id,
        "restored_from": source.id,
        "ttl": clock.epoch(now + timedelta(days=SESSION_DAYS)),
    }
    uploads.record_reservations(version_item, upload_item, [quota.reservation_entry(doc.workspace_id, source.size)])
    return version_item, upload_item


def _copy(version_item: dict[str, Any], upload_item: dict[str, Any], source: Version, store: Store) -> None:
    """S3 copies the source object version; a refusal fails the new version (audited) and answers 409."""
    try:
        copies.copy_version(source.object_key, source.s3_version_id, version_item["object_key"])
    except copies.CopyRefused as refused:
        reason = f"S3 could not copy version {source.number} ({refused.code})"
        _fail(upload_item, reason, store)
        raise Conflict(reason) from None


def _fail(upload_item: dict[str, Any], reason: str, store: Store) -> None:
    if uploads.fail_completing(upload_item, reason, store):  # else decided meanwhile (a purge took the items)
        logger.info("version restore failed", extra={"version_id": upload_item["version_id"], "reason": reason})
