"""Upload processing: verify each landed object against its declaration, once.

S3 events arrive at least once and possibly concurrently. The version item moves out of
``pending`` with a conditional transaction, so exactly one delivery decides (and audits and
counts); every other delivery sees the decision and only repeats idempotent steps. A version
becomes current only if it is newer than the current one. A version lands only while its document
is not being purged and its uploader still holds editor+ in the workspace (both checked in the same
transaction); otherwise the bytes are deleted at once (a lost role also fails the version, audited
as ``upload.refused``).

Verification has two steps. The checksum step runs on every S3 event and reads no byte of the
object: one HEAD with ``ChecksumMode=ENABLED`` gives the size and S3's stored SHA-256. A single PUT
signed its full-object SHA-256, which S3 checked on write, so the stored value is compared with the
declaration and that decides. A multipart object stores a composite (SHA-256 over its parts'
SHA-256s, each checked by S3 on write): it must equal the composite of the parts recorded at
completion, and then the full-object SHA-256 (which partners and the signed manifest rely on) is
computed by the hashing step, a separate job (``upload_jobs``, one object per invocation, 900 s),
which reads the object once. ``docs/performance.md`` states what that step verifies in time and
why the deployment's maximum document size is set from it.
"""

from __future__ import annotations

import contextlib
import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

from docuserve import audit, clock, current_version, ids, keys, scanning, uploads
from docuserve.access import holds_role
from docuserve.adapters import jobs, objects
from docuserve.adapters.store import ConditionFailed, Store, TransactionCancelled
from docuserve.audit import Actor, AuditEvent
from docuserve.observability import BusinessMetric, count, logger
from docuserve.records import Version
from docuserve.roles import Role
from docuserve.schema import DOCUMENTS_PREFIX
from docuserve.sharing import links

_KEY = re.compile(rf"^{re.escape(DOCUMENTS_PREFIX)}([0-9a-z]{{16}})/([0-9a-z.]{{33}})/([0-9a-z.]{{33}})$")


@dataclass(frozen=True)
class Landed:
    key: str
    s3_version_id: str | None
    workspace_id: str
    document_id: str
    version_id: str


def parse_message(body: str) -> list[Landed]:
    """The object-created records of one SQS message body; anything else is ignored."""
    try:
        payload = json.loads(body)
    except ValueError:
        logger.warning("ignoring a message that is not JSON")
        return []
    records = payload.get("Records") if isinstance(payload, dict) else None
    found: list[Landed] = []
    for record in records or []:
        if not str(record.get("eventName", "")).startswith("ObjectCreated"):
            continue
        obj = record.get("s3", {}).get("object", {})
        key = unquote_plus(str(obj.get("key", "")))
        parsed = parse_key(key, obj.get("versionId"))
        if parsed is None:
            logger.warning("ignoring an object key DocuServe did not generate", extra={"key": key[:300]})
            continue
        found.append(parsed)
    return found


def parse_scan_message(body: str) -> scanning.ScanResult | None:
    """The scan result an SQS message from the scan-result rule carries; None for anything else."""
    try:
        payload = json.loads(body)
    except ValueError:
        return None
    if not scanning.is_scan_event(payload):
        return None
    result = scanning.parse_event(payload)
    if result is None:
        logger.warning("ignoring a scan result for another bucket or without an object")
    return result


def parse_key(key: str, s3_version_id: str | None) -> Landed | None:
    match = _KEY.match(key)
    if not match:
        return None
    ws, doc, version = match.groups()
    if ids.workspace_of(doc) != ws or ids.workspace_of(version) != ws:
        return None
    return Landed(key, s3_version_id, ws, doc, version)


@dataclass(frozen=True)
class Verdict:
    reason: str | None  # why the upload fails; None when the step passed
    s3_version_id: str | None
    needs_full_hash: bool = False  # passed the checksum step; the hashing step decides
    etag: str | None = None  # of the object version checked (a scan result must name the same)


def verify(
    version: Version, key: str, s3_version_id: str | None, *, full_hash: bool = False, store: Store | None = None
) -> Verdict:
    """The checksum step (a HEAD, no byte read), or with ``full_hash`` the hashing step (one read)."""
    landed = objects.inspect(key, s3_version_id)
    if landed is None:
        return Verdict("the uploaded object is gone", s3_version_id)
    if landed.size != version.size:
        return Verdict(f"size mismatch: declared {version.size} bytes, received {landed.size}", landed.s3_version_id)
    actual: str | None
    if full_hash:
        actual = objects.stream_sha256(key, landed.s3_version_id)
    else:
        actual = landed.full_object_sha256
        if actual == version.sha256:
            # a single PUT: S3 checked its signed SHA-256
            return Verdict(None, landed.s3_version_id, etag=landed.etag)
        # Not a match: a mismatch, or a multipart object's composite (some stores do not mark it).
        upload = (store or Store()).get(keys.upload(version.upload_id)) or {}
        if upload.get("method") == "MULTIPART":
            expected = upload.get("parts_sha256")
            if expected and landed.checksum and not _same_composite(landed.checksum, str(expected)):
                return Verdict("the parts S3 assembled are not the ones declared at completion", landed.s3_version_id)
            return Verdict(None, landed.s3_version_id, needs_full_hash=True)
        if actual is None:
            return Verdict(None, landed.s3_version_id, needs_full_hash=True)  # a store that kept none
    if actual != version.sha256:
        return Verdict("SHA-256 mismatch: the bytes are not the ones declared", landed.s3_version_id)
    return Verdict(None, landed.s3_version_id, etag=landed.etag)


def _same_composite(stored: str, expected: str) -> bool:
    """S3 answers ``<base64>-<parts>`` (some stores leave out the count); ``expected`` has both."""
    digest, _, parts = stored.partition("-")
    want_digest, _, want_parts = expected.partition("-")
    return digest == want_digest and (not parts or parts == want_parts)


def handle(landed: Landed, store: Store | None = None, *, attempt: int = 0, full_hash: bool = False) -> str:
    """Process one landed object; returns what happened (for logs and tests).

    Without ``full_hash`` this is the checksum step, which queues the hashing step when the stored
    checksum is not the full-object SHA-256 (``hash_queued``); with it, the hashing step.
    """
    if attempt > 3:
        raise RuntimeError("the version kept changing under concurrent deliveries")  # SQS retries later
    store = store or Store()
    item = store.get(keys.version(landed.document_id, landed.version_id))
    if item is None:
        # Purged (or never ours): nothing may keep bytes that no document owns.
        objects.delete_version(landed.key, landed.s3_version_id)
        return "orphan_deleted"
    version = Version.from_item(item)
    if version.status in VERIFIED:
        if landed.s3_version_id and version.s3_version_id and landed.s3_version_id != version.s3_version_id:
            # A second PUT to the same presigned URL: versions are immutable, so the extra goes.
            objects.delete_version(landed.key, landed.s3_version_id)
            return "duplicate_object_deleted"
        if version.status == "scanning":
            return _decide(landed, version, item, store, attempt)  # a redelivery looks for the result again
        return _finish_decided(landed, version, item, store)
    if version.status == "failed":
        objects.delete_version(landed.key, landed.s3_version_id)
        return "already_failed"
    verdict = verify(version, landed.key, landed.s3_version_id, full_hash=full_hash, store=store)
    if verdict.reason is not None:
        return _reject(landed, version, verdict.reason, verdict.s3_version_id, store, attempt)
    if verdict.needs_full_hash:
        jobs.send(jobs.hash_object(landed.key, verdict.s3_version_id))
        return "hash_queued"
    if scanning.enabled():
        return _verified(landed, version, verdict, store, attempt)
    return _accept(landed, version, verdict.s3_version_id, store, attempt, scan_status="not_scanned")


def handle_scan(scan: scanning.ScanResult, store: Store | None = None) -> str:
    """Record one scan result and, if the version's checksum step already passed, decide."""
    store = store or Store()
    landed = parse_key(scan.key, scan.s3_version_id)
    if landed is None:
        logger.warning("ignoring a scan result for a key DocuServe did not generate", extra={"key": scan.key[:300]})
        return "ignored"
    item = scanning.record(landed.document_id, landed.version_id, scan, store)
    if item is None:
        return "orphan_result"  # the version was purged (or never existed): nothing to decide
    version = Version.from_item(item)
    if version.status not in VERIFIED:
        return "recorded"  # the checksum step has not passed yet: it decides then
    if version.s3_version_id and landed.s3_version_id and version.s3_version_id != landed.s3_version_id:
        return "recorded"  # a result for another object version (a duplicate PUT): never counts
    if version.status != "scanning":
        return _finish_decided(landed, version, item, store)
    return _decide(landed, version, item, store, 0)


def handle_hash_job(key: str, s3_version_id: str | None, store: Store | None = None) -> str:
    """The hashing step for one object version (a job the checksum step queued)."""
    landed = parse_key(key, s3_version_id)
    if landed is None:
        logger.warning("ignoring a hash job for a key DocuServe did not generate", extra={"key": key[:300]})
        return "ignored"
    return handle(landed, store, full_hash=True)


def _transition(
    landed: Landed,
    version: Version,
    sets: dict[str, Any],
    event: AuditEvent | None,
    store: Store,
    guards: tuple[dict[str, Any], ...] = (),
) -> list[str] | None:
    """Move the version out of the status it was read in (``version.status``), with ``guards``
    holding; ``None`` when done, else the cancellation reasons (the first one failed: another
    delivery already decided). The audit event, when given, is the second action."""
    names = {"#s": "status", **{f"#f{i}": k for i, k in enumerate(sets)}}
    values = {":was": version.status, **{f":v{i}": v for i, v in enumerate(sets.values())}}
    update = "SET " + ", ".join(f"#f{i} = :v{i}" for i in range(len(sets)))
    if version.status == "scanning":
        update += " REMOVE gsi4pk, gsi4sk"  # decided: off the overdue-scan index
    try:
        store.transact(
            [
                {
                    "Update": {
                        "Key": keys.version(landed.document_id, version.id),
                        "UpdateExpression": update,
                        "ConditionExpression": "#s = :was",
                        "ExpressionAttributeNames": names,
                        "ExpressionAttributeValues": values,
                    }
                },
                *([audit.put_action(event)] if event is not None else []),
                *guards,
            ]
        )
    except TransactionCancelled as cancelled:
        return cancelled.reasons
    return None


def _document_takes_versions(document_id: str) -> dict[str, Any]:
    """A version may land only while its document exists and is not being purged."""
    return {
        "ConditionCheck": {
            "Key": keys.document(document_id),
            "ConditionExpression": "attribute_exists(pk) AND #s <> :purging",
            "ExpressionAttributeNames": {"#s": "status"},
            "ExpressionAttributeValues": {":purging": "purging"},
        }
    }


_FAILED = "ConditionalCheckFailed"
LOST_ROLE = "the uploader lost the editor role"
# A version in one of these passed its checksum step: its S3 object version is the one recorded.
VERIFIED = frozenset({"scanning", "available", "infected", "unscannable"})


def _finish_session(upload_id: str, status: str, reason: str | None, store: Store) -> None:
    with contextlib.suppress(ConditionFailed):  # expired session, or already recorded
        store.update(
            keys.upload(upload_id),
            "SET #s = :s, failure_reason = :r, finished_at = :at",
            condition="attribute_exists(pk) AND #s IN (:pending, :completing, :scanning) AND #s <> :s",
            names={"#s": "status"},
            expression_values={
                ":s": status,
                ":r": reason,
                ":at": clock.iso(clock.now()),
                ":pending": "pending",
                ":completing": "completing",
                ":scanning": "scanning",
            },
            return_values="NONE",
        )


def _verified(landed: Landed, version: Version, verdict: Verdict, store: Store, attempt: int) -> str:
    """The checksum step passed and scanning is on: the version waits for its scan result (which
    may be recorded on the item already: the same write returns it)."""
    now = clock.now()
    sets = {
        "status": "scanning",
        "s3_version_id": verdict.s3_version_id,
        "etag": verdict.etag,
        "scan_status": "pending",
        "verified_at": clock.iso(now),
        # Until decided, on the sparse overdue-scan index (``scanning.overdue``).
        **scanning.due_index_keys(now, landed.document_id, version.id),
    }
    try:
        item = store.update(
            keys.version(landed.document_id, version.id),
            "SET " + ", ".join(f"#f{i} = :v{i}" for i in range(len(sets))),
            condition="#s = :pending",
            names={"#s": "status", **{f"#f{i}": k for i, k in enumerate(sets)}},
            expression_values={":pending": "pending", **{f":v{i}": v for i, v in enumerate(sets.values())}},
        )
    except ConditionFailed:
        return handle(landed, store, attempt=attempt + 1)  # another delivery decided first: follow it
    _finish_session(version.upload_id, "scanning", None, store)
    return _decide(landed, Version.from_item(item or {}), item or {}, store, attempt)


def _decide(landed: Landed, version: Version, item: dict[str, Any], store: Store, attempt: int) -> str:
    """Finish a ``scanning`` version whose result for its exact object version is on ``item``."""
    scan = scanning.recorded(item, version.s3_version_id)
    if scan is None or not scanning.matches(scan, version.etag):
        return "scanning"
    outcome = str(scan.get("outcome") or "unscannable")
    if outcome == "clean":
        return _accept(landed, version, version.s3_version_id, store, attempt, scan_status="clean")
    threats = [str(t) for t in scan.get("threats") or []]
    return _quarantine(landed, version, outcome, threats, store, attempt)


def _quarantine(landed: Landed, version: Version, outcome: str, threats: list[str], store: Store, attempt: int) -> str:
    """An infected or unscannable version: kept (evidence; a purge removes it), never served."""
    status = scanning.VERSION_STATUS.get(outcome, "unscannable")
    details: dict[str, Any] = {"version_id": version.id, "number": version.number}
    if threats:
        details["threats"] = threats[:5]
    event = AuditEvent(
        f"version.{status}",
        Actor.system(),
        workspace_id=landed.workspace_id,
        document_id=landed.document_id,
        details=details,
    )
    sets = {"status": status, "scan_status": status, "scanned_at": clock.iso(clock.now())}
    if _transition(landed, version, sets, event, store) is not None:
        return handle(landed, store, attempt=attempt + 1)
    _finish_quarantine(landed, version, status, threats, store)
    if status == "infected":
        count(BusinessMetric.UPLOADS_INFECTED)
    else:
        count(BusinessMetric.UPLOADS_UNSCANNABLE)
    logger.warning("version quarantined by its scan result", extra={"version_id": version.id, "status": status})
    if status == "infected":
        _notify_threat(landed, version, threats, store)
    return status


def _finish_quarantine(landed: Landed, version: Version, status: str, threats: list[str], store: Store) -> None:
    """What follows the decision (idempotent; a redelivery repeats it after a crash)."""
    reason = (
        "a threat was found: " + ", ".join(threats[:3]) if status == "infected" and threats else
        "a threat was found" if status == "infected" else
        "the file could not be scanned for malware; an owner may release it"
    )  # fmt: skip
    _finish_session(version.upload_id, "failed", reason, store)
    current_version.mark_unclean(landed.document_id, status, store)


def _finish_decided(landed: Landed, version: Version, item: dict[str, Any], store: Store) -> str:
    """A redelivery (S3 event or scan result) of a version already decided: finish the idempotent
    steps a crashed delivery may have left undone, and decide nothing anew."""
    if version.status == "available":
        _finish_session(version.upload_id, "completed", None, store)
        make_current(landed, version, store)
        return "already_available"
    scan = scanning.recorded(item, version.s3_version_id) or {}
    _finish_quarantine(landed, version, version.status, [str(t) for t in scan.get("threats") or []], store)
    return f"already_{version.status}"  # kept, never served


def _notify_threat(landed: Landed, version: Version, threats: list[str], store: Store) -> None:
    """Mail the owners and admins; a mail outage never undoes or retries the decision."""
    try:
        from docuserve import notify  # imported here: mail is needed only on this rare path

        item = store.get(keys.document(landed.document_id)) or {}
        notify.threat_found(
            landed.workspace_id, landed.document_id, str(item.get("name") or ""), version.number, threats
        )
    except Exception:
        logger.exception("could not send the threat mail", extra={"version_id": version.id})


def _accept(
    landed: Landed, version: Version, s3_version_id: str | None, store: Store, attempt: int, *, scan_status: str
) -> str:
    at = clock.iso(clock.now())
    event = AuditEvent(
        "version.available",
        Actor.system(),
        workspace_id=landed.workspace_id,
        document_id=landed.document_id,
        details={"version_id": version.id, "number": version.number, "size": version.size},
    )
    sets = {"status": "available", "s3_version_id": s3_version_id, "available_at": at, "scan_status": scan_status}
    guards = (
        _document_takes_versions(landed.document_id),
        holds_role(landed.workspace_id, version.created_by, Role.EDITOR),
    )
    reasons = _transition(landed, version, sets, event, store, guards)
    if reasons is not None:
        if reasons[0] != _FAILED and reasons[3] == _FAILED:
            # Removed or demoted since the upload URL was issued: the URL still works for its
            # 15 minutes, but the version must not land.
            return _reject(landed, version, LOST_ROLE, s3_version_id, store, attempt, action="upload.refused")
        if reasons[0] != _FAILED and reasons[2] == _FAILED:
            # Purged or being purged: the purge may have listed the objects already, so these bytes
            # go now or never (a current version is never expired by a lifecycle rule).
            objects.delete_version(landed.key, s3_version_id)
            logger.info("version refused: its document is being purged", extra={"version_id": version.id})
            return "refused_document_purged"
        return handle(landed, store, attempt=attempt + 1)  # another delivery decided first: follow it
    version.status, version.s3_version_id, version.scan_status = "available", s3_version_id, scan_status
    _finish_session(version.upload_id, "completed", None, store)
    count(BusinessMetric.UPLOADS_COMPLETED)
    make_current(landed, version, store)
    return "available"


def make_current(landed: Landed, version: Version, store: Store) -> None:
    """Make a version that became available current (if newest) and let its links follow."""
    doc = current_version.advance_current(landed.document_id, version, store)
    if doc is not None:
        links.document_changed(doc, store)


def _reject(
    landed: Landed,
    version: Version,
    reason: str,
    s3_version_id: str | None,
    store: Store,
    attempt: int,
    *,
    action: str = "upload.failed",
) -> str:
    event = AuditEvent(
        action,
        Actor.system(),
        workspace_id=landed.workspace_id,
        document_id=landed.document_id,
        details={"version_id": version.id, "reason": reason},
    )
    sets = {"status": "failed", "failure_reason": reason, "failed_at": clock.iso(clock.now())}
    # The bytes go, so the reservations the upload made go back, with this one transition: a
    # redelivered event finds the version failed already and releases nothing again.
    session = store.get(keys.upload(version.upload_id)) if version.upload_id else None
    releases = tuple(uploads.release_actions(session)) if session else ()
    if _transition(landed, version, sets, event, store, releases) is not None:
        return handle(landed, store, attempt=attempt + 1)
    _finish_session(version.upload_id, "failed", reason, store)
    objects.delete_version(landed.key, s3_version_id)
    count(BusinessMetric.UPLOADS_FAILED)
    logger.info("upload failed verification", extra={"version_id": version.id, "reason": reason})
    return "failed"
