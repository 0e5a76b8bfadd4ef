"""Response model of restoring an older version (``POST /documents/{id}/versions/{version_id}/restore``)."""

from __future__ import annotations

from docuserve.models.base import Model


class RestoredVersion(Model):
    """The new version a restore started; follow it with ``GET /uploads/{upload_id}``."""

    upload_id: str
    document_id: str
    version_id: str
    number: int
    status: str  # the session's: "completing" until S3's copy has landed and been verified
    restored_from_version_id: str
    restored_from_number: int
