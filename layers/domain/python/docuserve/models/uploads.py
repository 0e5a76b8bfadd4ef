"""Response model of ``GET /uploads/{upload_id}``: the session, and what a client needs to resume."""

from __future__ import annotations

from docuserve.models.base import Model
from docuserve.models.responses import UploadStatus


class HeldPart(Model):
    """A part S3 already holds; ``sha256`` is S3's checksum of it where S3 lists one."""

    part_number: int
    etag: str
    sha256: str | None = None


class UploadState(UploadStatus):
    """The status, plus for a multipart upload its part layout; while pending, the parts S3 holds
    and until when the upload can be resumed (then it fails with reason ``expired``)."""

    part_size: int | None = None
    part_count: int | None = None
    resumable_until: str | None = None
    parts: list[HeldPart] | None = None
