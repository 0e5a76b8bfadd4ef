"""Malware scan results (SPEC Phase 2, "Malware scanning (fail closed)").

In AWS, GuardDuty Malware Protection for S3 scans every object written under ``documents/`` and
publishes one "GuardDuty Malware Protection Object Scan Result" event per object version on the
default bus; an EventBridge rule puts it on the scan-results queue, which the upload-processing
function consumes. Locally a stand-in scanner (``local/scanner.py``, never shipped) emits the same
event through the same rule and queue.

A result is recorded on its version's item, under an attribute named for the *S3 object version*
it names (``attribute``), so a result for a second PUT to the same URL never counts for the object
that was verified. Results arrive at least once and in any order relative to the checksum step:
both write the same item (the result, or the move to ``scanning``) and get the whole item back
from that one atomic write, so whichever comes second sees both and decides; a redelivery decides
nothing new. A threat, once recorded, is never overwritten by a later result for the same object
version (fail closed).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import unquote_plus

from docuserve import clock, keys
from docuserve.adapters.store import ConditionFailed, Store
from docuserve.observability import BusinessMetric, count, logger
from docuserve.settings import get_settings

DETAIL_TYPE = "GuardDuty Malware Protection Object Scan Result"
CLEAN = "NO_THREATS_FOUND"
THREATS = "THREATS_FOUND"
# What each GuardDuty result makes of a version (the version's ``scan_status``).
OUTCOMES = {
    CLEAN: "clean",
    THREATS: "infected",
    "UNSUPPORTED": "unscannable",
    "ACCESS_DENIED": "unscannable",
    "FAILED": "unscannable",
}
# A version's status once its scan decided (clean versions become "available").
VERSION_STATUS = {"clean": "available", "infected": "infected", "unscannable": "unscannable"}


@dataclass(frozen=True)
class ScanResult:
    """One scan result event: which object version, and what GuardDuty found."""

    key: str
    s3_version_id: str | None
    etag: str | None
    result: str  # a GuardDuty scanResultStatus, e.g. NO_THREATS_FOUND
    threats: list[str] = field(default_factory=list)

    @property
    def outcome(self) -> str:
        return OUTCOMES.get(self.result, "unscannable")  # anything unknown fails closed


def is_scan_event(payload: Any) -> bool:
    return isinstance(payload, dict) and payload.get("detail-type") == DETAIL_TYPE


def parse_event(payload: dict[str, Any]) -> ScanResult | None:
    """The result an EventBridge scan event carries; None for another bucket or a malformed one."""
    detail = payload.get("detail")
    if not isinstance(detail, dict):
        return None
    obj = detail.get("s3ObjectDetails")
    if not isinstance(obj, dict) or obj.get("bucketName") != get_settings().bucket_name:
        return None
    key = obj.get("objectKey")
    if not isinstance(key, str) or not key:
        return None
    found = detail.get("scanResultDetails")
    found = found if isinstance(found, dict) else {}
    result = str(found.get("scanResultStatus") or "")
    if detail.get("scanStatus") in ("SKIPPED", "FAILED") and result != THREATS:
        result = result or "UNSUPPORTED" if detail.get("scanStatus") == "SKIPPED" else "FAILED"
    threats = [
        str(t.get("name"))
        for t in (found.get("threats") or [])
        if isinstance(t, dict) and isinstance(t.get("name"), str)
    ]
    version = obj.get("versionId")
    etag = obj.get("eTag")
    return ScanResult(
        key=unquote_plus(key) if "%" in key or "+" in key else key,
        s3_version_id=str(version) if version else None,
        etag=str(etag).strip('"') if etag else None,
        result=result or "FAILED",
        threats=threats[:20],
    )


def attribute(s3_version_id: str | None) -> str:
    """The version item's attribute that holds the result for one of its S3 object versions."""
    return f"scan:{s3_version_id or 'null'}"


def record(document_id: str, version_id: str, scan: ScanResult, store: Store) -> dict[str, Any] | None:
    """Store ``scan`` on its version item (one conditional write, so a purged version gets no
    stray item) and return the item as it is now; None when the version does not exist (purged,
    or never ours). A recorded threat is never replaced."""
    key = keys.version(document_id, version_id)
    names = {"#a": attribute(scan.s3_version_id), "#r": "result"}
    try:
        return store.update(
            key,
            "SET #a = :scan",
            condition="attribute_exists(pk) AND (attribute_not_exists(#a) OR #a.#r <> :threats)",
            names=names,
            expression_values={
                ":scan": {
                    "result": scan.result,
                    "outcome": scan.outcome,
                    "etag": scan.etag,
                    "threats": scan.threats,
                    "recorded_at": clock.iso(clock.now()),
                },
                ":threats": THREATS,
            },
        )
    except ConditionFailed:
        item = store.get(key)
        if item is not None:
            logger.info("a later scan result does not replace a threat", extra={"version_id": version_id})
        return item


def recorded(item: dict[str, Any], s3_version_id: str | None) -> dict[str, Any] | None:
    """The result recorded on a version item for one of its object versions, if any."""
    found = item.get(attribute(s3_version_id))
    return found if isinstance(found, dict) else None


def matches(scan: dict[str, Any], etag: str | None) -> bool:
    """A result counts only for the exact object verified: same S3 version id (the attribute) and ETag."""
    their = scan.get("etag")
    return not (etag and their and str(their).strip('"') != etag)


def enabled() -> bool:
    return get_settings().malware_scanning


def result_json(scan: ScanResult) -> str:
    """For logs: what a result said, without anything from the object's content."""
    return json.dumps({"result": scan.result, "threats": scan.threats[:3]})


# --- results that never come -----------------------------------------------------------------

DUE_INDEX_PK = "SCANS_DUE"  # sparse gsi4: versions waiting for a result, by when it is due
PAGE = 100
RESERVE_MS = 30_000


def due_index_keys(verified: datetime, document_id: str, version_id: str) -> dict[str, str]:
    due = verified + timedelta(minutes=get_settings().scan_timeout_minutes)
    return {"gsi4pk": DUE_INDEX_PK, "gsi4sk": f"{clock.iso(due)}#{document_id}#{version_id}"}


@dataclass(frozen=True)
class Overdue:
    document_id: str
    version_id: str
    due: str


def overdue(
    *, store: Store | None = None, remaining_ms: Callable[[], int] | None = None, reserve_ms: int = RESERVE_MS
) -> list[Overdue]:
    """Versions still ``scanning`` past the stage's timeout. They stay unavailable (fail closed);
    each run counts them in the ``ScansOverdue`` metric, whose alarm pages the operator, and logs
    their ids. A decided version leaves the index in the same write that decides it; the index is
    eventually consistent, so each entry is checked against its version item."""
    store = store or Store()
    now = clock.iso(clock.now())
    found: list[Overdue] = []
    cursor: str | None = None
    while True:
        page = store.query(DUE_INDEX_PK, index="gsi4", sk_between=("0", f"{now}$"), limit=PAGE, cursor=cursor)
        for entry in page.items:
            if remaining_ms is not None and remaining_ms() < reserve_ms:
                break
            due, _, rest = str(entry["gsi4sk"]).partition("#")
            document_id, _, version_id = rest.partition("#")
            item = store.get(keys.version(document_id, version_id))
            if item is not None and item.get("status") == "scanning":
                found.append(Overdue(document_id, version_id, due))
        cursor = page.next_cursor
        if not cursor or (remaining_ms is not None and remaining_ms() < reserve_ms):
            break
    count(BusinessMetric.SCANS_OVERDUE, len(found))
    for late in found[:50]:
        logger.warning(
            "no malware scan result within the timeout; the version stays unavailable",
            extra={"document_id": late.document_id, "version_id": late.version_id, "due": late.due},
        )
    return found
