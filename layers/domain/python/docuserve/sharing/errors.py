"""Why a partner cannot have a link right now: each answer has its own stable code.

A password-protected link answers 403 (``password_required`` / ``password_incorrect``), not 401:
in this API 401 means "your Cognito token is missing or invalid", and a partner has no account,
so a client must not treat a link password prompt as a sign-out.
"""

from __future__ import annotations

from docuserve.errors import Conflict, Forbidden, Gone, PayloadTooLarge, Throttled


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


# --- recipient-restricted links (``docuserve.sharing.recipients``) ---


class VerificationRequired(Forbidden):
    """The link is restricted to recipients and the download named no grant."""

    code = "verification_required"


class VerificationNotRequired(Conflict):
    """A code was asked for (or confirmed) on a link without recipients: it needs none."""

    code = "verification_not_required"


class GrantInvalid(Forbidden):
    """A grant that this link never issued, or one whose address is no longer a recipient."""

    code = "grant_invalid"


class GrantExpired(Forbidden):
    code = "grant_expired"


class CodeIncorrect(Forbidden):
    code = "code_incorrect"


class CodeExpired(Forbidden):
    """No live code for this address: never asked for, expired, replaced by a newer one, or used."""

    code = "code_expired"


class CodeAttemptsExhausted(Forbidden):
    """Five wrong codes: this code is dead; a new one must be asked for."""

    code = "code_attempts_exhausted"


class CodeRateLimited(Throttled):
    code = "code_rate_limited"


class ArchiveTooLarge(PayloadTooLarge):
    """'Download all' of a bundle above ``sharing.bundles.ARCHIVE_MAX_BYTES``; each file still downloads."""

    code = "archive_too_large"
