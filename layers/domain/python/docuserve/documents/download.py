"""A member's download: a presigned GET of the current or a chosen version, audited."""

from __future__ import annotations

from datetime import timedelta

from docuserve import audit, clock, ids
from docuserve.access import document_access
from docuserve.adapters import objects
from docuserve.audit import Actor, AuditEvent
from docuserve.disposition import inline_type
from docuserve.documents.items import DELETED, PURGING
from docuserve.errors import Conflict, InvalidInput, NotFound
from docuserve.identity import Caller
from docuserve.observability import BusinessMetric, count
from docuserve.settings import get_settings


def versioned_name(name: str, number: int) -> str:
    """``report.pdf``, 2 -> ``report (v2).pdf``; a name without an extension gets the suffix at its end."""
    stem, dot, extension = name.rpartition(".")
    if not dot or not stem:  # "README" or ".env": no extension to keep
        return f"{name} (v{number})"
    return f"{stem} (v{number}).{extension}"


def download(
    caller: Caller,
    document_id: str,
    *,
    version_id: str | None,
    inline: bool,
    ip: str | None,
    user_agent: str | None,
) -> tuple[str, str]:
    """A presigned GET (≤ 60 s) and its expiry: one BatchGetItem, one audit PutItem, no S3 call."""
    if version_id is not None and not ids.is_valid(version_id):
        raise NotFound("version not found")
    access = document_access(caller, document_id, version_id=version_id)
    doc = access.document
    if doc.status in (DELETED, PURGING):
        raise Conflict("the document is in the trash")
    if access.version is not None:
        version = access.version
        if version.status != "available":
            raise Conflict(f"this version is {version.status}")
        key, s3_version, content_type = version.object_key, version.s3_version_id, version.content_type
        chosen = version.id
        # An older version downloads under its own name, so it never overwrites the current file.
        filename = doc.name if version.id == doc.current_version else versioned_name(doc.name, version.number)
    else:
        if not doc.current_version or not doc.current_object_key:
            raise Conflict("no version of this document is available yet")
        key, s3_version, content_type = doc.current_object_key, doc.current_s3_version_id, doc.content_type
        chosen = doc.current_version
        filename = doc.name
    if inline:
        # Served inline as the allow-listed type itself, never as the stored value.
        served = inline_type(content_type)
        if served is None:
            raise InvalidInput("disposition", f"{content_type} can only be downloaded as an attachment")
        content_type = served
    ttl = get_settings().limits.download_url_ttl_seconds
    url = objects.presign_get(
        key, filename=filename, content_type=content_type, s3_version_id=s3_version, inline=inline
    )
    audit.record(
        AuditEvent(
            "document.downloaded",
            Actor.member(caller, ip=ip, user_agent=user_agent),
            workspace_id=doc.workspace_id,
            document_id=doc.id,
            details={"version_id": chosen, "disposition": "inline" if inline else "attachment"},
        )
    )
    count(BusinessMetric.MEMBER_DOWNLOADS)
    return url, clock.iso(clock.now() + timedelta(seconds=ttl))
