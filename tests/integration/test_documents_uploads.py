"""Uploads end to end against moto: instructions, verification on the S3 event, multipart, abort."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, urlparse

import boto3
import pytest
import requests

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
    run_jobs,
    scan_landed,
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
    scan_landed(aws, landed)  # the scan result first: then the checksum step decides at once
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


def _put_part(url_or_part: dict[str, Any], data: bytes) -> str:
    """Send one part to its presigned URL with exactly the headers granted (moto intercepts it)."""
    reply = requests.put(url_or_part["url"], data=data, headers=url_or_part["headers"], timeout=30)
    assert reply.status_code == 200, reply.text[:300]
    return str(reply.headers["ETag"])


def _parts_of(data: bytes, size: int = 5 * MIB) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


def _grant(alice: User, upload_id: str, chunks: dict[int, bytes]) -> dict[int, dict[str, Any]]:
    body = {"parts": [{"part_number": n, "sha256": sha256_b64(c)} for n, c in chunks.items()]}
    granted = ok(call("POST", f"/uploads/{upload_id}/parts", claims=alice.claims, body=body))
    return {int(p["part_number"]): p for p in granted["parts"]}


def _send_all(alice: User, upload_id: str, data: bytes, *, sent: list[bytes] | None = None) -> list[dict[str, Any]]:
    """Hash each part, get its URL, send it (``sent`` replaces the bytes actually sent); the
    completion list."""
    chunks = dict(enumerate(_parts_of(data), start=1))
    grants = _grant(alice, upload_id, chunks)
    actual = dict(enumerate(sent or list(chunks.values()), start=1))
    return [
        {"part_number": n, "etag": _put_part(grants[n], actual[n]), "sha256": sha256_b64(chunks[n])} for n in chunks
    ]


def _get_object_calls() -> list[str]:
    """Every GetObject the domain's S3 client makes from now on (HEADs are not GetObject)."""
    from docuserve.adapters import aws as adapters

    calls: list[str] = []
    adapters.s3().meta.events.register("before-call.s3.GetObject", lambda **kw: calls.append(kw["model"].name))
    return calls


def _land_event(aws: Any, upload_id: str, size: int) -> dict[str, Any]:
    session = Store().get(keys.upload(upload_id))
    assert session is not None
    s3 = boto3.client("s3", region_name=aws.region)
    head = s3.head_object(Bucket=aws.bucket_name, Key=session["object_key"])
    return {"key": session["object_key"], "size": size, "version_id": head.get("VersionId")}


BIG = bytes(range(256)) * (11 * 4096)  # 11 MiB: three parts of 5, 5 and 1 MiB


@pytest.mark.usefixtures("small_parts")
def test_multipart_instructions_carry_no_part_url_until_each_part_declares_its_sha256(
    aws: Any, alice: User, ws: str
) -> None:
    instructions = create_document(alice, ws, BIG, name="big.bin", content_type="application/octet-stream")["upload"]
    assert instructions["method"] == "MULTIPART"
    assert (instructions["part_size"], instructions["part_count"]) == (5 * MIB, 3)
    assert instructions.get("parts") is None
    chunks = dict(enumerate(_parts_of(BIG), start=1))
    grants = _grant(alice, instructions["upload_id"], {3: chunks[3], 1: chunks[1]})
    assert sorted(grants) == [1, 3]
    for n, grant in grants.items():
        query = parse_qs(urlparse(grant["url"]).query)
        assert "x-amz-checksum-sha256" in query["X-Amz-SignedHeaders"][0].split(";")
        assert grant["headers"] == {"x-amz-checksum-sha256": sha256_b64(chunks[n])}


@pytest.mark.usefixtures("small_parts")
@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"part_numbers": [1]}, "parts"),
        ({"parts": [{"part_number": 1}]}, "sha256"),
        ({"parts": [{"part_number": 1, "sha256": "not base64 of 32 bytes"}]}, "sha256"),
        ({"parts": [{"part_number": 0, "sha256": sha256_b64(b"x")}]}, "part_number"),
    ],
    ids=["old-body", "no-checksum", "bad-checksum", "bad-number"],
)
def test_malformed_part_declarations_are_422_naming_the_field(
    aws: Any, alice: User, ws: str, body: dict[str, Any], field: str
) -> None:
    upload_id = create_document(alice, ws, BIG, content_type="application/octet-stream")["upload"]["upload_id"]
    reply = call("POST", f"/uploads/{upload_id}/parts", claims=alice.claims, body=body)
    assert reply.status == 422
    assert field in json.dumps(reply.json())


@pytest.mark.usefixtures("small_parts")
def test_multipart_completes_in_a_job_checks_stored_checksums_without_reading_then_hashes_in_a_job(
    aws: Any, alice: User, ws: str
) -> None:
    created = create_document(alice, ws, BIG, name="big.bin", content_type="application/octet-stream")
    upload_id = created["upload"]["upload_id"]
    parts = _send_all(alice, upload_id, BIG)
    incomplete = [parts[0], parts[2]]
    assert call("POST", f"/uploads/{upload_id}/complete", claims=alice.claims, body={"parts": incomplete}).status == 422

    # Completion answers at once: S3's CompleteMultipartUpload runs in the upload-jobs function.
    reply = call("POST", f"/uploads/{upload_id}/complete", claims=alice.claims, body={"parts": parts})
    assert reply.status == 202
    assert reply.json()["status"] == "completing"
    assert _s3_versions(aws, created["document"]["id"]) == []
    # A lost answer: the same request again is fine; other parts are not.
    assert call("POST", f"/uploads/{upload_id}/complete", claims=alice.claims, body={"parts": parts}).status == 202
    other = [dict(parts[0], sha256=sha256_b64(b"other")), *parts[1:]]
    assert call("POST", f"/uploads/{upload_id}/complete", claims=alice.claims, body={"parts": other}).status == 409
    assert run_jobs(aws) == ["assemble", "assemble"]  # the second finds the upload assembled already

    reads = _get_object_calls()
    assert deliver(aws, _land_event(aws, upload_id, len(BIG))) == {"batchItemFailures": []}
    assert reads == []  # the checksum step: a HEAD, no byte read
    assert ok(call("GET", f"/uploads/{upload_id}", claims=alice.claims))["status"] == "completing"
    assert run_jobs(aws) == ["hash"]
    assert reads == ["GetObject"]  # the hashing step reads the object once
    assert ok(call("GET", f"/uploads/{upload_id}", claims=alice.claims))["status"] == "completed"
    assert ok(call("GET", f"/documents/{created['document']['id']}", claims=alice.claims))["status"] == "available"


@pytest.mark.usefixtures("small_parts")
def test_a_multipart_object_whose_full_sha256_differs_fails_the_hashing_step(aws: Any, alice: User, ws: str) -> None:
    # Every part is what its checksum says; the declared full-object SHA-256 is another file's.
    created = create_document(
        alice, ws, BIG, name="big.bin", content_type="application/octet-stream", sha256=sha256_b64(b"another file")
    )
    upload_id = created["upload"]["upload_id"]
    ok(
        call(
            "POST",
            f"/uploads/{upload_id}/complete",
            claims=alice.claims,
            body={"parts": _send_all(alice, upload_id, BIG)},
        ),
        202,
    )
    assert run_jobs(aws) == ["assemble"]
    deliver(aws, _land_event(aws, upload_id, len(BIG)))
    assert run_jobs(aws) == ["hash"]
    status = ok(call("GET", f"/uploads/{upload_id}", claims=alice.claims))
    assert (status["status"], status["failure_reason"]) == (
        "failed",
        "SHA-256 mismatch: the bytes are not the ones declared",
    )
    assert _s3_versions(aws, created["document"]["id"]) == []


@pytest.mark.usefixtures("small_parts")
def test_parts_whose_bytes_differ_from_their_declared_sha256_fail_at_the_checksum_step_unread(
    aws: Any, alice: User, ws: str
) -> None:
    """Real S3 refuses such a part outright (tests/conformance); moto stores it, and the composite
    checksum S3 computes from the stored parts then differs from the declared parts'."""
    created = create_document(alice, ws, BIG, name="big.bin", content_type="application/octet-stream")
    upload_id = created["upload"]["upload_id"]
    chunks = _parts_of(BIG)
    tampered = [chunks[0], b"X" * len(chunks[1]), chunks[2]]
    parts = _send_all(alice, upload_id, BIG, sent=tampered)
    ok(call("POST", f"/uploads/{upload_id}/complete", claims=alice.claims, body={"parts": parts}), 202)
    assert run_jobs(aws) == ["assemble"]
    reads = _get_object_calls()
    deliver(aws, _land_event(aws, upload_id, len(BIG)))
    assert reads == []
    assert run_jobs(aws) == []  # no hashing: the checksum step decided
    status = ok(call("GET", f"/uploads/{upload_id}", claims=alice.claims))
    assert status["status"] == "failed"
    assert "not the ones declared" in status["failure_reason"]


@pytest.mark.usefixtures("small_parts")
def test_parts_s3_refuses_at_completion_fail_the_upload_and_its_version(
    aws: Any, alice: User, ws: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from docuserve.adapters import objects

    created = create_document(alice, ws, BIG, name="big.bin", content_type="application/octet-stream")
    upload_id = created["upload"]["upload_id"]
    parts = _send_all(alice, upload_id, BIG)
    ok(call("POST", f"/uploads/{upload_id}/complete", claims=alice.claims, body={"parts": parts}), 202)

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise objects.UploadRejected("InvalidPart", "checksum mismatch")  # what S3 answers a wrong checksum

    monkeypatch.setattr(objects, "complete_multipart", refuse)
    assert run_jobs(aws) == ["assemble"]
    status = ok(call("GET", f"/uploads/{upload_id}", claims=alice.claims))
    assert (status["status"], status["failure_reason"]) == ("failed", "S3 refused the parts (InvalidPart)")
    got = ok(call("GET", f"/documents/{created['document']['id']}", claims=alice.claims))
    assert got["versions"][0]["status"] == "failed"
    assert len(_events(ws, alice, "upload.failed")) == 1


def test_a_single_put_decides_on_the_stored_checksum_without_reading(aws: Any, alice: User, ws: str) -> None:
    created = create_document(alice, ws, DATA)
    reads = _get_object_calls()
    upload(aws, created["upload"]["upload_id"], DATA)
    assert reads == []
    assert run_jobs(aws) == []
    assert ok(call("GET", f"/documents/{created['document']['id']}", claims=alice.claims))["status"] == "available"


@pytest.mark.usefixtures("small_parts")
def test_an_aborted_first_upload_discards_its_document_and_cannot_be_resumed(aws: Any, alice: User, ws: str) -> None:
    data = b"a" * (6 * MIB)
    created = create_document(alice, ws, data, content_type="application/octet-stream")
    upload_id = created["upload"]["upload_id"]
    assert call("DELETE", f"/uploads/{upload_id}", claims=alice.claims).status == 204
    assert ok(call("GET", f"/uploads/{upload_id}", claims=alice.claims))["status"] == "aborted"
    parts = {"parts": [{"part_number": 1, "sha256": sha256_b64(b"a")}]}
    assert call("POST", f"/uploads/{upload_id}/parts", claims=alice.claims, body=parts).status == 409
    assert call("DELETE", f"/uploads/{upload_id}", claims=alice.claims).status == 409
    # Nothing of it ever landed: the document is gone (docs/uploads: "Cancelled and abandoned uploads").
    assert call("GET", f"/documents/{created['document']['id']}", claims=alice.claims).status == 404


def test_single_put_uploads_cannot_be_resumed_or_completed(aws: Any, alice: User, ws: str) -> None:
    upload_id = create_document(alice, ws, DATA)["upload"]["upload_id"]
    body = {"parts": [{"part_number": 1, "etag": '"x"', "sha256": sha256_b64(DATA)}]}
    assert call("POST", f"/uploads/{upload_id}/complete", claims=alice.claims, body=body).status == 409
    parts = {"parts": [{"part_number": 1, "sha256": sha256_b64(DATA)}]}
    assert call("POST", f"/uploads/{upload_id}/parts", claims=alice.claims, body=parts).status == 409


def test_only_the_uploader_sees_an_upload(aws: Any, alice: User, ws: str) -> None:
    bob = make_user(aws, "bob@example.com")
    add_member(alice, ws, bob, "editor")
    upload_id = create_document(bob, ws, DATA)["upload"]["upload_id"]
    assert call("GET", f"/uploads/{upload_id}", claims=alice.claims).status == 404
    assert call("DELETE", f"/uploads/{upload_id}", claims=alice.claims).status == 404
