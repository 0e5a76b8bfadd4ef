"""Stored records shared across features: workspaces, memberships, documents, versions.

These are the item contracts between the documents feature and the sharing feature. Responses
never return them directly: each route maps them through an explicit response model.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from docuserve.roles import Role


@dataclass
class Membership:
    workspace_id: str
    user_id: str
    email: str
    role: Role
    added_at: str = ""
    added_by: str = ""

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> Membership:
        return cls(
            workspace_id=item["workspace_id"],
            user_id=item["user_id"],
            email=item.get("email", ""),
            role=Role(item["role"]),
            added_at=item.get("added_at", ""),
            added_by=item.get("added_by", ""),
        )


@dataclass
class Document:
    """A document. ``current_*`` denormalise the current version so a download needs no extra read."""

    id: str
    workspace_id: str
    name: str
    folder: str
    content_type: str
    size: int
    sha256: str
    status: str  # "pending" | "available" | "deleted" | "purging" (claimed by a purge)
    created_at: str
    created_by: str
    updated_at: str
    updated_by: str
    tags: list[str] = field(default_factory=list)
    description: str = ""
    current_version: str | None = None
    current_object_key: str | None = None
    current_s3_version_id: str | None = None
    deleted_at: str | None = None
    status_before_delete: str | None = None
    version_count: int = 0
    # The number of the current version: an older version landing late never moves current back.
    current_version_number: int = 0
    # Bumped by every write of the document item; links copy it and refresh only forwards.
    revision: int = 0
    # Every link of it has a ref in its partition (``keys.link_ref``); False for a document made
    # before refs existed, whose older links only the document-shares index (gsi2) knows.
    link_refs: bool = False
    # The malware scan status of the current version, or, while none is current, of the newest
    # version that finished its checks (see ``scanning``); None before scanning existed.
    scan_status: str | None = None
    # Set when a partner uploaded it through an upload request (``docuserve.upload_requests``):
    # the request's id and ``{"name"?, "email"?}`` as the partner gave them (unverified).
    request_id: str | None = None
    uploaded_by_partner: dict[str, str] | None = None

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> Document:
        names = cls.__dataclass_fields__
        return cls(**{k: v for k, v in item.items() if k in names})


@dataclass
class Version:
    """One immutable version of a document's bytes."""

    id: str
    document_id: str
    number: int
    object_key: str
    size: int
    sha256: str
    content_type: str
    status: str  # "pending" | "scanning" | "available" | "infected" | "unscannable" | "failed"
    created_at: str
    created_by: str
    upload_id: str
    s3_version_id: str | None = None
    failure_reason: str | None = None
    etag: str | None = None  # of the S3 object version the checksum step verified
    # "pending" | "clean" | "infected" | "unscannable" | "released" | "not_scanned" (scanning off);
    # None for a version that landed before scanning existed.
    scan_status: str | None = None

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> Version:
        names = cls.__dataclass_fields__
        return cls(**{k: v for k, v in item.items() if k in names})
