"""DocuServe's presigned URLs against an S3 that checks SigV4 (SeaweedFS), because moto checks none
of this: signatures, expiry, the signed headers, size and checksum (SPEC security promise 6).

Every URL here comes from ``docuserve.adapters.objects``, the code the functions run.
"""

from __future__ import annotations

import base64
import hashlib
import time
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest
import requests

from docuserve.adapters import aws, objects
from tests.conformance.conftest import Seaweed

pytestmark = pytest.mark.usefixtures("docuserve_at_seaweed")

CONTENT = b"%PDF-1.7 product design, confidential\n" * 200
TIMEOUT = 30


def sha256_b64(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def fresh_key() -> str:
    return objects.object_key(f"ws{time.time_ns()}.doc", "v1")


def presigned_upload(key: str, data: bytes = CONTENT, *, ttl: int | None = None) -> tuple[str, dict[str, str]]:
    sha = sha256_b64(data)
    url = objects.presign_put(key, content_type="application/pdf", sha256=sha, size=len(data), ttl_seconds=ttl)
    return url, objects.upload_headers(content_type="application/pdf", sha256=sha)


def put(url: str, headers: dict[str, str], data: bytes = CONTENT) -> requests.Response:
    return requests.put(url, headers=headers, data=data, timeout=TIMEOUT)


def with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True)) | changes
    return urlunsplit(parts._replace(query=urlencode(query)))


def uploaded(key: str) -> dict[str, object]:
    head: dict[str, object] = aws.s3().head_object(
        Bucket=objects.get_settings().bucket_name, Key=key, ChecksumMode="ENABLED"
    )
    return head


def exists(key: str) -> bool:
    try:
        uploaded(key)
    except aws.s3().exceptions.ClientError:
        return False
    return True


# --- single PUT upload ---------------------------------------------------------------------------


def test_upload_with_exactly_the_returned_headers_succeeds_and_lands_encrypted_with_our_key(
    docuserve_at_seaweed: Seaweed,
) -> None:
    key = fresh_key()
    url, headers = presigned_upload(key)
    reply = put(url, headers)
    assert reply.status_code == 200, reply.text
    head = uploaded(key)
    assert head["ContentLength"] == len(CONTENT)
    assert head["ContentType"] == "application/pdf"
    assert head["ChecksumSHA256"] == sha256_b64(CONTENT)
    assert head["ServerSideEncryption"] == "aws:kms"


def test_the_upload_url_signs_content_type_length_checksum_and_sse_kms_headers() -> None:
    url, _ = presigned_upload(fresh_key())
    signed = dict(parse_qsl(urlsplit(url).query))["X-Amz-SignedHeaders"].split(";")
    assert {
        "content-type",
        "content-length",
        "x-amz-checksum-sha256",
        "x-amz-server-side-encryption",
        "x-amz-server-side-encryption-aws-kms-key-id",
    } <= set(signed)
    assert dict(parse_qsl(urlsplit(url).query))["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256"


@pytest.mark.parametrize(
    "header",
    [
        "Content-Type",
        "x-amz-checksum-sha256",
        "x-amz-server-side-encryption",
        "x-amz-server-side-encryption-aws-kms-key-id",
    ],
)
def test_upload_without_a_signed_header_is_refused(header: str) -> None:
    key = fresh_key()
    url, headers = presigned_upload(key)
    reply = put(url, {k: v for k, v in headers.items() if k != header})
    assert reply.status_code == 403, reply.text
    assert not exists(key)


@pytest.mark.parametrize(
    ("header", "value"),
    [
        ("Content-Type", "text/html"),
        ("x-amz-server-side-encryption", "AES256"),
        ("x-amz-server-side-encryption-aws-kms-key-id", "alias/someone-elses-key"),
        ("x-amz-checksum-sha256", sha256_b64(b"other bytes")),
    ],
)
def test_upload_with_a_signed_header_changed_is_refused(header: str, value: str) -> None:
    key = fresh_key()
    url, headers = presigned_upload(key)
    reply = put(url, headers | {header: value})
    assert reply.status_code == 403, reply.text
    assert not exists(key)


@pytest.mark.parametrize("data", [CONTENT + b"!", CONTENT[:-1], b""], ids=["longer", "shorter", "empty"])
def test_upload_of_another_size_is_refused(data: bytes) -> None:
    key = fresh_key()
    url, headers = presigned_upload(key)
    reply = put(url, headers, data)
    assert reply.status_code in (400, 403), reply.text
    assert not exists(key)


def test_upload_of_other_bytes_of_the_declared_size_fails_the_checksum() -> None:
    key = fresh_key()
    url, headers = presigned_upload(key)
    tampered = CONTENT[:-1] + b"?"
    reply = put(url, headers, tampered)
    assert reply.status_code == 400, reply.text
    assert "BadDigest" in reply.text or "Checksum" in reply.text
    assert not exists(key)


@pytest.mark.parametrize(
    "tamper",
    [
        lambda u: u.replace("/documents/", "/documents/x"),
        lambda u: with_query(u, **{"X-Amz-Expires": "604800"}),
        lambda u: with_query(u, **{"X-Amz-Signature": "0" * 64}),
        lambda u: with_query(u, **{"X-Amz-SignedHeaders": "host"}),
    ],
    ids=["key", "expiry", "signature", "signed-headers"],
)
def test_tampered_upload_url_is_refused(tamper: object) -> None:
    key = fresh_key()
    url, headers = presigned_upload(key)
    reply = put(tamper(url), headers)  # type: ignore[operator]
    assert reply.status_code == 403, reply.text
    assert not exists(key)


def test_expired_upload_url_is_refused() -> None:
    key = fresh_key()
    url, headers = presigned_upload(key, ttl=1)
    time.sleep(2.5)
    reply = put(url, headers)
    assert reply.status_code == 403, reply.text
    assert not exists(key)


# --- multipart parts -----------------------------------------------------------------------------


def test_part_urls_accept_the_part_and_refuse_tampering_and_expiry() -> None:
    key = fresh_key()
    s3_upload = objects.start_multipart(key, content_type="application/pdf")
    part = b"p" * (5 * 1024 * 1024)
    sha = sha256_b64(part)
    headers = objects.part_headers(sha)
    good = objects.presign_part(key, s3_upload_id=s3_upload, part_number=1, sha256=sha)
    assert (
        requests.put(with_query(good, partNumber="2"), data=part, headers=headers, timeout=TIMEOUT).status_code == 403
    )
    short = objects.presign_part(key, s3_upload_id=s3_upload, part_number=2, sha256=sha, ttl_seconds=1)
    reply = requests.put(good, data=part, headers=headers, timeout=TIMEOUT)
    assert reply.status_code == 200, reply.text
    time.sleep(2.5)
    assert requests.put(short, data=part, headers=headers, timeout=TIMEOUT).status_code == 403
    objects.complete_multipart(key, s3_upload_id=s3_upload, parts=[objects.Part(1, reply.headers["ETag"], sha)])
    assert uploaded(key)["ContentLength"] == len(part)


def test_a_part_url_signs_the_parts_sha256_and_other_bytes_are_refused() -> None:
    key = fresh_key()
    s3_upload = objects.start_multipart(key, content_type="application/pdf")
    part = b"q" * (5 * 1024 * 1024)
    sha = sha256_b64(part)
    url = objects.presign_part(key, s3_upload_id=s3_upload, part_number=1, sha256=sha)
    assert "x-amz-checksum-sha256" in dict(parse_qsl(urlsplit(url).query))["X-Amz-SignedHeaders"].split(";")
    other = b"Q" + part[1:]
    assert requests.put(url, data=other, headers=objects.part_headers(sha), timeout=TIMEOUT).status_code >= 400
    # Without the header, or with another checksum, the signature no longer matches.
    assert requests.put(url, data=part, timeout=TIMEOUT).status_code == 403
    forged = objects.part_headers(sha256_b64(other))
    assert requests.put(url, data=other, headers=forged, timeout=TIMEOUT).status_code == 403
    assert requests.put(url, data=part, headers=objects.part_headers(sha), timeout=TIMEOUT).status_code == 200


# --- download ------------------------------------------------------------------------------------


@pytest.fixture
def stored_key() -> str:
    key = fresh_key()
    url, headers = presigned_upload(key)
    assert put(url, headers).status_code == 200
    return key


def test_download_url_returns_the_bytes_as_an_attachment_with_the_file_name(stored_key: str) -> None:
    url = objects.presign_get(stored_key, filename="Launch plan \u2013 Q3.pdf", content_type="application/pdf")
    reply = requests.get(url, timeout=TIMEOUT)
    assert reply.status_code == 200, reply.text
    assert reply.content == CONTENT
    disposition = reply.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=UTF-8''Launch%20plan%20%E2%80%93%20Q3.pdf" in disposition
    assert reply.headers["Content-Type"] == "application/pdf"


def test_download_url_lives_at_most_sixty_seconds(stored_key: str) -> None:
    url = objects.presign_get(stored_key, filename="a.pdf", content_type="application/pdf", ttl_seconds=3600)
    assert int(dict(parse_qsl(urlsplit(url).query))["X-Amz-Expires"]) <= 60


@pytest.mark.parametrize(
    "tamper",
    [
        lambda u: with_query(u, **{"response-content-disposition": "inline"}),
        lambda u: with_query(u, **{"response-content-type": "text/html"}),
        lambda u: u.replace("/documents/", "/documents/x"),
        lambda u: with_query(u, **{"X-Amz-Expires": "604800"}),
    ],
    ids=["disposition", "content-type", "key", "expiry"],
)
def test_tampered_download_url_is_refused(stored_key: str, tamper: object) -> None:
    url = objects.presign_get(stored_key, filename="a.pdf", content_type="application/pdf")
    reply = requests.get(tamper(url), timeout=TIMEOUT)  # type: ignore[operator]
    assert reply.status_code == 403, reply.text
    assert CONTENT not in reply.content


def test_expired_download_url_is_refused(stored_key: str) -> None:
    url = objects.presign_get(stored_key, filename="a.pdf", content_type="application/pdf", ttl_seconds=1)
    time.sleep(2.5)
    reply = requests.get(url, timeout=TIMEOUT)
    assert reply.status_code == 403, reply.text


def test_unsigned_request_is_refused(stored_key: str) -> None:
    bucket = objects.get_settings().bucket_name
    endpoint = aws.s3().meta.endpoint_url
    reply = requests.get(f"{endpoint}/{bucket}/{stored_key}", timeout=TIMEOUT)
    assert reply.status_code == 403, reply.text
