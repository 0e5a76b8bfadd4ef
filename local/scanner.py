"""The local stand-in for GuardDuty Malware Protection for S3 (never shipped: ``local/`` is no asset).

moto has no malware protection plans, so the local stack runs this on the same object-created
feed GuardDuty reads in AWS: for each new object version under ``documents/`` it reads the bytes,
tags the object version ``GuardDutyMalwareScanStatus=<result>`` and puts GuardDuty's "Object Scan
Result" event on the default bus, whose rule (``local/provision.py``, as ``infra/scanning.py``)
delivers it to the scan-results queue that the upload-processing function consumes.

The EICAR anti-virus test string anywhere in an object is a threat; anything else is clean. The
switch ``DOCUSERVE_SCAN_RESULT`` (or ``force()`` in tests) selects another result for every
object: ``THREATS_FOUND``, ``UNSUPPORTED``, ``ACCESS_DENIED``, ``FAILED``, or ``NONE`` (no result
at all, as when GuardDuty never answers: the version stays ``scanning`` and the overdue check
raises its alarm).
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote_plus

import boto3
from botocore.exceptions import ClientError

from local.polling import BackgroundPoller
from local.provision import SCAN_RESULT_DETAIL_TYPE

# The EICAR test file's 68 bytes (split so that this source file itself is not flagged).
EICAR = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$" + b"EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
EICAR_THREAT = "EICAR-Test-File (not a virus)"
SWITCH = "DOCUSERVE_SCAN_RESULT"
RESULTS = ("NO_THREATS_FOUND", "THREATS_FOUND", "UNSUPPORTED", "ACCESS_DENIED", "FAILED", "NONE")
TAG = "GuardDutyMalwareScanStatus"
CHUNK = 8 * 1024 * 1024

_forced: str | None = None


def force(result: str | None) -> None:
    """Make every following scan answer ``result`` (None: back to reading the bytes)."""
    global _forced
    if result is not None and result not in RESULTS:
        raise ValueError(f"unknown scan result {result!r}; one of {', '.join(RESULTS)}")
    _forced = result


def _selected() -> str | None:
    if _forced is not None:
        return _forced
    chosen = os.environ.get(SWITCH, "").strip().upper()
    if chosen and chosen not in RESULTS:
        raise ValueError(f"{SWITCH}={chosen!r} is not one of {', '.join(RESULTS)}")
    return chosen or None


def contains_eicar(chunks: Any) -> bool:
    """Whether the EICAR string occurs in the byte stream (also across chunk boundaries)."""
    tail = b""
    for chunk in chunks:
        window = tail + chunk
        if EICAR in window:
            return True
        tail = window[-(len(EICAR) - 1) :]
    return False


class Scanner:
    """Scans one object version and publishes its result, as GuardDuty would."""

    def __init__(self, *, bucket: str, region: str, endpoint_url: str | None = None) -> None:
        session = boto3.session.Session(region_name=region)
        self.bucket = bucket
        self.region = region
        self._s3: Any = session.client("s3", endpoint_url=endpoint_url)
        self._events: Any = session.client("events", endpoint_url=endpoint_url)

    def scan(self, key: str, s3_version_id: str | None) -> str | None:
        """Scan, tag and publish; returns the result (None: no result was published)."""
        chosen = _selected()
        if chosen == "NONE":
            return None
        params: dict[str, Any] = {"Bucket": self.bucket, "Key": key}
        if s3_version_id:
            params["VersionId"] = s3_version_id
        try:
            got = self._s3.get_object(**params)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NoSuchVersion"):
                return None  # deleted before its scan (a failed upload): nothing left to report
            raise
        etag = str(got.get("ETag") or "").strip('"')
        version = got.get("VersionId") or s3_version_id
        body = got["Body"]
        infected = contains_eicar(iter(lambda: body.read(CHUNK), b""))
        result = chosen or ("THREATS_FOUND" if infected else "NO_THREATS_FOUND")
        threats = [{"name": EICAR_THREAT}] if result == "THREATS_FOUND" else None
        tagging: dict[str, Any] = {
            "Bucket": self.bucket,
            "Key": key,
            "Tagging": {"TagSet": [{"Key": TAG, "Value": result}]},
        }
        if version:
            tagging["VersionId"] = version
        try:
            self._s3.put_object_tagging(**tagging)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") not in ("404", "NoSuchKey", "NoSuchVersion"):
                raise
        self._events.put_events(Entries=[self.entry(key, version, etag, result, threats)])
        return result

    def entry(
        self, key: str, version: str | None, etag: str, result: str, threats: list[dict[str, str]] | None
    ) -> dict[str, Any]:
        """A PutEvents entry in the shape GuardDuty publishes."""
        detail = {
            "schemaVersion": "1.0",
            "scanStatus": "COMPLETED" if result in ("NO_THREATS_FOUND", "THREATS_FOUND") else "SKIPPED"
            if result == "UNSUPPORTED" else "FAILED",
            "resourceType": "S3_OBJECT",
            "s3ObjectDetails": {
                "bucketName": self.bucket,
                "objectKey": key,
                "eTag": etag,
                "versionId": version,
                "s3Throttled": False,
            },
            "scanResultDetails": {"scanResultStatus": result, "threats": threats},
        }  # fmt: skip
        return {
            "Time": datetime.now(UTC),
            "Source": "aws.guardduty",
            "DetailType": SCAN_RESULT_DETAIL_TYPE,
            "Resources": [f"arn:aws:guardduty:{self.region}:123456789012:malware-protection-plan/local-stand-in"],
            "Detail": json.dumps(detail),
        }


def object_versions(body: str) -> list[tuple[str, str | None]]:
    """(key, version id) of each object-created record in an S3 notification message."""
    try:
        payload = json.loads(body)
    except ValueError:
        return []
    found = []
    for record in (payload.get("Records") if isinstance(payload, dict) else None) or []:
        if str(record.get("eventName", "")).startswith("ObjectCreated"):
            obj = record.get("s3", {}).get("object", {})
            found.append((unquote_plus(str(obj.get("key", ""))), obj.get("versionId")))
    return found


class ScannerPoller:
    """A background thread: the scanner's object-created queue → scan → GuardDuty-shaped event."""

    def __init__(
        self, *, queue_url: str, bucket: str, endpoint_url: str, region: str, log: Callable[[str], None]
    ) -> None:
        self.queue_url = queue_url
        self.log = log
        self.scanner = Scanner(bucket=bucket, region=region, endpoint_url=endpoint_url)
        self._sqs: Any = boto3.session.Session(region_name=region).client("sqs", endpoint_url=endpoint_url)
        self._poller = BackgroundPoller(
            f"scanner-{uuid.uuid4().hex[:6]}", self.poll_once, idle_seconds=0, retry_seconds=1
        )

    def start(self) -> ScannerPoller:
        self._poller.start()
        return self

    def stop(self) -> None:
        self._poller.stop()

    def poll_once(self) -> int:
        got = self._sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        messages = got.get("Messages", [])
        for message in messages:
            for key, version in object_versions(message["Body"]):
                result = self.scanner.scan(key, version)
                self.log(f"scanner (stand-in): {key.rsplit('/', 1)[-1]} → {result or 'no result'}")
            self._sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
        return len(messages)
