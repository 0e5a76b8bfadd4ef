"""Upload sessions: instructions for a new version's bytes, resume, complete, abort, status.

The server generates every object key. Up to the single-PUT threshold the client gets one
presigned PUT that signs content type, length, SHA-256 and SSE-KMS headers; above it an S3
multipart upload (created here, encrypted with our key, with ``ChecksumAlgorithm=SHA256``). A part
URL is granted for a part's declared SHA-256 and signs it, so S3 refuses any part whose bytes do not
match; the client hashes each part before asking for its URL, which works while streaming.

Completion never waits for S3 inside the API request: it checks the list, records the composite
checksum the declared parts make, puts a job on the upload-jobs queue and answers 202; the job
(``assemble``) calls CompleteMultipartUpload, which S3 documents as possibly taking minutes.
Sessions live in DynamoDB with a TTL; the version they fill becomes available only in
``processing``.

Abandoned sessions expire (``expire``; the daily sweep in ``upload_expiry``, and on read): a
single PUT once its URL has expired and a PUT begun just before could have finished
(``PUT_GRACE``); a multipart upload, whose part URLs are re-issued to resume, after a day to come
back plus the time its bytes take at a slow 256 KiB/s (``resumable_until``). The session fails with
reason ``expired`` and S3 drops its parts. Each session carries the sparse gsi4 keys
``UPLOADS_DUE`` / ``{due}#{upload}`` until the sweep has seen it past its deadline.

A document whose only version never landed is *discarded* when that upload is cancelled, expires,
or is aborted because its uploader lost the role, and the sweep discards one whose first version
failed verification: the document, its version and tag items go in the same transaction, audited
as ``document.discarded``. It held no bytes, so nothing is lost; a "failed" document would only be
a row nobody can download, share or fix (its upload cannot be restarted), and people who cancel
an upload in Box or Drive expect the file not to be there. The session item stays (with its
reason) so the uploader's client can tell what happened.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from docuserve import audit, clock, ids, keys
from docuserve.access import holds_role, lost_role, refuse_lost_role
from docuserve.adapters import jobs, objects
from docuserve.adapters.store import ConditionFailed, Store, TransactionCancelled
from docuserve.audit import Actor, AuditEvent
from docuserve.errors import Conflict, Forbidden, InvalidInput, NotFound, PayloadTooLarge
from docuserve.identity import Caller
from docuserve.limits import MIB
from docuserve.observability import logger
from docuserve.roles import Role
from docuserve.settings import get_settings

S3_MAX_PARTS = 10_000
EXPIRED = "expired"
# A PUT begun just before its URL expired may still be sending (S3 checks the URL when it starts).
PUT_GRACE = timedelta(hours=1)
RESUME_DAYS = 1  # how long a multipart upload can be resumed, plus the time its bytes take at:
SLOW_BYTES_PER_SECOND = 256 * 1024
DUE_INDEX_PK = "UPLOADS_DUE"  # gsi4, sparse: sessions the expiry sweep has not yet seen past due


def due_index_keys(due_at: str, upload_id: str) -> dict[str, str]:
    """The sparse gsi4 attributes of an upload session until the sweep has seen it past due
    (a key helper of this feature, kept here beside the session's other fields)."""
    return {"gsi4pk": DUE_INDEX_PK, "gsi4sk": f"{due_at}#{upload_id}"}


def resumable_until(upload: dict[str, Any]) -> datetime:
    """When a pending session expires (sessions written before this rule get it from their fields)."""
    if upload.get("due_at"):
        return clock.parse(str(upload["due_at"]))
    return _due(clock.parse(str(upload["created_at"])), str(upload["method"]), int(upload["size"]))


def _due(created: datetime, method: str, size: int) -> datetime:
    if method == "MULTIPART":
        return created + timedelta(days=RESUME_DAYS, seconds=math.ceil(size / SLOW_BYTES_PER_SECOND))
    return created + timedelta(seconds=get_settings().limits.upload_url_ttl_seconds) + PUT_GRACE


# Our own cap, below S3's: the completion job carries every part's ETag and SHA-256 in one SQS
# message (at most 256 KiB; ~85 bytes a part), so the part size grows past 2,000 parts.
MAX_PARTS = 2_000
SESSION_DAYS = 7  # the session item's TTL; the bucket aborts incomplete multipart uploads too


@dataclass(frozen=True)
class Declared:
    """What the client says it will upload."""

    size: int
    sha256: str
    content_type: str


def check_size(size: int) -> None:
    maximum = get_settings().limits.max_document_size
    if size > maximum:
        raise PayloadTooLarge(
            f"size exceeds the maximum document size of {maximum} bytes", fields={"size": "too large"}
        )


def part_size_for(size: int) -> int:
    """The configured part size, grown (in whole MiB) when more than ``MAX_PARTS`` would be needed."""
    needed = math.ceil(size / MAX_PARTS)
    return max(get_settings().limits.part_size, math.ceil(needed / MIB) * MIB)


@dataclass(frozen=True)
class PartGrant:
    """A presigned URL for one part of a multipart upload, and the headers it signs."""

    part_number: int
    url: str
    headers: dict[str, str]


@dataclass(frozen=True)
class Instructions:
    """How the client uploads a new version's bytes (SPEC "Upload instructions"), with its ids."""

    upload_id: str
    document_id: str
    version_id: str
    method: str  # "PUT" | "MULTIPART"
    expires_at: str
    url: str | None = None
    headers: dict[str, str] | None = None
    part_size: int | None = None
    part_count: int | None = None
    parts: list[PartGrant] | None = None


@dataclass(frozen=True)
class PartGrants:
    """Fresh part URLs for a multipart upload."""

    upload_id: str
    parts: list[PartGrant]
    expires_at: str


@dataclass(frozen=True)
class HeldPart:
    """A part S3 already holds for a pending multipart upload (its SHA-256 where S3 lists it)."""

    part_number: int
    etag: str
    sha256: str | None


@dataclass(frozen=True)
class Status:
    """Where an upload session stands; a pending multipart one also says which parts S3 holds."""

    upload_id: str
    document_id: str
    version_id: str
    method: str
    status: str  # pending | completing | completed | failed | aborted
    size: int
    created_at: str
    failure_reason: str | None = None
    part_size: int | None = None
    part_count: int | None = None
    resumable_until: str | None = None
    parts: list[HeldPart] | None = None


@dataclass
class Planned:
    """The items and instructions of one new version upload, ready to go into a transaction."""

    version_item: dict[str, Any]
    upload_item: dict[str, Any]
    instructions: Instructions


def plan(
    caller: Caller,
    *,
    document_id: str,
    number: int,
    declared: Declared,
    reservations: Sequence[dict[str, Any]] = (),
) -> Planned:
    """Create the S3 side of an upload (multipart only) and the version and session items.

    ``reservations``: the counters the transaction that starts this upload increments (see
    ``release_actions``); the session records them, the version the bytes its workspace counts.
    """
    check_size(declared.size)
    settings = get_settings()
    workspace_id = document_id.split(".", 1)[0]
    version_id, upload_id = ids.new_child_id(workspace_id), ids.new_child_id(workspace_id)
    key = objects.object_key(document_id, version_id)
    now = clock.now()
    at, url_expiry = clock.iso(now), clock.iso(now + timedelta(seconds=settings.limits.upload_url_ttl_seconds))
    version_item = {
        **keys.version(document_id, version_id),
        "type": "version",
        "id": version_id,
        "document_id": document_id,
        "number": number,
        "object_key": key,
        "size": declared.size,
        "sha256": declared.sha256,
        "content_type": declared.content_type,
        "status": "pending",
        "created_at": at,
        "created_by": caller.user_id,
        "upload_id": upload_id,
    }
    upload_item: dict[str, Any] = {
        **keys.upload(upload_id),
        "gsi1pk": keys.uploader_pk(workspace_id, caller.user_id),
        "gsi1sk": upload_id,
        "type": "upload",
        "id": upload_id,
        "workspace_id": workspace_id,
        "document_id": document_id,
        "version_id": version_id,
        "object_key": key,
        "size": declared.size,
        "sha256": declared.sha256,
        "content_type": declared.content_type,
        "status": "pending",
        "created_at": at,
        "created_by": caller.user_id,
        "ttl": clock.epoch(now + timedelta(days=SESSION_DAYS)),
    }
    common: dict[str, Any] = {
        "upload_id": upload_id,
        "document_id": document_id,
        "version_id": version_id,
        "expires_at": url_expiry,
    }
    method = "PUT" if declared.size <= settings.limits.single_put_threshold else "MULTIPART"
    due = clock.iso(_due(now, method, declared.size))
    upload_item |= {"number": number, "due_at": due, **due_index_keys(due, upload_id)}
    record_reservations(version_item, upload_item, reservations)
    if method == "PUT":
        upload_item["method"] = "PUT"
        url = objects.presign_put(key, content_type=declared.content_type, sha256=declared.sha256, size=declared.size)
        headers = objects.upload_headers(content_type=declared.content_type, sha256=declared.sha256)
        instructions = Instructions(method="PUT", url=url, headers=headers, **common)
    else:
        part_size = part_size_for(declared.size)
        part_count = math.ceil(declared.size / part_size)
        s3_upload_id = objects.start_multipart(key, content_type=declared.content_type)
        upload_item |= {"method": "MULTIPART", "s3_upload_id": s3_upload_id, "part_size": part_size}
        upload_item["part_count"] = part_count
        # No part URLs yet: each is granted for its part's SHA-256 (POST /uploads/{id}/parts).
        instructions = Instructions(method="MULTIPART", part_size=part_size, part_count=part_count, **common)
    return Planned(version_item=version_item, upload_item=upload_item, instructions=instructions)


def record_reservations(
    version_item: dict[str, Any], upload_item: dict[str, Any], reservations: Sequence[dict[str, Any]]
) -> None:
    """Write ``reservations`` on the session and, on the version, the ``used_bytes`` its workspace
    counts for it (``counted_bytes``: what a purge gives back)."""
    if not reservations:
        return
    upload_item["reservations"] = [dict(r) for r in reservations]
    counted = sum(int(r["add"].get("used_bytes", 0)) for r in reservations)
    if counted:
        version_item["counted_bytes"] = counted


def release_actions(
    upload: dict[str, Any], *, also: dict[tuple[str, str], dict[str, int]] | None = None
) -> list[dict[str, Any]]:
    """Transaction actions giving back every counter ``upload`` incremented when it began.

    They ride in the same transaction as the conditional status change that ends the upload
    without its bytes landing (failed, aborted, expired), so a redelivered event or a retried
    sweep, whose transition fails, never releases twice. A session from before reservations
    releases nothing. ``also``: more amounts to ADD on the same items (a transaction holds one
    action per item), e.g. a discard's ``document_count``. Unconditional: a release never
    blocks the transition it rides on.
    """
    adds: dict[tuple[str, str], dict[str, int]] = {}
    for entry in upload.get("reservations") or []:
        target = adds.setdefault((str(entry["pk"]), str(entry["sk"])), {})
        for name, amount in dict(entry["add"]).items():
            target[name] = target.get(name, 0) - int(amount)
    for key, extra in (also or {}).items():
        target = adds.setdefault(key, {})
        for name, amount in extra.items():
            target[name] = target.get(name, 0) + amount
    actions = []
    for (pk, sk), amounts in adds.items():
        names = {f"#a{i}": name for i, name in enumerate(amounts)}
        values = {f":a{i}": amount for i, amount in enumerate(amounts.values())}
        actions.append(
            {
                "Update": {
                    "Key": {"pk": pk, "sk": sk},
                    "UpdateExpression": "ADD " + ", ".join(f"#a{i} :a{i}" for i in range(len(amounts))),
                    "ExpressionAttributeNames": names,
                    "ExpressionAttributeValues": values,
                }
            }
        )
    return actions


def _part_url(upload: dict[str, Any], number: int, sha256: str) -> PartGrant:
    url = objects.presign_part(
        upload["object_key"], s3_upload_id=upload["s3_upload_id"], part_number=number, sha256=sha256
    )
    return PartGrant(part_number=number, url=url, headers=objects.part_headers(sha256))


def _session(caller: Caller, upload_id: str, min_role: Role) -> dict[str, Any]:
    """The caller's own upload session (anyone else's is not found), with the caller's role checked."""
    workspace_id = ids.workspace_of(upload_id)
    if workspace_id is None:
        raise NotFound("upload not found")
    upload, member = Store().get_many([keys.upload(upload_id), keys.membership(workspace_id, caller.user_id)])
    if upload is None or member is None or upload.get("created_by") != caller.user_id:
        raise NotFound("upload not found")
    if not Role(member["role"]).at_least(min_role):
        raise Forbidden(f"uploading needs the {min_role.value} role or higher")
    return upload


def status_view(upload: dict[str, Any], parts: list[HeldPart] | None = None) -> Status:
    multipart = upload["method"] == "MULTIPART"
    return Status(
        upload_id=upload["id"],
        document_id=upload["document_id"],
        version_id=upload["version_id"],
        method=upload["method"],
        status=upload["status"],
        failure_reason=upload.get("failure_reason"),
        size=upload["size"],
        created_at=upload["created_at"],
        part_size=int(upload["part_size"]) if multipart else None,
        part_count=int(upload["part_count"]) if multipart else None,
        resumable_until=clock.iso(resumable_until(upload)) if upload["status"] == "pending" else None,
        parts=parts,
    )


def status(caller: Caller, upload_id: str) -> Status:
    """The session; a pending multipart one lists the parts S3 holds (ListParts), to resume from.

    A pending session past its deadline expires here, so a client coming back learns at once.
    """
    upload = _session(caller, upload_id, Role.VIEWER)
    if upload["status"] == "pending" and clock.now() >= resumable_until(upload):
        store = Store()
        expire(upload, store=store)
        upload = store.get(keys.upload(upload_id)) or upload
    if upload["status"] != "pending" or upload["method"] != "MULTIPART":
        return status_view(upload)
    held = objects.list_parts(upload["object_key"], s3_upload_id=upload["s3_upload_id"]) or []
    return status_view(upload, [HeldPart(p.number, p.etag, p.sha256 or None) for p in held])


def _pending_multipart(upload: dict[str, Any]) -> None:
    if upload["method"] != "MULTIPART":
        raise Conflict("this is a single-PUT upload; start a new version to upload again")
    if upload["status"] != "pending":
        raise Conflict(f"this upload is {upload['status']}")


def grant_parts(caller: Caller, upload_id: str, parts: Sequence[tuple[int, str]]) -> PartGrants:
    """Part URLs for ``(part number, SHA-256)`` pairs, each signing its checksum (also to resume)."""
    return grant_parts_of(_session(caller, upload_id, Role.EDITOR), parts)


def grant_parts_of(upload: dict[str, Any], parts: Sequence[tuple[int, str]]) -> PartGrants:
    """``grant_parts`` for a session its caller has already been checked against (a partner's too)."""
    upload_id = str(upload["id"])
    _pending_multipart(upload)
    if clock.now() >= resumable_until(upload):
        raise Conflict("this upload expired; upload the file again")
    numbers = [n for n, _ in parts]
    if max(numbers) > upload["part_count"]:
        raise InvalidInput("parts", f"this upload has {upload['part_count']} parts")
    if len(set(numbers)) != len(numbers):
        raise InvalidInput("parts", "list each part number once")
    expires = clock.iso(clock.now() + timedelta(seconds=get_settings().limits.upload_url_ttl_seconds))
    grants = [_part_url(upload, n, sha256) for n, sha256 in sorted(parts)]
    return PartGrants(upload_id=upload_id, parts=grants, expires_at=expires)


@dataclass(frozen=True)
class Completed:
    """One part as the client reports it at completion."""

    part_number: int
    etag: str
    sha256: str


def complete(caller: Caller, upload_id: str, parts: Sequence[Completed]) -> Status:
    """Record the parts and queue their assembly; answers at once (status ``completing``).

    Repeating the same request (the answer was lost) queues the job again; S3 completes once.
    """
    return complete_of(_session(caller, upload_id, Role.EDITOR), parts)


def complete_of(upload: dict[str, Any], parts: Sequence[Completed]) -> Status:
    """``complete`` for a session its caller has already been checked against (a partner's too)."""
    upload_id = str(upload["id"])
    if upload["method"] != "MULTIPART":
        raise Conflict("this is a single-PUT upload; start a new version to upload again")
    numbers = [p.part_number for p in parts]
    if numbers != list(range(1, upload["part_count"] + 1)):
        raise InvalidInput("parts", f"list every part once, in order, numbers 1 to {upload['part_count']}")
    digest = objects.composite_sha256([p.sha256 for p in parts])
    repeated = upload["status"] == "completing" and upload.get("parts_sha256") == digest
    if not repeated:
        _pending_multipart(upload)
        try:
            Store().update(
                keys.upload(upload_id),
                "SET #s = :completing, parts_sha256 = :digest, completion_requested_at = :at",
                condition="#s = :pending",
                names={"#s": "status"},
                expression_values={
                    ":completing": "completing",
                    ":pending": "pending",
                    ":digest": digest,
                    ":at": clock.iso(clock.now()),
                },
                return_values="NONE",
            )
        except ConditionFailed:
            raise Conflict("this upload is no longer pending") from None
    jobs.send(jobs.assemble(upload_id, [(p.etag.strip('"'), p.sha256) for p in parts]))
    return status_view(upload | {"status": "completing"})


def assemble(upload_id: str, parts: Sequence[tuple[str, str]], store: Store | None = None) -> str:
    """The completion job: CompleteMultipartUpload with each part's ETag and SHA-256.

    S3 refuses parts whose stored checksum differs; the upload and its version then fail (audited).
    When S3 no longer knows the upload but the object exists, an earlier attempt completed it.
    Returns what happened (for logs and tests).
    """
    store = store or Store()
    upload = store.get(keys.upload(upload_id))
    if upload is None or upload.get("status") != "completing":
        return "not_completing"
    listed = [objects.Part(n, etag, sha256) for n, (etag, sha256) in enumerate(parts, start=1)]
    if objects.composite_sha256([p.sha256 for p in listed]) != upload.get("parts_sha256"):
        return _fail_completion(upload, "the parts are not the ones recorded at completion", store)
    try:
        objects.complete_multipart(upload["object_key"], s3_upload_id=upload["s3_upload_id"], parts=listed)
    except objects.UploadRejected as exc:
        if exc.code == "NoSuchUpload":
            if objects.inspect(upload["object_key"], None) is not None:
                return "already_assembled"  # processing follows the object-created event
            return _fail_completion(upload, "S3 no longer has this upload (expired or aborted)", store)
        return _fail_completion(upload, f"S3 refused the parts ({exc.code})", store)
    with contextlib.suppress(ConditionFailed):
        store.update(
            keys.upload(upload_id),
            "SET assembled_at = :at",
            condition="attribute_exists(pk)",
            expression_values={":at": clock.iso(clock.now())},
            return_values="NONE",
        )
    return "assembled"


def _fail_completion(upload: dict[str, Any], reason: str, store: Store) -> str:
    """The upload and its version fail with ``reason`` (one transaction, audited); S3 drops the parts."""
    if not fail_completing(upload, reason, store):
        return "already_decided"
    objects.abort_multipart(upload["object_key"], s3_upload_id=upload["s3_upload_id"])
    logger.info("multipart completion failed", extra={"upload_id": upload["id"], "reason": reason})
    return "failed"


def fail_completing(upload: dict[str, Any], reason: str, store: Store) -> bool:
    """A ``completing`` upload and its pending version fail with ``reason``, in one audited
    transaction; False if either was decided meanwhile (landed, failed, or purged)."""
    at = clock.iso(clock.now())
    event = AuditEvent(
        "upload.failed",
        Actor.system(),
        workspace_id=upload["workspace_id"],
        document_id=upload["document_id"],
        details={"version_id": upload["version_id"], "reason": reason},
    )
    failed = {":failed": "failed", ":why": reason, ":at": at}
    try:
        store.transact(
            [
                {
                    "Update": {
                        "Key": keys.upload(upload["id"]),
                        "UpdateExpression": "SET #s = :failed, failure_reason = :why, finished_at = :at",
                        "ConditionExpression": "#s = :completing",
                        "ExpressionAttributeNames": {"#s": "status"},
                        "ExpressionAttributeValues": failed | {":completing": "completing"},
                    }
                },
                {
                    "Update": {
                        "Key": keys.version(upload["document_id"], upload["version_id"]),
                        "UpdateExpression": "SET #s = :failed, failure_reason = :why, failed_at = :at",
                        "ConditionExpression": "#s = :pending",
                        "ExpressionAttributeNames": {"#s": "status"},
                        "ExpressionAttributeValues": failed | {":pending": "pending"},
                    }
                },
                audit.put_action(event),
                *release_actions(upload),
            ]
        )
    except TransactionCancelled:
        return False
    return True


def abort(caller: Caller, upload_id: str) -> None:
    """Cancel a pending upload: its version fails with reason ``aborted`` (a first version's
    document is discarded); S3 drops the parts."""
    upload = _session(caller, upload_id, Role.EDITOR)
    if upload["status"] != "pending":
        raise Conflict(f"this upload is {upload['status']}")
    guard = holds_role(upload["workspace_id"], caller.user_id, Role.EDITOR)
    try:
        _abort(upload, Actor.member(caller), "aborted", guard=guard)
    except TransactionCancelled as cancelled:
        if lost_role(cancelled.reasons):
            refuse_lost_role(
                caller, upload["workspace_id"], Role.EDITOR, what="uploading", not_found="upload not found"
            )
        raise Conflict("this upload has already finished") from None


def cancel(upload: dict[str, Any], actor: Actor, *, store: Store | None = None) -> int:
    """Cancel a pending session whose caller was checked elsewhere (a partner's): as ``abort``;
    0 when it had finished meanwhile."""
    return _abort(upload, actor, "aborted", store=store)


def expire(upload: dict[str, Any], *, store: Store | None = None) -> int:
    """Fail a pending session past its deadline with reason ``expired`` (see the module docstring)."""
    return _abort(upload, Actor.system(), EXPIRED, outcome="failed", action="upload.expired", store=store)


def _discardable(doc: dict[str, Any] | None, upload: dict[str, Any]) -> bool:
    """A pending document whose one version is this upload's: nothing of it ever landed."""
    return (
        doc is not None
        and doc.get("status") == "pending"
        and int(doc.get("version_count", 0)) == 1
        and not doc.get("current_version")
        and int(upload.get("number", 1)) == 1
    )


def _discard_actions(
    doc: dict[str, Any], reason: str, actor: Actor, *, count_down: bool = True
) -> list[dict[str, Any]]:
    """Delete a never-landed document (if unchanged since read) and its tag items, count the
    workspace down (unless ``count_down`` is False: the caller merges it into its release of the
    workspace's bytes, one action per item), audit it; the version item's action is the caller's."""
    event = AuditEvent(
        "document.discarded",
        actor,
        workspace_id=doc["workspace_id"],
        document_id=doc["id"],
        details={"name": doc["name"], "folder": doc.get("folder", "/"), "reason": reason},
    )
    return [
        {
            "Delete": {
                "Key": keys.document(doc["id"]),
                "ConditionExpression": "#s = :pending AND revision = :rev",
                "ExpressionAttributeNames": {"#s": "status"},
                "ExpressionAttributeValues": {":pending": "pending", ":rev": doc.get("revision", 0)},
            }
        },
        *({"Delete": {"Key": keys.document_tag(doc["id"], tag)}} for tag in doc.get("tags") or []),
        *(
            [
                {
                    "Update": {
                        "Key": keys.workspace(doc["workspace_id"]),
                        "UpdateExpression": "ADD document_count :minus",
                        "ConditionExpression": "attribute_exists(pk)",
                        "ExpressionAttributeValues": {":minus": -1},
                    }
                }
            ]
            if count_down
            else []
        ),
        audit.put_action(event),
    ]


ATTEMPTS = 3  # the document may change between its read and the transaction (a rename, a tag)


def _abort(
    upload: dict[str, Any],
    actor: Actor,
    reason: str,
    *,
    outcome: str = "aborted",
    action: str = "upload.aborted",
    guard: dict[str, Any] | None = None,
    store: Store | None = None,
) -> int:
    """End a pending upload (``outcome``: ``aborted`` or ``failed``) with its version failed, or with
    its never-landed document discarded, in one transaction; then S3 drops the parts.

    Returns 1, or 0 when the upload had finished meanwhile (and no ``guard`` was given).
    """
    store = store or Store()
    for attempt in range(1, ATTEMPTS + 1):
        doc = store.get(keys.document(upload["document_id"]))
        discard = _discardable(doc, upload)
        try:
            store.transact(_end_actions(upload, actor, reason, outcome, action, doc if discard else None, guard))
            break
        except TransactionCancelled as cancelled:
            document_changed = discard and _document_refused(cancelled.reasons)
            if document_changed and attempt < ATTEMPTS:
                continue
            if guard is not None:
                raise
            return 0  # landed, failed or aborted meanwhile: nothing pending to end
    if upload["method"] == "MULTIPART":
        objects.abort_multipart(upload["object_key"], s3_upload_id=upload["s3_upload_id"])
    return 1


def _document_refused(reasons: list[str]) -> bool:
    """Only the document's condition (the third action) failed: it changed since it was read."""
    return len(reasons) > 2 and reasons[2] == "ConditionalCheckFailed" and reasons[0] != "ConditionalCheckFailed"


def _end_actions(
    upload: dict[str, Any],
    actor: Actor,
    reason: str,
    outcome: str,
    action: str,
    discard: dict[str, Any] | None,
    guard: dict[str, Any] | None,
) -> list[dict[str, Any]]:
    at = clock.iso(clock.now())
    pending = {":pending": "pending"}
    event = AuditEvent(
        action,
        actor,
        workspace_id=upload["workspace_id"],
        document_id=upload["document_id"],
        details={"upload_id": upload["id"], "version_id": upload["version_id"], "reason": reason},
    )
    version_key = keys.version(upload["document_id"], upload["version_id"])
    version: dict[str, Any]
    if discard is None:
        version = {
            "Update": {
                "Key": version_key,
                "UpdateExpression": "SET #s = :failed, failure_reason = :why",
                "ConditionExpression": "#s = :pending",
                "ExpressionAttributeNames": {"#s": "status"},
                "ExpressionAttributeValues": {":failed": "failed", ":why": reason} | pending,
            }
        }
    else:
        version = {
            "Delete": {
                "Key": version_key,
                "ConditionExpression": "#s = :pending",
                "ExpressionAttributeNames": {"#s": "status"},
                "ExpressionAttributeValues": pending,
            }
        }
    workspace = keys.workspace(upload["workspace_id"])
    releases_workspace = any(
        (r.get("pk"), r.get("sk")) == (workspace["pk"], workspace["sk"]) for r in upload.get("reservations") or []
    )
    merged = discard is not None and releases_workspace
    also = {(workspace["pk"], workspace["sk"]): {"document_count": -1}} if merged else None
    actions: list[dict[str, Any]] = [
        {
            "Update": {
                "Key": keys.upload(upload["id"]),
                "UpdateExpression": "SET #s = :end, failure_reason = :why, finished_at = :at",
                "ConditionExpression": "#s = :pending",
                "ExpressionAttributeNames": {"#s": "status"},
                "ExpressionAttributeValues": {":end": outcome, ":why": reason, ":at": at} | pending,
            }
        },
        version,
        *(_discard_actions(discard, reason, actor, count_down=not merged) if discard is not None else []),
        audit.put_action(event),
        *release_actions(upload, also=also),
    ]
    if guard is not None:
        actions.append(guard)  # last: ``lost_role`` reads the last reason
    return actions


def discard_unlanded(upload: dict[str, Any], *, store: Store | None = None) -> int:
    """Discard the document of a first upload that failed (verification, S3 refusing the parts)
    and whose document never got a version; 1 when discarded, else 0."""
    store = store or Store()
    if upload.get("status") not in ("failed", "aborted"):
        return 0
    doc = store.get(keys.document(upload["document_id"]))
    if not _discardable(doc, upload) or doc is None:
        return 0
    version = {
        "Delete": {
            "Key": keys.version(upload["document_id"], upload["version_id"]),
            "ConditionExpression": "#s = :failed",
            "ExpressionAttributeNames": {"#s": "status"},
            "ExpressionAttributeValues": {":failed": "failed"},
        }
    }
    reason = str(upload.get("failure_reason") or "failed")
    try:
        store.transact([version, *_discard_actions(doc, reason, Actor.system())])
    except TransactionCancelled:
        return 0  # changed meanwhile (a rename, a new version): the next sweep has no second look
    return 1


LOST_ROLE = "the uploader lost the editor role"


def abort_pending_of(workspace_id: str, user_id: str, actor: Actor, store: Store | None = None) -> int:
    """Abort every pending upload ``user_id`` started in ``workspace_id`` (they lost the editor role).

    The index is eventually consistent, so an upload started a moment ago may be missed here;
    upload processing re-checks the uploader's role when the bytes land, which catches it.
    Returns how many were aborted.
    """
    store = store or Store()
    aborted = 0
    cursor: str | None = None
    while True:
        page = store.query(keys.uploader_pk(workspace_id, user_id), index="gsi1", limit=100, cursor=cursor)
        for upload in page.items:
            if upload.get("type") == "upload" and upload.get("status") == "pending":
                aborted += _abort(upload, actor, LOST_ROLE, store=store)
        cursor = page.next_cursor
        if not cursor:
            return aborted
