"""S3 adapter for server-side copies of one object version into a new server-generated key.

A copy never passes through the function: S3 reads the source version and writes the new object,
encrypted with our KMS key and with a SHA-256 checksum it computes itself, which the landing path
(``processing``) then compares with the declared one, as for any upload.
"""

from __future__ import annotations

from botocore.exceptions import ClientError

from docuserve.adapters import aws
from docuserve.settings import get_settings

# S3's CopyObject limit; larger objects would need a multipart copy (UploadPartCopy).
MAX_SINGLE_COPY = 5 * 1024**3


class CopyRefused(Exception):
    """S3 refused the copy (the source version is gone, or the request was invalid)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def copy_version(source_key: str, source_s3_version_id: str | None, target_key: str) -> str | None:
    """Copy one object version to ``target_key`` (SSE-KMS, SHA-256 checksum); returns the new S3 version id."""
    settings = get_settings()
    source = {"Bucket": settings.bucket_name, "Key": source_key}
    if source_s3_version_id:
        source["VersionId"] = source_s3_version_id
    try:
        raw = aws.s3().copy_object(
            Bucket=settings.bucket_name,
            Key=target_key,
            CopySource=source,
            ServerSideEncryption="aws:kms",
            SSEKMSKeyId=settings.kms_key_arn,
            ChecksumAlgorithm="SHA256",
        )
    except ClientError as exc:
        if exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 500) < 500:
            raise CopyRefused(str(exc.response.get("Error", {}).get("Code", "InvalidRequest"))) from None
        raise
    version: str | None = raw.get("VersionId")
    return version
