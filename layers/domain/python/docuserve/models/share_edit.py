"""The request model of ``PATCH /shares/{share_id}``: a link's terms and its message to the partner."""

from __future__ import annotations

from docuserve.models.shares import EditShare, Message


class EditLink(EditShare):
    """Only the fields present change; ``null`` removes password, limit or label, and blank or ``null`` the message."""

    message: Message | None = None
