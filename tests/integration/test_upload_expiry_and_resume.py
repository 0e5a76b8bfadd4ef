"""Upload sessions after the tab is gone, against moto through the real handlers: the parts S3
holds (to resume), cancel, expiry (the daily sweeper and on read), and never-landed documents."""

from __future__ import annotations

import importlib
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
import requests
from botocore.exceptions import ClientError

from docuserve import clock, keys, uploads
from docuserve.adapters.store import Store
from docuserve.limits import MIB
from docuserve.settings import get_settings
from tests.support.documents import (
    User,
    create_document,
    create_workspace,
    land,
    make_user,
    ok,
    sha256_b64,
    upload,
)
from tests.support.gateway import call

NOW = datetime(2026, 6, 30, 12, 0, tzinfo=UTC)
DATA = b"The launch plan.\n"
BIG = bytes(range(256)) * (11 * 4096)  # 11 MiB: parts of 5, 5 and 1 MiB


class LongContext:
    """A scheduled run with its full 15 minutes ahead."""

    function_name = "trash_sweeper"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:trash_sweeper"
    aws_request_id = "sweep"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 900_000


@pytest.fixture
def alice(aws: Any) -> User:
    return make_user(aws, "alice@example.com")


@pytest.fixture
def ws(alice: User) -> str:
    return create_workspace(alice)


@pytest.fixture
def at(monkeypatch: pytest.MonkeyPatch) -> Any:
    """``at(moment)`` moves docuserve's clock; it starts at ``NOW``."""

    def move(moment: datetime) -> None:
        monkeypatch.setattr(clock, "now", lambda: moment)

    move(NOW)
    return move


@pytest.fixture
def small_parts(aws: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIMIT_SINGLE_PUT_THRESHOLD", str(5 * MIB))
    monkeypatch.setenv("LIMIT_PART_SIZE", str(5 * MIB))
    get_settings.cache_clear()


def _sweep() -> Any:
    """The trash sweeper's scheduled run, as EventBridge invokes it."""
    module = importlib.import_module("handlers.trash_sweeper")
    return module.handler({"source": "aws.events", "detail-type": "Scheduled Event"}, LongContext())


def _listing(alice: User, ws: str) -> list[str]:
    items = ok(call("GET", f"/workspaces/{ws}/documents", claims=alice.claims))["items"]
    return [d["name"] for d in items]


def _actions(alice: User, ws: str) -> list[str]:
    items = ok(call("GET", f"/workspaces/{ws}/audit", claims=alice.claims, query={"limit": "200"}))["items"]
    return [e["action"] for e in items]


def _document_count(ws: str) -> int:
    item = Store().get(keys.workspace(ws))
    assert item is not None
    return int(item.get("document_count", 0))


def _send_part(alice: User, upload_id: str, number: int, chunk: bytes) -> str:
    body = {"parts": [{"part_number": number, "sha256": sha256_b64(chunk)}]}
    (grant,) = ok(call("POST", f"/uploads/{upload_id}/parts", claims=alice.claims, body=body))["parts"]
    reply = requests.put(grant["url"], data=chunk, headers=grant["headers"], timeout=30)
    assert reply.status_code == 200, reply.text[:300]
    return str(reply.headers["ETag"])


def _s3_upload_exists(aws: Any, upload_id: str) -> bool:
    session = Store().get(keys.upload(upload_id))
    assert session is not None
    s3 = boto3.client("s3", region_name=aws.region)
    try:
        s3.list_parts(Bucket=aws.bucket_name, Key=session["object_key"], UploadId=session["s3_upload_id"])
    except ClientError as error:
        if error.response["Error"]["Code"] != "NoSuchUpload":
            raise
        return False
    return True


# --- resume: the parts S3 holds ---


@pytest.mark.usefixtures("small_parts")
def test_a_pending_multipart_upload_lists_the_parts_s3_holds_so_a_client_can_resume(
    aws: Any, alice: User, ws: str, at: Any
) -> None:
    created = create_document(alice, ws, BIG, name="big.bin", content_type="application/octet-stream")
    upload_id = created["upload"]["upload_id"]
    fresh = ok(call("GET", f"/uploads/{upload_id}", claims=alice.claims))
    assert (fresh["status"], fresh["parts"], fresh["part_size"], fresh["part_count"]) == ("pending", [], 5 * MIB, 3)

    etag = _send_part(alice, upload_id, 2, BIG[5 * MIB : 10 * MIB])
    status = ok(call("GET", f"/uploads/{upload_id}", claims=alice.claims))
    assert [(p["part_number"], p["etag"]) for p in status["parts"]] == [(2, etag)]
    # A day to come back plus 11 MiB at 256 KiB/s (44 s).
    assert status["resumable_until"] == clock.iso(NOW + timedelta(days=1, seconds=44))
    assert "object_key" not in status
    assert "s3_upload_id" not in status


def test_a_single_put_status_carries_no_part_layout(aws: Any, alice: User, ws: str, at: Any) -> None:
    upload_id = create_document(alice, ws, DATA)["upload"]["upload_id"]
    status = ok(call("GET", f"/uploads/{upload_id}", claims=alice.claims))
    assert (status["parts"], status["part_size"], status["part_count"]) == (None, None, None)
    assert status["resumable_until"] == clock.iso(NOW + timedelta(minutes=15, hours=1))


# --- cancel ---


def test_cancelling_a_first_upload_leaves_no_document_behind(aws: Any, alice: User, ws: str) -> None:
    created = create_document(alice, ws, DATA, name="draft.pdf", tags=["q3"])
    doc, upload_id = created["document"]["id"], created["upload"]["upload_id"]
    assert _listing(alice, ws) == ["draft.pdf"]
    assert _document_count(ws) == 1

    assert call("DELETE", f"/uploads/{upload_id}", claims=alice.claims).status == 204

    assert _listing(alice, ws) == []
    assert ok(call("GET", f"/workspaces/{ws}/documents", claims=alice.claims, query={"tag": "q3"}))["items"] == []
    assert call("GET", f"/documents/{doc}", claims=alice.claims).status == 404
    assert Store().query(keys.document_pk(doc), consistent=True).items == []
    assert _document_count(ws) == 0
    status = ok(call("GET", f"/uploads/{upload_id}", claims=alice.claims))
    assert (status["status"], status["failure_reason"]) == ("aborted", "aborted")
    assert {"upload.aborted", "document.discarded"} <= set(_actions(alice, ws))


def test_cancelling_a_new_version_keeps_the_document_and_fails_only_that_version(
    aws: Any, alice: User, ws: str
) -> None:
    created = create_document(alice, ws, DATA)
    doc = created["document"]["id"]
    upload(aws, created["upload"]["upload_id"], DATA)
    body = {"size": 3, "sha256": sha256_b64(b"two")}
    second = ok(call("POST", f"/documents/{doc}/versions", claims=alice.claims, body=body), 201)

    assert call("DELETE", f"/uploads/{second['upload_id']}", claims=alice.claims).status == 204

    got = ok(call("GET", f"/documents/{doc}", claims=alice.claims))
    assert got["status"] == "available"
    assert sorted(v["status"] for v in got["versions"]) == ["available", "failed"]


# --- expiry ---


def test_the_sweeper_expires_an_abandoned_single_put_after_its_url_and_grace_and_discards_its_document(
    aws: Any, alice: User, ws: str, at: Any
) -> None:
    created = create_document(alice, ws, DATA, name="abandoned.pdf")
    doc, upload_id = created["document"]["id"], created["upload"]["upload_id"]

    at(NOW + timedelta(minutes=74))  # URL (15 min) + grace (1 h) not yet over
    _sweep()
    assert _listing(alice, ws) == ["abandoned.pdf"]

    at(NOW + timedelta(minutes=76))
    _sweep()
    assert _listing(alice, ws) == []
    assert call("GET", f"/documents/{doc}", claims=alice.claims).status == 404
    status = ok(call("GET", f"/uploads/{upload_id}", claims=alice.claims))
    assert (status["status"], status["failure_reason"]) == ("failed", "expired")
    assert {"upload.expired", "document.discarded"} <= set(_actions(alice, ws))
    assert _document_count(ws) == 0
    # Seen once: the session left the sweep index.
    assert "gsi4pk" not in (Store().get(keys.upload(upload_id)) or {})

    # A PUT that still lands afterwards finds no version: its bytes are deleted.
    landed = land(aws, upload_id, DATA)
    from tests.support.documents import deliver

    assert deliver(aws, landed) == {"batchItemFailures": []}
    s3 = boto3.client("s3", region_name=aws.region)
    listed = s3.list_object_versions(Bucket=aws.bucket_name, Prefix=landed["key"])
    assert listed.get("Versions", []) == []


@pytest.mark.usefixtures("small_parts")
def test_the_sweeper_aborts_an_abandoned_multipart_upload_in_s3_after_its_resume_window(
    aws: Any, alice: User, ws: str, at: Any
) -> None:
    created = create_document(alice, ws, BIG, name="big.bin", content_type="application/octet-stream")
    upload_id = created["upload"]["upload_id"]
    _send_part(alice, upload_id, 1, BIG[: 5 * MIB])

    at(NOW + timedelta(hours=23))
    _sweep()
    assert _s3_upload_exists(aws, upload_id)

    at(NOW + timedelta(days=1, minutes=1))
    _sweep()
    assert not _s3_upload_exists(aws, upload_id)
    session = Store().get(keys.upload(upload_id)) or {}
    assert (session["status"], session["failure_reason"]) == ("failed", "expired")
    assert _listing(alice, ws) == []


def test_an_expired_new_version_fails_and_the_document_stays_available(aws: Any, alice: User, ws: str, at: Any) -> None:
    created = create_document(alice, ws, DATA)
    doc = created["document"]["id"]
    upload(aws, created["upload"]["upload_id"], DATA)
    body = {"size": 3, "sha256": sha256_b64(b"two")}
    second = ok(call("POST", f"/documents/{doc}/versions", claims=alice.claims, body=body), 201)

    at(NOW + timedelta(hours=2))
    _sweep()

    got = ok(call("GET", f"/documents/{doc}", claims=alice.claims))
    assert got["status"] == "available"
    failed = [v for v in got["versions"] if v["id"] == second["version_id"]]
    assert [(v["status"], v["failure_reason"]) for v in failed] == [("failed", "expired")]


@pytest.mark.usefixtures("small_parts")
def test_a_client_coming_back_after_the_deadline_learns_the_upload_expired_and_gets_no_part_urls(
    aws: Any, alice: User, ws: str, at: Any
) -> None:
    created = create_document(alice, ws, BIG, name="big.bin", content_type="application/octet-stream")
    upload_id = created["upload"]["upload_id"]
    at(NOW + timedelta(days=2))
    body = {"parts": [{"part_number": 1, "sha256": sha256_b64(BIG[: 5 * MIB])}]}
    refused = call("POST", f"/uploads/{upload_id}/parts", claims=alice.claims, body=body)
    assert refused.status == 409
    assert "expired" in refused.text

    status = ok(call("GET", f"/uploads/{upload_id}", claims=alice.claims))  # expires on read
    assert (status["status"], status["failure_reason"], status["parts"]) == ("failed", "expired", None)
    assert not _s3_upload_exists(aws, upload_id)
    assert call("GET", f"/documents/{created['document']['id']}", claims=alice.claims).status == 404


def test_a_first_version_that_failed_verification_is_discarded_by_the_next_sweep(
    aws: Any, alice: User, ws: str, at: Any
) -> None:
    created = create_document(alice, ws, DATA, name="mismatch.pdf")
    upload(aws, created["upload"]["upload_id"], b"other bytes")
    assert _listing(alice, ws) == ["mismatch.pdf"]  # failed, shown until the sweep

    at(NOW + timedelta(hours=2))
    _sweep()
    assert _listing(alice, ws) == []
    assert _document_count(ws) == 0


def test_landed_uploads_are_left_alone_and_leave_the_sweep_index(aws: Any, alice: User, ws: str, at: Any) -> None:
    created = create_document(alice, ws, DATA, name="fine.pdf")
    upload(aws, created["upload"]["upload_id"], DATA)
    at(NOW + timedelta(hours=2))
    _sweep()
    assert _listing(alice, ws) == ["fine.pdf"]
    assert Store().query(uploads.DUE_INDEX_PK, index="gsi4").items == []


# --- empty files ---


def test_an_empty_file_is_a_document_like_any_other(aws: Any, alice: User, ws: str) -> None:
    created = create_document(alice, ws, b"", name="empty.txt", content_type="text/plain")
    assert created["upload"]["method"] == "PUT"
    upload(aws, created["upload"]["upload_id"], b"")
    got = ok(call("GET", f"/documents/{created['document']['id']}", claims=alice.claims))
    assert (got["status"], got["size"], got["sha256"]) == ("available", 0, sha256_b64(b""))
    refused = call(
        "POST",
        f"/workspaces/{ws}/documents",
        claims=alice.claims,
        body={"name": "x", "content_type": "text/plain", "size": -1, "sha256": sha256_b64(b"")},
    )
    assert refused.status == 422
    assert "size" in refused.json()["fields"]
