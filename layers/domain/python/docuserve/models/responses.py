"""Response bodies: explicit allow-lists built from records, never raw items (SPEC promise 8).

No model here has a field for an object key, an S3 version id, a token or a hash.
"""

from __future__ import annotations

from typing import Any, Generic, Literal, TypeVar

from docuserve import quota
from docuserve.models.base import Model
from docuserve.records import Document, Membership, Version

T = TypeVar("T")


class Page(Model, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


class WorkspaceView(Model):
    id: str
    name: str
    description: str
    created_at: str
    created_by: str
    my_role: str
    used_bytes: int  # what counts against the quota: uploads under way, versions, the trash
    quota_bytes: int  # the effective quota: the workspace's own, else the stage default

    @classmethod
    def of(cls, item: dict[str, Any], role: str) -> WorkspaceView:
        return cls(
            id=item["id"],
            name=item["name"],
            description=item.get("description", ""),
            created_at=item["created_at"],
            created_by=item["created_by"],
            my_role=role,
            used_bytes=quota.used_of(item),
            quota_bytes=quota.quota_of(item),
        )


class WorkspaceQuotaView(Model):
    """What an admin sees of a workspace whose quota they set (an admin need not be a member)."""

    id: str
    name: str
    used_bytes: int
    quota_bytes: int

    @classmethod
    def of(cls, item: dict[str, Any]) -> WorkspaceQuotaView:
        return cls(id=item["id"], name=item["name"], used_bytes=quota.used_of(item), quota_bytes=quota.quota_of(item))


class MemberView(Model):
    user_id: str
    email: str
    role: str
    added_at: str

    @classmethod
    def of(cls, member: Membership) -> MemberView:
        return cls(user_id=member.user_id, email=member.email, role=member.role.value, added_at=member.added_at)


class DocumentView(Model):
    id: str
    workspace_id: str
    name: str
    folder: str
    content_type: str
    size: int
    sha256: str
    tags: list[str]
    description: str
    status: str
    current_version: str | None
    version_count: int
    created_at: str
    created_by: str
    updated_at: str
    updated_by: str
    deleted_at: str | None = None
    # The malware scan status of the current version (or, while none is current, of the newest
    # checked one): pending | clean | infected | unscannable | released | not_scanned.
    scan_status: str = "not_scanned"
    # A partner's upload through an upload request: the request and the name or e-mail they gave.
    request_id: str | None = None
    uploaded_by_partner: dict[str, str] | None = None

    @classmethod
    def of(cls, doc: Document) -> DocumentView:
        return cls(
            id=doc.id,
            workspace_id=doc.workspace_id,
            name=doc.name,
            folder=doc.folder,
            content_type=doc.content_type,
            size=doc.size,
            sha256=doc.sha256,
            tags=list(doc.tags),
            description=doc.description,
            status=doc.status,
            current_version=doc.current_version,
            version_count=doc.version_count,
            created_at=doc.created_at,
            created_by=doc.created_by,
            updated_at=doc.updated_at,
            updated_by=doc.updated_by,
            deleted_at=doc.deleted_at,
            scan_status=doc.scan_status or ("pending" if doc.status == "pending" else "not_scanned"),
            request_id=doc.request_id,
            uploaded_by_partner=dict(doc.uploaded_by_partner) if doc.uploaded_by_partner else None,
        )


class RestoredDocument(DocumentView):
    """The restore answer: the document, and how many of its links are active again."""

    links_resumed: int


class VersionView(Model):
    id: str
    number: int
    size: int
    sha256: str
    content_type: str
    status: str
    created_at: str
    created_by: str
    failure_reason: str | None = None
    current: bool = False
    # pending | clean | infected | unscannable | released | not_scanned (see DocumentView)
    scan_status: str = "not_scanned"

    @classmethod
    def of(cls, version: Version, *, current: bool) -> VersionView:
        return cls(
            id=version.id,
            number=version.number,
            size=version.size,
            sha256=version.sha256,
            content_type=version.content_type,
            status=version.status,
            created_at=version.created_at,
            created_by=version.created_by,
            failure_reason=version.failure_reason,
            current=current,
            scan_status=version.scan_status or ("pending" if version.status == "pending" else "not_scanned"),
        )


class DocumentDetail(DocumentView):
    versions: list[VersionView]


class PartUrl(Model):
    part_number: int
    url: str
    headers: dict[str, str]  # send exactly these with the part (its signed SHA-256)


class UploadInstructions(Model):
    """SPEC "Upload instructions", plus the ids the client needs to follow the upload."""

    upload_id: str
    document_id: str
    version_id: str
    method: Literal["PUT", "MULTIPART"]
    expires_at: str
    url: str | None = None
    headers: dict[str, str] | None = None
    part_size: int | None = None
    part_count: int | None = None
    parts: list[PartUrl] | None = None


class CreatedDocument(Model):
    document: DocumentView
    upload: UploadInstructions


class PartUrls(Model):
    upload_id: str
    parts: list[PartUrl]
    expires_at: str


class UploadStatus(Model):
    upload_id: str
    document_id: str
    version_id: str
    method: str
    status: str  # pending | completing | scanning (verified; the malware scan decides) | completed | failed | aborted
    failure_reason: str | None = None
    size: int
    created_at: str


class Download(Model):
    url: str
    expires_at: str


class ActorView(Model):
    type: str
    id: str
    email: str | None = None
    ip: str | None = None
    user_agent: str | None = None


class AuditEventView(Model):
    id: str
    at: str
    action: str
    actor: ActorView
    workspace_id: str | None = None
    document_id: str | None = None
    share_id: str | None = None
    request_id: str | None = None  # an upload request's events
    details: dict[str, Any]


class UserView(Model):
    id: str
    email: str
    status: str
    enabled: bool
    created_at: str | None = None
