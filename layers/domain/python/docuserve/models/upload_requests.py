"""Request and response models of upload requests (``docuserve.upload_requests``).

No response model has a field for the token hash or the password hash; the token itself appears
only in ``CreatedUploadRequest``. The partner's models (``PublicUploadRequest``,
``PartnerUploadRequest``, ``PartnerUploadStatus``) document the public function's routes, which
validate by hand (``handlers.public``) with the same answers.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field, StrictBool, StrictInt

from docuserve import media_types
from docuserve.models.base import Body, Model
from docuserve.models.requests import ContentType, Folder, Name, Sha256, Size
from docuserve.models.responses import PartUrl
from docuserve.models.shares import EMAIL_MAX, GRANT_MAX, PASSWORD_MAX, Label, Message, Moment, Password, Recipients

MAX_FILES = 1_000  # = docuserve.upload_requests.manage.MAX_FILES
ALLOWED_TYPES_MAX = 50
PARTNER_NAME_MAX = 200  # = docuserve.upload_requests.public.PARTNER_NAME_MAX


def _allowed_type(value: str) -> str:
    """``type/subtype`` or ``type/*``, lower-cased, without parameters."""
    text = value.strip().lower()
    if text.endswith("/*") and "/" not in text[:-2] and text[:-2]:
        media_types.parse(text[:-2] + "/x")
        return text
    try:
        parsed = media_types.parse(text)
    except media_types.NotAMediaType:
        raise ValueError("must be a media type like 'application/pdf' or 'image/*'") from None
    return parsed.essence


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


AllowedType = Annotated[str, Field(max_length=255), AfterValidator(_allowed_type)]
AllowedTypes = Annotated[list[AllowedType], Field(max_length=ALLOWED_TYPES_MAX), AfterValidator(_unique)]
MaxFiles = Annotated[StrictInt, Field(ge=1, le=MAX_FILES)]
PositiveSize = Annotated[StrictInt, Field(ge=1)]


class CreateUploadRequest(Body):
    """``POST /workspaces/{workspace_id}/requests``: ``expires_at`` or ``expires_in_days`` (neither: the default)."""

    folder: Folder = "/"
    max_files: MaxFiles
    max_bytes: PositiveSize
    max_file_size: PositiveSize | None = None
    allowed_types: AllowedTypes | None = None
    expires_at: Moment | None = None
    expires_in_days: StrictInt | None = None
    password: Password | None = None
    message: Message | None = None
    label: Label | None = None
    recipients: Recipients | None = None  # only these addresses may upload (a mailed code proves it)


class EditUploadRequest(Body):
    """``PATCH /requests/{request_id}``: only the fields present change; ``null`` removes an optional one."""

    max_files: MaxFiles | None = None
    max_bytes: PositiveSize | None = None
    max_file_size: PositiveSize | None = None
    allowed_types: AllowedTypes | None = None
    expires_at: Moment | None = None
    expires_in_days: StrictInt | None = None
    password: Password | None = None
    message: Message | None = None
    label: Label | None = None
    recipients: Recipients | None = None  # replaces the list; empty or null lifts the restriction


class UploadRequestView(Model):
    """A request as its workspace's editors (and the admins' inventory) see it."""

    id: str
    workspace_id: str
    folder: str
    state: Literal["open", "expired", "closed"]
    expires_at: str
    password_required: bool
    max_files: int
    max_bytes: int
    max_file_size: int | None
    allowed_types: list[str]
    files_used: int  # reserved by uploads started and not given back (failed, aborted, expired)
    bytes_used: int
    files_remaining: int
    bytes_remaining: int
    label: str | None
    message: str | None
    created_at: str
    created_by: str
    updated_at: str
    updated_by: str
    closed_at: str | None
    closed_by: str | None
    locked_until: str | None = None
    recipients: list[str] = []  # empty: anyone holding the link (and its password) may upload


class CreatedUploadRequest(UploadRequestView):
    """The creation answer: the only time the token and the full URL (``{web_origin}/r/{token}``) are shown."""

    token: str
    url: str


class UploadRequestList(Model):
    items: list[UploadRequestView]
    next_cursor: str | None


class DeploymentSettingsView(Model):
    upload_requests: bool
    updated_at: str | None = None
    updated_by: str | None = None


class ChangeDeploymentSettings(Body):
    """``PUT /admin/settings``: ``upload_requests: false`` stops every upload request at once."""

    upload_requests: StrictBool | None = None


# --- the partner's side (documentation of the public function's hand-validated routes) ---


class PublicUploadRequest(Model):
    """What the partner page shows."""

    message: str | None
    expires_at: str
    files_remaining: int
    bytes_remaining: int
    allowed_types: list[str]  # empty: any type
    max_file_size: int | None
    password_required: bool
    recipients_required: bool
    sender: str | None  # the requester's e-mail


class PartnerUploadRequest(Body):
    """``POST /public/requests/{token}/uploads``: one file's declaration."""

    name: Name
    content_type: ContentType
    size: Size
    sha256: Sha256
    password: str | None = Field(default=None, max_length=PASSWORD_MAX)
    grant: str | None = Field(default=None, max_length=GRANT_MAX)
    uploader_name: str | None = Field(default=None, max_length=PARTNER_NAME_MAX)
    uploader_email: str | None = Field(default=None, max_length=EMAIL_MAX)


class PartnerUploadInstructions(Model):
    """The usual upload instructions (one presigned PUT, or a multipart layout) and what is left after it."""

    upload_id: str
    method: Literal["PUT", "MULTIPART"]
    expires_at: str
    url: str | None = None
    headers: dict[str, str] | None = None
    part_size: int | None = None
    part_count: int | None = None
    files_remaining: int
    bytes_remaining: int


class PartnerHeldPart(Model):
    part_number: int
    etag: str
    sha256: str | None = None


class PartnerUploadStatus(Model):
    """One of the partner's own uploads; ``scanning``: verified, waiting for the malware scan."""

    upload_id: str
    name: str
    status: str  # pending | completing | scanning | completed | failed | aborted
    method: str
    size: int
    created_at: str
    failure_reason: str | None = None
    part_size: int | None = None
    part_count: int | None = None
    parts: list[PartnerHeldPart] | None = None


class PartnerPartUrls(Model):
    upload_id: str
    parts: list[PartUrl]
    expires_at: str
