"""S3 adapter: presigned URLs (SigV4 only), multipart uploads, verification and deletion of objects.

Presigning is local computation: it costs no AWS call. Every URL is short-lived.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from docuserve.adapters import aws
from docuserve.disposition import content_disposition
from docuserve.schema import DOCUMENTS_PREFIX
from docuserve.settings import get_settings


def object_key(document_id: str, version_id: str) -> str:
    """Server-generated key; never derived from a file name. ``{ws}.{doc}`` ids keep it per workspace."""
    workspace_id = document_id.split(".", 1)[0]
    return f"{DOCUMENTS_PREFIX}{workspace_id}/{document_id}/{version_id}"


def presign_get(
    key: str,
    *,
    filename: str,
    content_type: str,
    s3_version_id: str | None = None,
    inline: bool = False,
    ttl_seconds: int | None = None,
) -> str:
    """A GET URL valid for at most the download TTL (≤ 60 s), forcing the download file name."""
    settings = get_settings()
    ttl = min(ttl_seconds or settings.limits.download_url_ttl_seconds, settings.limits.download_url_ttl_seconds)
    params: dict[str, Any] = {
        "Bucket": settings.bucket_name,
        "Key": key,
        "ResponseContentDisposition": content_disposition(filename, inline=inline),
        "ResponseContentType": content_type,
    }
    if s3_version_id:
        params["VersionId"] = s3_version_id
    url: str = aws.s3().generate_presigned_url("get_object", Params=params, ExpiresIn=ttl)
    return url


# --- uploads -----------------------------------------------------------------------------------


class UploadRejected(Exception):
    """S3 refused to complete a multipart upload (bad parts, or the upload is gone)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def _upload_ttl(ttl_seconds: int | None) -> int:
    limit = get_settings().limits.upload_url_ttl_seconds
    return min(ttl_seconds or limit, limit)


def upload_headers(*, content_type: str, sha256: str) -> dict[str, str]:
    """Exactly the headers a client must send with a presigned single PUT (all of them signed)."""
    return {
        "Content-Type": content_type,
        "x-amz-checksum-sha256": sha256,
        "x-amz-server-side-encryption": "aws:kms",
        "x-amz-server-side-encryption-aws-kms-key-id": get_settings().kms_key_arn,
    }


def presign_put(key: str, *, content_type: str, sha256: str, size: int, ttl_seconds: int | None = None) -> str:
    """A PUT URL that signs the content type, length, SHA-256 checksum and SSE-KMS headers."""
    settings = get_settings()
    params = {
        "Bucket": settings.bucket_name,
        "Key": key,
        "ContentType": content_type,
        "ContentLength": size,
        "ChecksumSHA256": sha256,
        "ServerSideEncryption": "aws:kms",
        "SSEKMSKeyId": settings.kms_key_arn,
    }
    url: str = aws.s3().generate_presigned_url("put_object", Params=params, ExpiresIn=_upload_ttl(ttl_seconds))
    return url


def start_multipart(key: str, *, content_type: str) -> str:
    """Create the multipart upload server-side, encrypted with our key and checksummed with SHA-256
    (every part then carries its own SHA-256, which S3 checks); returns S3's upload id."""
    settings = get_settings()
    raw = aws.s3().create_multipart_upload(
        Bucket=settings.bucket_name,
        Key=key,
        ContentType=content_type,
        ServerSideEncryption="aws:kms",
        SSEKMSKeyId=settings.kms_key_arn,
        ChecksumAlgorithm="SHA256",
    )
    upload_id: str = raw["UploadId"]
    return upload_id


def part_headers(sha256: str) -> dict[str, str]:
    """Exactly the header a client must send with a presigned part (signed: S3 checks the bytes)."""
    return {"x-amz-checksum-sha256": sha256}


def presign_part(key: str, *, s3_upload_id: str, part_number: int, sha256: str, ttl_seconds: int | None = None) -> str:
    """An UploadPart URL that signs the part's SHA-256: S3 refuses bytes that do not match it."""
    params = {
        "Bucket": get_settings().bucket_name,
        "Key": key,
        "UploadId": s3_upload_id,
        "PartNumber": part_number,
        "ChecksumSHA256": sha256,
    }
    url: str = aws.s3().generate_presigned_url("upload_part", Params=params, ExpiresIn=_upload_ttl(ttl_seconds))
    return url


@dataclass(frozen=True)
class Part:
    """One uploaded part as S3 lists it."""

    number: int
    etag: str
    sha256: str  # base64, as S3's ChecksumSHA256


def composite_sha256(part_checksums: list[str]) -> str:
    """S3's composite checksum of a multipart object: SHA-256 over the parts' raw SHA-256 digests,
    base64, then ``-<part count>``. It proves which parts make the object, not the object's hash."""
    digest = hashlib.sha256(b"".join(base64.b64decode(c) for c in part_checksums)).digest()
    return f"{base64.b64encode(digest).decode('ascii')}-{len(part_checksums)}"


def list_parts(key: str, *, s3_upload_id: str) -> list[Part] | None:
    """Every part S3 holds for an unfinished upload, in order; ``None`` if S3 no longer knows it."""
    found: list[Part] = []
    pages = (
        aws.s3().get_paginator("list_parts").paginate(Bucket=get_settings().bucket_name, Key=key, UploadId=s3_upload_id)
    )
    try:
        for page in pages:
            found += [
                Part(int(p["PartNumber"]), str(p["ETag"]), str(p.get("ChecksumSHA256") or ""))
                for p in page.get("Parts", [])
            ]
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("NoSuchUpload", "404"):
            return None
        raise
    return sorted(found, key=lambda p: p.number)


def complete_multipart(key: str, *, s3_upload_id: str, parts: list[Part]) -> None:
    """Assemble the parts; S3 checks each part's SHA-256 against the one it stored for it."""
    listed = [
        {
            "PartNumber": p.number,
            "ETag": p.etag if p.etag.startswith('"') else f'"{p.etag}"',
            "ChecksumSHA256": p.sha256,
        }
        for p in parts
    ]
    try:
        aws.s3().complete_multipart_upload(
            Bucket=get_settings().bucket_name, Key=key, UploadId=s3_upload_id, MultipartUpload={"Parts": listed}
        )
    except ClientError as exc:
        error = exc.response.get("Error", {})
        if exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 500) < 500:
            raise UploadRejected(str(error.get("Code", "InvalidPart")), str(error.get("Message", ""))) from None
        raise


def abort_multipart(key: str, *, s3_upload_id: str) -> None:
    """Abort; an upload S3 no longer knows counts as aborted."""
    try:
        aws.s3().abort_multipart_upload(Bucket=get_settings().bucket_name, Key=key, UploadId=s3_upload_id)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") not in ("NoSuchUpload", "404"):
            raise


# --- verification and deletion -----------------------------------------------------------------


@dataclass(frozen=True)
class Landed:
    """What S3 says about one object version (from a HEAD: no byte of the object is read)."""

    size: int
    s3_version_id: str | None
    checksum: str | None  # S3's stored ChecksumSHA256 as HEAD returns it, full-object or composite
    checksum_type: str | None  # "FULL_OBJECT", "COMPOSITE", or None when S3 did not say
    etag: str | None = None  # without quotes, as GuardDuty's scan result names it

    @property
    def full_object_sha256(self) -> str | None:
        """The stored full-object SHA-256 (base64); None when S3 stored none or a composite."""
        if not self.checksum or "-" in self.checksum or self.checksum_type == "COMPOSITE":
            return None
        return self.checksum


def inspect(key: str, s3_version_id: str | None) -> Landed | None:
    """Size and stored SHA-256 checksum of one version, by HEAD (None if it no longer exists)."""
    params: dict[str, Any] = {"Bucket": get_settings().bucket_name, "Key": key, "ChecksumMode": "ENABLED"}
    if s3_version_id:
        params["VersionId"] = s3_version_id
    try:
        raw = aws.s3().head_object(**params)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NoSuchVersion", "403"):
            return None
        raise
    return Landed(
        size=int(raw["ContentLength"]),
        s3_version_id=raw.get("VersionId") or s3_version_id,
        checksum=raw.get("ChecksumSHA256") or None,
        checksum_type=raw.get("ChecksumType") or None,
        etag=str(raw.get("ETag") or "").strip('"') or None,
    )


def stream_sha256(key: str, s3_version_id: str | None, *, chunk: int = 8 * 1024 * 1024) -> str:
    """Read the object once and return its SHA-256 (base64)."""
    params: dict[str, Any] = {"Bucket": get_settings().bucket_name, "Key": key}
    if s3_version_id:
        params["VersionId"] = s3_version_id
    body = aws.s3().get_object(**params)["Body"]
    digest = hashlib.sha256()
    for block in iter(lambda: body.read(chunk), b""):
        digest.update(block)
    return base64.b64encode(digest.digest()).decode("ascii")


RELEASE_TAG = "DocuServeScanRelease"  # the bucket policy serves an unscanned object carrying it


def tag_released(key: str, s3_version_id: str | None) -> None:
    """Mark an object version an owner released although it could not be scanned.

    The bucket policy denies reading an object whose GuardDuty tag is not ``NO_THREATS_FOUND``
    unless it carries this tag (and only the members function may set it).
    """
    params: dict[str, Any] = {
        "Bucket": get_settings().bucket_name,
        "Key": key,
        "Tagging": {"TagSet": [{"Key": RELEASE_TAG, "Value": "released"}]},
    }
    if s3_version_id:
        params["VersionId"] = s3_version_id
    aws.s3().put_object_tagging(**params)


def delete_version(key: str, s3_version_id: str | None) -> None:
    """Delete one object version for good (not a delete marker); missing is fine."""
    params: dict[str, Any] = {"Bucket": get_settings().bucket_name, "Key": key}
    if s3_version_id:
        params["VersionId"] = s3_version_id
    aws.s3().delete_object(**params)


class DeleteFailed(RuntimeError):
    """S3 could not delete some object versions (``DeleteObjects`` answered 200 with ``Errors``)."""

    def __init__(self, failures: list[dict[str, Any]]) -> None:
        codes = sorted({str(f.get("Code", "?")) for f in failures})
        super().__init__(f"{len(failures)} object version(s) could not be deleted ({', '.join(codes)})")
        self.failures = failures


def delete_everything_under(prefix: str) -> int:
    """Delete every version and delete marker under ``prefix``; returns how many went.

    ``Quiet`` DeleteObjects answers 200 even when some deletes failed and lists only those in
    ``Errors``: any entry raises ``DeleteFailed`` (after the whole listing was tried), so nobody
    goes on to forget bytes that are still there.
    """
    bucket = get_settings().bucket_name
    client = aws.s3()
    deleted = 0
    failures: list[dict[str, Any]] = []
    for page in client.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=prefix):
        batch = [
            {"Key": v["Key"], "VersionId": v["VersionId"]}
            for v in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]
        ]
        for start in range(0, len(batch), 1000):
            chunk = batch[start : start + 1000]
            answer = client.delete_objects(Bucket=bucket, Delete={"Objects": chunk, "Quiet": True})
            errors = answer.get("Errors") or []
            failures += errors
            deleted += len(chunk) - len(errors)
    if failures:
        raise DeleteFailed(failures)
    return deleted
