"""S3 adapter: presigned URLs (SigV4 only) and object operations on the documents bucket.

Presigning is local computation: it costs no AWS call. Every URL is short-lived.
"""

from __future__ import annotations

from typing import Any

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
