"""Bytes read by upload verification per byte uploaded, for a single PUT and for a multipart upload.

Each upload is made the way a client makes it: ``POST /workspaces/{id}/documents`` through the
handler, the bytes sent to the presigned URL(s) with exactly the headers the instructions name
(moto intercepts the HTTP requests in-process), ``POST /uploads/{id}/complete`` for a multipart
upload, then the S3 object-created event handed to the upload-processing function
(``handlers.upload_events``). Only that last step is counted: the AWS calls it makes and the bytes
it reads from S3 GetObject bodies (``bench.calls``). The figure is bytes read / bytes uploaded: 1.0
means the whole object is read back, 0.0 that verification relied on S3's stored checksum.

One moto shim: real S3 stores a full-object SHA-256 when a PUT carries ``x-amz-checksum-sha256``;
moto stores it only when the SDK's ``x-amz-sdk-checksum-algorithm`` header comes with it, so the
client here adds that header beside the signed one (moto does not check signatures). Without it
moto would report a re-read that AWS would not do.

When the upload instructions change shape (per-part checksums for multipart), ``_send`` and
``_multipart`` follow them: a part's own ``headers`` are already sent when the instructions carry
them.
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
from tests.support.documents import User, create_workspace, deliver, make_user, object_key_of, ok
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


def _multipart(owner: User, instructions: dict[str, Any], data: bytes) -> Tally:
    """Send every part as instructed, then complete; returns what completion asked of AWS."""
    size = int(instructions["part_size"])
    parts = instructions["parts"]
    assert len(parts) == instructions["part_count"], "the bench sends every part from the first instructions"
    done = []
    for part in parts:
        n = int(part["part_number"])
        etag = _send(part["url"], data[(n - 1) * size : n * size], part.get("headers"))
        done.append({"part_number": n, "etag": etag})
    upload_id = instructions["upload_id"]
    with counting() as tally:
        ok(call("POST", f"/uploads/{upload_id}/complete", claims=owner.claims, body={"parts": done}))
    return tally


def _process(resources: Any, owner: User, upload_id: str, size: int) -> Tally:
    """Hand the S3 event of the landed object to the upload-processing function, counted."""
    key = object_key_of(upload_id)
    s3 = boto3.client("s3", region_name=resources.region)  # not a domain client: not counted
    version = s3.head_object(Bucket=resources.bucket_name, Key=key).get("VersionId")
    with counting() as tally:
        result = deliver(resources, {"key": key, "size": size, "version_id": version})
    assert result == {"batchItemFailures": []}, result
    status = ok(call("GET", f"/uploads/{upload_id}", claims=owner.claims))["status"]
    assert status == "completed", f"the upload did not verify: {status}"
    return tally


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
        processed = _process(resources, owner, single["upload_id"], len(data))
        results["single PUT"] = _figures(len(data), processed)

        data = _content(MULTIPART_SIZE)
        multi = _declare(owner, ws, data, "multipart.bin")
        assert multi["method"] == "MULTIPART", multi["method"]
        completion = _multipart(owner, multi, data)
        processed = _process(resources, owner, multi["upload_id"], len(data))
        results["multipart"] = _figures(len(data), processed) | {"completion": completion.as_dict()}
    return results


def _figures(uploaded: int, processed: Tally) -> dict[str, Any]:
    return {
        "bytes_uploaded": uploaded,
        "bytes_read": processed.s3_bytes_read,
        "bytes_read_per_byte_uploaded": round(processed.s3_bytes_read / uploaded, 4),
        "processing": processed.as_dict(),
    }
