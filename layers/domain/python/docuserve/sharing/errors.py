"""Why a partner cannot have a link right now: each answer has its own stable code.

A password-protected link answers 403 (``password_required`` / ``password_incorrect``), not 401:
in this API 401 means "your Cognito token is missing or invalid", and a partner has no account,
so a client must not treat a link password prompt as a sign-out.
"""

from __future__ import annotations

from docuserve.errors import Forbidden, Gone, Throttled


class LinkExpired(Gone):
    code = "link_expired"


class LinkRevoked(Gone):
    code = "link_revoked"


class LinkExhausted(Gone):
    code = "link_exhausted"


class DocumentUnavailable(Gone):
    """The document behind the link is in the trash or gone for good."""

    code = "document_unavailable"


class PasswordRequired(Forbidden):
    code = "password_required"


class PasswordIncorrect(Forbidden):
    code = "password_incorrect"


class LinkLocked(Throttled):
    code = "link_locked"
