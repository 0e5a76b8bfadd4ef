"""Bytes read by upload verification per byte uploaded, for a single PUT and for a multipart upload.

Each upload is made the way a client makes it: ``POST /workspaces/{id}/documents`` through the
handler; for a multipart upload, each part's SHA-256 given to ``POST /uploads/{id}/parts`` and the
part sent to the URL it returns with exactly the headers it names, then ``POST /uploads/{id}/complete``
(202) and the queued ``assemble`` job run by the upload-jobs function; then the S3 object-created
event handed to the upload-processing function (``handlers.upload_events``, the *checksum step*),
and for a multipart object the ``hash`` job it queues (``handlers.upload_jobs``, the *hashing
step*, which reads the object once for its full-object SHA-256). Each step is counted on its own:
the AWS calls it makes and the bytes it reads from S3 GetObject bodies (``bench.calls``). The
figures are bytes read / bytes uploaded: 0.0 for the checksum step means S3's stored checksums
decided it; 1.0 for the hashing step means the object is read once.

One moto shim: real S3 stores a full-object SHA-256 when a PUT carries ``x-amz-checksum-sha256``;
moto stores it only when the SDK's ``x-amz-sdk-checksum-algorithm`` header comes with it, so the
client here adds that header beside the signed one (moto does not check signatures). Without it
moto would report a re-read that AWS would not do.
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
import requests

from bench.calls import Tally, counting
from tests.support.documents import User, create_workspace, deliver, make_user, object_key_of, ok, run_jobs
from tests.support.gateway import call

MIB = 1024 * 1024
SINGLE_PUT_SIZE = 256 * 1024
# Parts of 5 MiB (S3's minimum for all but the last part): three parts of 5, 5 and 1 MiB.
PART_SIZE = 5 * MIB
MULTIPART_SIZE = 11 * MIB


@contextmanager
def _small_parts() -> Iterator[None]:
    """A 5 MiB single-PUT threshold and part size, so a multipart upload stays small."""
    from docuserve.settings import get_settings

    names = ("LIMIT_SINGLE_PUT_THRESHOLD", "LIMIT_PART_SIZE")
    saved = {name: os.environ.get(name) for name in names}
    os.environ.update({name: str(PART_SIZE) for name in names})
    get_settings.cache_clear()
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        get_settings.cache_clear()


def _content(size: int) -> bytes:
    return bytes(range(256)) * (size // 256) + bytes(size % 256)


def _declare(owner: User, ws: str, data: bytes, name: str) -> dict[str, Any]:
    body = {
        "name": name,
        "content_type": "application/octet-stream",
        "size": len(data),
        "sha256": base64.b64encode(hashlib.sha256(data).digest()).decode(),
    }
    return dict(ok(call("POST", f"/workspaces/{ws}/documents", claims=owner.claims, body=body), 201)["upload"])


def _send(url: str, data: bytes, headers: dict[str, str] | None) -> str:
    sent = dict(headers or {})
    if "x-amz-checksum-sha256" in sent:
        sent["x-amz-sdk-checksum-algorithm"] = "SHA256"  # the moto shim (module docstring)
    reply = requests.put(url, data=data, headers=sent, timeout=60)
    assert reply.status_code == 200, (reply.status_code, reply.text[:300])
    return str(reply.headers["ETag"])


def _sha256(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def _multipart(resources: Any, owner: User, instructions: dict[str, Any], data: bytes) -> tuple[Tally, Tally]:
    """Send every part as granted, then complete; returns what completion and its job asked of AWS."""
    size, count = int(instructions["part_size"]), int(instructions["part_count"])
    upload_id = instructions["upload_id"]
    chunks = {n: data[(n - 1) * size : n * size] for n in range(1, count + 1)}
    declared = [{"part_number": n, "sha256": _sha256(chunk)} for n, chunk in chunks.items()]
    granted = ok(call("POST", f"/uploads/{upload_id}/parts", claims=owner.claims, body={"parts": declared}))
    done = []
    for part in granted["parts"]:
        n = int(part["part_number"])
        etag = _send(part["url"], chunks[n], part.get("headers"))
        done.append({"part_number": n, "etag": etag, "sha256": _sha256(chunks[n])})
    with counting() as completion:
        ok(call("POST", f"/uploads/{upload_id}/complete", claims=owner.claims, body={"parts": done}), 202)
    with counting() as assembly:
        assert run_jobs(resources) == ["assemble"]
    return completion, assembly


def _process(resources: Any, owner: User, upload_id: str, size: int) -> tuple[Tally, Tally]:
    """Hand the S3 event of the landed object to the upload-processing function, then run the jobs
    it queued (a multipart object's hashing); each step counted."""
    key = object_key_of(upload_id)
    s3 = boto3.client("s3", region_name=resources.region)  # not a domain client: not counted
    version = s3.head_object(Bucket=resources.bucket_name, Key=key).get("VersionId")
    with counting() as checksum:
        result = deliver(resources, {"key": key, "size": size, "version_id": version})
    assert result == {"batchItemFailures": []}, result
    with counting() as hashing:
        run_jobs(resources)
    status = ok(call("GET", f"/uploads/{upload_id}", claims=owner.claims))["status"]
    assert status == "completed", f"the upload did not verify: {status}"
    return checksum, hashing


def measure(resources: Any) -> dict[str, Any]:
    """Per upload shape: bytes uploaded, bytes read back, their ratio, and the calls of each step."""
    owner = make_user(resources, "verification@example.com")
    ws = create_workspace(owner, "verification")
    results: dict[str, Any] = {}
    with _small_parts():
        data = _content(SINGLE_PUT_SIZE)
        single = _declare(owner, ws, data, "single.bin")
        assert single["method"] == "PUT", single["method"]
        _send(single["url"], data, single["headers"])
        checksum, hashing = _process(resources, owner, single["upload_id"], len(data))
        results["single PUT"] = _figures(len(data), checksum, hashing)

        data = _content(MULTIPART_SIZE)
        multi = _declare(owner, ws, data, "multipart.bin")
        assert multi["method"] == "MULTIPART", multi["method"]
        completion, assembly = _multipart(resources, owner, multi, data)
        checksum, hashing = _process(resources, owner, multi["upload_id"], len(data))
        results["multipart"] = _figures(len(data), checksum, hashing) | {
            "completion": completion.as_dict(),
            "assembly": assembly.as_dict(),
        }
    return results


def _figures(uploaded: int, checksum: Tally, hashing: Tally) -> dict[str, Any]:
    return {
        "bytes_uploaded": uploaded,
        "bytes_read": checksum.s3_bytes_read,
        "bytes_read_per_byte_uploaded": round(checksum.s3_bytes_read / uploaded, 4),
        "hashing_bytes_read_per_byte_uploaded": round(hashing.s3_bytes_read / uploaded, 4),
        "processing": checksum.as_dict(),
        "hashing": hashing.as_dict(),
    }
