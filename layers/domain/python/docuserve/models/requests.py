"""Request bodies. Unknown fields are rejected; each rule failure is a 422 naming the field."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field, StrictInt

from docuserve import validation
from docuserve.models.base import Body
from docuserve.roles import Role

Name = Annotated[str, AfterValidator(validation.name)]
WorkspaceName = Annotated[str, AfterValidator(validation.workspace_name)]
Folder = Annotated[str, AfterValidator(validation.folder)]
Tags = Annotated[list[str], Field(max_length=100), AfterValidator(validation.tags)]
Description = Annotated[str, AfterValidator(validation.description)]
Sha256 = Annotated[str, Field(max_length=100), AfterValidator(validation.sha256)]
ContentType = Annotated[str, AfterValidator(validation.content_type)]
Email = Annotated[str, AfterValidator(validation.email)]
# The 413 for sizes above the deployment maximum is decided by logic; here only "not negative":
# an empty file is a document like any other (S3 and SHA-256 handle zero bytes; so does Box).
Size = Annotated[StrictInt, Field(ge=0)]
PartNumber = Annotated[StrictInt, Field(ge=1, le=10_000)]
PARTS_PER_REQUEST = 1000


class CreateWorkspace(Body):
    name: WorkspaceName
    description: Description = ""


class UpdateWorkspace(Body):
    name: WorkspaceName | None = None
    description: Description | None = None


class SetMemberRole(Body):
    role: Role


class AddMember(Body):
    email: Email
    role: Role


class CreateDocument(Body):
    name: Name
    folder: Folder = "/"
    content_type: ContentType
    size: Size
    sha256: Sha256
    tags: Tags = Field(default_factory=list)
    description: Description = ""


class UpdateDocument(Body):
    name: Name | None = None
    folder: Folder | None = None
    tags: Tags | None = None
    description: Description | None = None


class RestoreDocument(Body):
    """``POST /documents/{id}/restore``: the body is optional; links stay unavailable unless asked."""

    resume_links: bool = False


class CreateVersion(Body):
    size: Size
    sha256: Sha256
    content_type: ContentType | None = None


class PartChecksum(Body):
    part_number: PartNumber
    sha256: Sha256


class PartChecksums(Body):
    """Parts to upload, each with the SHA-256 its URL will sign (S3 refuses other bytes)."""

    parts: Annotated[list[PartChecksum], Field(min_length=1, max_length=PARTS_PER_REQUEST)]


class CompletedPart(Body):
    part_number: PartNumber
    etag: Annotated[str, Field(min_length=1, max_length=128, pattern=r'^"?[A-Za-z0-9-]{1,100}"?$')]
    sha256: Sha256


class CompleteUpload(Body):
    parts: Annotated[list[CompletedPart], Field(min_length=1, max_length=10_000)]


class InviteUser(Body):
    email: Email


class SetWorkspaceQuota(Body):
    """An admin's change of a workspace's quota (bytes; lower than its usage is allowed)."""

    quota_bytes: Annotated[StrictInt, Field(ge=0, le=2**62)]
