"""A member's uploads over the local stack: presigned PUT with real HTTP, verification on the S3
event, download of the same bytes, mismatches, a resumed multipart upload, a duplicated event."""

from __future__ import annotations

import base64
import hashlib
import json
import time
from typing import Any

import pytest
import requests

from docuserve.limits import Limits
from tests.e2e.client import LocalStack

pytestmark = pytest.mark.e2e


def _sha(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


@pytest.fixture(scope="module")
def member(local_stack: LocalStack) -> tuple[str, str]:
    """A fresh member's token and their workspace id."""
    token = local_stack.sign_in_user(local_stack.create_user())
    created = local_stack.api("POST", "/workspaces", token=token, json={"name": "e2e uploads"})
    assert created.status_code == 201, created.text
    return token, str(created.json()["id"])


def _create(stack: LocalStack, token: str, ws: str, declared: bytes, name: str = "plan.pdf") -> dict[str, Any]:
    body = {"name": name, "content_type": "application/pdf", "size": len(declared), "sha256": _sha(declared)}
    reply = stack.api("POST", f"/workspaces/{ws}/documents", token=token, json=body)
    assert reply.status_code == 201, reply.text
    return dict(reply.json())


def _settled(stack: LocalStack, token: str, upload_id: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = stack.api("GET", f"/uploads/{upload_id}", token=token).json()
        # completing: the job assembles it; scanning: verified, the malware scan decides
        if status["status"] not in ("pending", "completing", "scanning"):
            return dict(status)
        time.sleep(0.2)
    pytest.fail(f"upload {upload_id} never settled:\n{stack.log()[-3000:]}")


def test_put_process_and_download_the_same_bytes(local_stack: LocalStack, member: tuple[str, str]) -> None:
    token, ws = member
    content = b"%PDF-1.7\n" + bytes(range(256)) * 64
    created = _create(local_stack, token, ws, content, "Prüfplan Q3.pdf")
    upload = created["upload"]
    put = requests.put(upload["url"], data=content, headers=upload["headers"], timeout=30)
    assert put.status_code == 200, put.text

    assert _settled(local_stack, token, upload["upload_id"])["status"] == "completed"
    link = local_stack.api("GET", f"/documents/{created['document']['id']}/download", token=token)
    assert link.status_code == 200, link.text
    fetched = requests.get(link.json()["url"], timeout=30)
    assert fetched.status_code == 200
    assert fetched.content == content
    assert fetched.headers["content-disposition"].startswith('attachment; filename="Prufplan Q3.pdf"')


@pytest.mark.parametrize(
    ("sent", "reason"),
    [(b"B" * 1000, "SHA-256"), (b"A" * 1200, "size")],
    ids=["checksum-mismatch", "size-mismatch"],
)
def test_a_mismatch_leaves_no_available_version(
    local_stack: LocalStack, member: tuple[str, str], sent: bytes, reason: str
) -> None:
    token, ws = member
    created = _create(local_stack, token, ws, b"A" * 1000)
    upload = created["upload"]
    put = requests.put(upload["url"], data=sent, headers=upload["headers"], timeout=30)
    if put.status_code == 200:  # moto stores what it is sent; real S3 refuses these at the PUT
        status = _settled(local_stack, token, upload["upload_id"])
        assert status["status"] == "failed"
        assert reason in status["failure_reason"]
    else:
        assert 400 <= put.status_code < 500
    document = local_stack.api("GET", f"/documents/{created['document']['id']}", token=token).json()
    assert document["status"] == "pending"
    assert document["current_version"] is None
    download = local_stack.api("GET", f"/documents/{created['document']['id']}/download", token=token)
    assert download.status_code == 409


def _b64sha(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def test_a_multipart_upload_above_the_threshold_resumes_and_completes(
    local_stack: LocalStack, member: tuple[str, str]
) -> None:
    token, ws = member
    limits = Limits()
    size = limits.single_put_threshold + 1  # the smallest multipart upload at the default threshold
    content = hashlib.sha256(b"seed").digest() * (size // 32) + b"!" * (size % 32)
    created = _create(local_stack, token, ws, content, "big.bin")
    upload = created["upload"]
    assert upload["method"] == "MULTIPART"
    part_size = upload["part_size"]
    assert part_size == limits.part_size
    assert upload.get("parts") is None  # a part URL is granted for the part's SHA-256
    numbers = list(range(1, upload["part_count"] + 1))
    assert upload["part_count"] == -(-size // part_size)
    chunks = {n: content[(n - 1) * part_size : n * part_size] for n in numbers}

    def grant(wanted: list[int]) -> list[dict[str, Any]]:
        body = {"parts": [{"part_number": n, "sha256": _b64sha(chunks[n])} for n in wanted]}
        reply = local_stack.api("POST", f"/uploads/{upload['upload_id']}/parts", token=token, json=body)
        assert reply.status_code == 200, reply.text
        return list(reply.json()["parts"])

    def put_part(part: dict[str, Any]) -> str:
        reply = requests.put(part["url"], data=chunks[part["part_number"]], headers=part["headers"], timeout=120)
        assert reply.status_code == 200, reply.text
        return str(reply.headers["ETag"])

    etags = {1: put_part(grant([1])[0])}
    # The browser was closed after the first part; later it hashes and asks for the rest.
    for part in grant(numbers[1:]):
        etags[part["part_number"]] = put_part(part)
    parts = [{"part_number": n, "etag": etags[n], "sha256": _b64sha(chunks[n])} for n in numbers]
    done = local_stack.api("POST", f"/uploads/{upload['upload_id']}/complete", token=token, json={"parts": parts})
    assert done.status_code == 202, done.text  # the upload-jobs function completes it

    assert _settled(local_stack, token, upload["upload_id"], timeout=120)["status"] == "completed"
    link = local_stack.api("GET", f"/documents/{created['document']['id']}/download", token=token).json()
    fetched = requests.get(link["url"], timeout=120)
    assert hashlib.sha256(fetched.content).digest() == hashlib.sha256(content).digest()


def test_a_duplicated_s3_event_changes_nothing(local_stack: LocalStack, member: tuple[str, str]) -> None:
    token, ws = member
    content = b"duplicate me"
    created = _create(local_stack, token, ws, content)
    upload = created["upload"]
    assert requests.put(upload["url"], data=content, headers=upload["headers"], timeout=30).status_code == 200
    assert _settled(local_stack, token, upload["upload_id"])["status"] == "completed"

    sqs = local_stack.aws("sqs")
    queue = next(u for u in sqs.list_queues()["QueueUrls"] if u.endswith("object-created"))
    key = f"documents/{ws}/{created['document']['id']}/{upload['version_id']}"
    record = {
        "eventName": "ObjectCreated:Put",
        "s3": {"bucket": {"name": "b"}, "object": {"key": key, "size": len(content)}},
    }
    for _ in range(3):
        sqs.send_message(QueueUrl=queue, MessageBody=json.dumps({"Records": [record]}))
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and int(
        sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"][
            "ApproximateNumberOfMessages"
        ]
    ):
        time.sleep(0.2)
    time.sleep(1.5)

    document_id = created["document"]["id"]
    trail = local_stack.api("GET", f"/documents/{document_id}/audit", token=token).json()["items"]
    assert [e["action"] for e in trail].count("version.available") == 1
    document = local_stack.api("GET", f"/documents/{document_id}", token=token).json()
    assert [v["status"] for v in document["versions"]] == ["available"]
    fetched = requests.get(
        local_stack.api("GET", f"/documents/{document_id}/download", token=token).json()["url"], timeout=30
    )
    assert fetched.content == content
