"""Uploads end to end against moto: instructions, verification on the S3 event, multipart, abort."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlparse

import boto3
import pytest

from docuserve import keys, processing
from docuserve.adapters.store import Store
from docuserve.limits import MIB
from docuserve.settings import get_settings
from tests.support.documents import (
    User,
    add_member,
    create_document,
    create_workspace,
    deliver,
    land,
    make_user,
    ok,
    sha256_b64,
    upload,
)
from tests.support.gateway import call

DATA = b"The launch plan, version one.\n"


@pytest.fixture
def alice(aws: Any) -> User:
    return make_user(aws, "alice@example.com")


@pytest.fixture
def ws(alice: User) -> str:
    return create_workspace(alice)


def _events(ws: str, alice: User, action: str) -> list[dict[str, Any]]:
    items = ok(call("GET", f"/workspaces/{ws}/audit", claims=alice.claims, query={"limit": "200"}))["items"]
    return [e for e in items if e["action"] == action]


def _s3_versions(aws: Any, doc: str) -> list[dict[str, Any]]:
    s3 = boto3.client("s3", region_name=aws.region)
    ws = doc.split(".")[0]
    listed = s3.list_object_versions(Bucket=aws.bucket_name, Prefix=f"documents/{ws}/{doc}/")
    return list(listed.get("Versions", []))


def test_single_put_instructions_sign_type_length_checksum_and_kms_headers(aws: Any, alice: User, ws: str) -> None:
    created = create_document(alice, ws, DATA, name="Launch plan.pdf")
    instructions = created["upload"]
    assert instructions["method"] == "PUT"
    query = parse_qs(urlparse(instructions["url"]).query)
    signed = set(query["X-Amz-SignedHeaders"][0].split(";"))
    assert {
        "content-type",
        "content-length",
        "x-amz-checksum-sha256",
        "x-amz-server-side-encryption",
        "x-amz-server-side-encryption-aws-kms-key-id",
    } <= signed
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    assert int(query["X-Amz-Expires"][0]) <= 900
    assert instructions["headers"] == {
        "Content-Type": "application/pdf",
        "x-amz-checksum-sha256": sha256_b64(DATA),
        "x-amz-server-side-encryption": "aws:kms",
        "x-amz-server-side-encryption-aws-kms-key-id": aws.kms_key_arn,
    }
    assert "Launch" not in urlparse(instructions["url"]).path  # the key never derives from the file name


def test_matching_bytes_make_the_version_available_and_downloadable(aws: Any, alice: User, ws: str) -> None:
    created = create_document(alice, ws, DATA)
    doc = created["document"]["id"]
    upload(aws, created["upload"]["upload_id"], DATA)

    got = ok(call("GET", f"/documents/{doc}", claims=alice.claims))
    assert got["status"] == "available"
    assert got["current_version"] == created["upload"]["version_id"]
    assert [v["status"] for v in got["versions"]] == ["available"]
    status = ok(call("GET", f"/uploads/{created['upload']['upload_id']}", claims=alice.claims))
    assert status["status"] == "completed"
    link = ok(call("GET", f"/documents/{doc}/download", claims=alice.claims))
    query = parse_qs(urlparse(link["url"]).query)
    assert query["X-Amz-Expires"] == ["60"]
    assert query["response-content-disposition"] == ['attachment; filename="plan.pdf"']
    assert len(_events(ws, alice, "version.available")) == 1


@pytest.mark.parametrize(
    ("sent", "reason"),
    [(b"The launch plan, version 0ne.\n", "SHA-256 mismatch"), (DATA + b"extra", "size mismatch")],
    ids=["checksum", "size"],
)
def test_a_mismatch_fails_the_upload_deletes_the_object_and_leaves_no_version(
    aws: Any, alice: User, ws: str, sent: bytes, reason: str
) -> None:
    created = create_document(alice, ws, DATA)
    doc, upload_id = created["document"]["id"], created["upload"]["upload_id"]
    upload(aws, upload_id, sent)

    status = ok(call("GET", f"/uploads/{upload_id}", claims=alice.claims))
    assert status["status"] == "failed"
    assert reason in status["failure_reason"]
    got = ok(call("GET", f"/documents/{doc}", claims=alice.claims))
    assert got["status"] == "pending"
    assert got["current_version"] is None
    assert got["versions"][0]["status"] == "failed"
    assert _s3_versions(aws, doc) == []
    assert call("GET", f"/documents/{doc}/download", claims=alice.claims).status == 409
    assert len(_events(ws, alice, "upload.failed")) == 1


def test_a_duplicate_event_changes_nothing_and_audits_once(aws: Any, alice: User, ws: str) -> None:
    created = create_document(alice, ws, DATA)
    landed = land(aws, created["upload"]["upload_id"], DATA)
    assert deliver(aws, landed, landed) == {"batchItemFailures": []}
    assert deliver(aws, landed) == {"batchItemFailures": []}
    assert len(_events(ws, alice, "version.available")) == 1
    assert len(_s3_versions(aws, created["document"]["id"])) == 1


@pytest.mark.parametrize("data", [DATA, b"not what was declared"], ids=["match", "mismatch"])
def test_concurrent_duplicate_events_decide_exactly_once(
    aws: Any, alice: User, ws: str, monkeypatch: pytest.MonkeyPatch, data: bytes
) -> None:
    """Two deliveries both find the version pending; the second decides while the first is still
    verifying. (Interleaved deterministically: moto does not lock items between threads, so a
    thread race would test moto rather than the conditional write.)"""
    created = create_document(alice, ws, DATA)
    landed = land(aws, created["upload"]["upload_id"], data)
    parsed = processing.parse_key(landed["key"], landed["version_id"])
    assert parsed is not None
    real_verify = processing.verify
    outcomes: list[str] = []

    def verify_while_a_duplicate_runs(*args: Any, **kwargs: Any) -> tuple[str | None, str | None]:
        if not outcomes:
            outcomes.append("")  # only the first delivery lets a duplicate overtake it
            monkeypatch.setattr(processing, "verify", real_verify)
            outcomes.append(processing.handle(parsed))
        return real_verify(*args, **kwargs)

    monkeypatch.setattr(processing, "verify", verify_while_a_duplicate_runs)
    outcomes.append(processing.handle(parsed))
    decided = "available" if data == DATA else "failed"
    assert outcomes[1:] == [decided, "already_available" if data == DATA else "already_failed"]
    assert len(_events(ws, alice, "version.available" if data == DATA else "upload.failed")) == 1
    status = "available" if data == DATA else "pending"
    assert ok(call("GET", f"/documents/{created['document']['id']}", claims=alice.claims))["status"] == status


def test_a_late_older_version_never_moves_current_back(aws: Any, alice: User, ws: str) -> None:
    created = create_document(alice, ws, DATA)
    doc = created["document"]["id"]
    v1 = created["upload"]
    v2_bytes = b"version two"
    v2 = ok(
        call(
            "POST",
            f"/documents/{doc}/versions",
            claims=alice.claims,
            body={"size": len(v2_bytes), "sha256": sha256_b64(v2_bytes)},
        ),
        201,
    )
    upload(aws, v2["upload_id"], v2_bytes)
    upload(aws, v1["upload_id"], DATA)

    got = ok(call("GET", f"/documents/{doc}", claims=alice.claims))
    assert got["current_version"] == v2["version_id"]
    assert got["size"] == len(v2_bytes)
    assert [(v["number"], v["status"], v["current"]) for v in got["versions"]] == [
        (2, "available", True),
        (1, "available", False),
    ]
    old = ok(call("GET", f"/documents/{doc}/download", claims=alice.claims, query={"version_id": v1["version_id"]}))
    assert "versionId=" in old["url"]


def test_a_second_put_to_the_same_url_is_deleted_because_versions_are_immutable(aws: Any, alice: User, ws: str) -> None:
    created = create_document(alice, ws, DATA)
    doc = created["document"]["id"]
    upload(aws, created["upload"]["upload_id"], DATA)
    again = land(aws, created["upload"]["upload_id"], b"different bytes")
    assert deliver(aws, again) == {"batchItemFailures": []}
    remaining = _s3_versions(aws, doc)
    assert len(remaining) == 1
    assert remaining[0]["VersionId"] != again["version_id"]


def test_objects_without_a_version_item_are_removed_and_garbage_messages_are_dropped(aws: Any, ws: str) -> None:
    s3 = boto3.client("s3", region_name=aws.region)
    from docuserve import ids

    doc = ids.new_child_id(ws)
    key = f"documents/{ws}/{doc}/{ids.new_child_id(ws)}"
    put = s3.put_object(Bucket=aws.bucket_name, Key=key, Body=b"x")
    result = deliver(aws, {"key": key, "size": 1, "version_id": put["VersionId"]})
    assert result == {"batchItemFailures": []}
    assert _s3_versions(aws, doc) == []

    import importlib

    from local.events import sqs_event
    from tests.support.gateway import FakeContext

    module = importlib.import_module("handlers.upload_events")
    garbage = sqs_event([("a", "not json"), ("b", '{"Records": [{"eventName": "ObjectCreated:Put"}]}'), ("c", "[]")])
    assert module.handler(garbage, FakeContext()) == {"batchItemFailures": []}


def test_a_transient_error_is_reported_for_retry(aws: Any, alice: User, ws: str, monkeypatch: Any) -> None:
    created = create_document(alice, ws, DATA)
    landed = land(aws, created["upload"]["upload_id"], DATA)

    def broken(*args: Any, **kwargs: Any) -> None:
        raise ConnectionError("S3 is having a moment")

    monkeypatch.setattr(processing.objects, "inspect", broken)
    assert deliver(aws, landed) == {"batchItemFailures": [{"itemIdentifier": "m0"}]}
    monkeypatch.undo()
    assert deliver(aws, landed) == {"batchItemFailures": []}
    assert ok(call("GET", f"/documents/{created['document']['id']}", claims=alice.claims))["status"] == "available"


def test_a_size_above_the_maximum_is_413(aws: Any, alice: User, ws: str) -> None:
    body = {"name": "huge.bin", "content_type": "application/octet-stream", "size": 6 * 1024**4}
    body["sha256"] = sha256_b64(b"")
    reply = call("POST", f"/workspaces/{ws}/documents", claims=alice.claims, body=body)
    assert reply.status == 413
    assert reply.json()["code"] == "too_large"


# --- multipart ----------------------------------------------------------------------------------


@pytest.fixture
def small_parts(aws: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """A 5 MiB single-PUT threshold and part size, so a multipart upload fits in a test."""
    monkeypatch.setenv("LIMIT_SINGLE_PUT_THRESHOLD", str(5 * MIB))
    monkeypatch.setenv("LIMIT_PART_SIZE", str(5 * MIB))
    get_settings.cache_clear()


def _put_part(aws: Any, url_upload_id: str, number: int, data: bytes) -> str:
    session = Store().get(keys.upload(url_upload_id))
    assert session is not None
    s3 = boto3.client("s3", region_name=aws.region)
    etag: str = s3.upload_part(
        Bucket=aws.bucket_name,
        Key=session["object_key"],
        UploadId=session["s3_upload_id"],
        PartNumber=number,
        Body=data,
    )["ETag"]
    return etag


@pytest.mark.usefixtures("small_parts")
def test_multipart_upload_resumes_completes_and_verifies_by_streaming(aws: Any, alice: User, ws: str) -> None:
    data = bytes(range(256)) * (11 * 4096)  # 11 MiB: three parts of 5, 5 and 1 MiB
    created = create_document(alice, ws, data, name="big.bin", content_type="application/octet-stream")
    instructions = created["upload"]
    upload_id = instructions["upload_id"]
    assert instructions["method"] == "MULTIPART"
    assert instructions["part_size"] == 5 * MIB
    assert [p["part_number"] for p in instructions["parts"]] == [1, 2, 3]
    assert "headers" not in instructions or instructions["headers"] is None

    first = _put_part(aws, upload_id, 1, data[: 5 * MIB])
    # The client went away; it asks for fresh URLs for the parts it still needs.
    resumed = ok(call("POST", f"/uploads/{upload_id}/parts", claims=alice.claims, body={"part_numbers": [3, 2]}))
    assert [p["part_number"] for p in resumed["parts"]] == [2, 3]
    second = _put_part(aws, upload_id, 2, data[5 * MIB : 10 * MIB])
    third = _put_part(aws, upload_id, 3, data[10 * MIB :])

    incomplete = [{"part_number": 1, "etag": first}, {"part_number": 3, "etag": third}]
    assert call("POST", f"/uploads/{upload_id}/complete", claims=alice.claims, body={"parts": incomplete}).status == 422
    parts = [{"part_number": 1, "etag": first}, {"part_number": 2, "etag": second}, {"part_number": 3, "etag": third}]
    ok(call("POST", f"/uploads/{upload_id}/complete", claims=alice.claims, body={"parts": parts}))

    s3 = boto3.client("s3", region_name=aws.region)
    session = Store().get(keys.upload(upload_id))
    assert session is not None
    head = s3.head_object(Bucket=aws.bucket_name, Key=session["object_key"])
    result = deliver(aws, {"key": session["object_key"], "size": len(data), "version_id": head.get("VersionId")})
    assert result == {"batchItemFailures": []}
    assert ok(call("GET", f"/uploads/{upload_id}", claims=alice.claims))["status"] == "completed"
    assert ok(call("GET", f"/documents/{created['document']['id']}", claims=alice.claims))["status"] == "available"


@pytest.mark.usefixtures("small_parts")
def test_an_aborted_upload_fails_its_version_and_cannot_be_resumed(aws: Any, alice: User, ws: str) -> None:
    data = b"a" * (6 * MIB)
    created = create_document(alice, ws, data, content_type="application/octet-stream")
    upload_id = created["upload"]["upload_id"]
    assert call("DELETE", f"/uploads/{upload_id}", claims=alice.claims).status == 204
    assert ok(call("GET", f"/uploads/{upload_id}", claims=alice.claims))["status"] == "aborted"
    assert call("POST", f"/uploads/{upload_id}/parts", claims=alice.claims, body={"part_numbers": [1]}).status == 409
    assert call("DELETE", f"/uploads/{upload_id}", claims=alice.claims).status == 409
    got = ok(call("GET", f"/documents/{created['document']['id']}", claims=alice.claims))
    assert got["versions"][0]["status"] == "failed"


def test_single_put_uploads_cannot_be_resumed_or_completed(aws: Any, alice: User, ws: str) -> None:
    upload_id = create_document(alice, ws, DATA)["upload"]["upload_id"]
    body = {"parts": [{"part_number": 1, "etag": '"x"'}]}
    assert call("POST", f"/uploads/{upload_id}/complete", claims=alice.claims, body=body).status == 409
    assert call("POST", f"/uploads/{upload_id}/parts", claims=alice.claims, body={"part_numbers": [1]}).status == 409


def test_only_the_uploader_sees_an_upload(aws: Any, alice: User, ws: str) -> None:
    bob = make_user(aws, "bob@example.com")
    add_member(alice, ws, bob, "editor")
    upload_id = create_document(bob, ws, DATA)["upload"]["upload_id"]
    assert call("GET", f"/uploads/{upload_id}", claims=alice.claims).status == 404
    assert call("DELETE", f"/uploads/{upload_id}", claims=alice.claims).status == 404
