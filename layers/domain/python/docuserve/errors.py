"""Domain exceptions. Logic raises these; the HTTP layer maps each to its status and code."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base of every error a caller may see: a stable ``code`` and a human ``message``."""

    status: int = 400
    code: str = "bad_request"

    def __init__(
        self, message: str, *, fields: dict[str, str] | None = None, details: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields or {}
        self.details = details or {}  # machine-readable figures a client shows (e.g. bytes left)


class Unauthorized(DomainError):
    status, code = 401, "unauthorized"


class Forbidden(DomainError):
    status, code = 403, "forbidden"


class NotFound(DomainError):
    status, code = 404, "not_found"


class Conflict(DomainError):
    status, code = 409, "conflict"


class Gone(DomainError):
    status, code = 410, "gone"


class PayloadTooLarge(DomainError):
    status, code = 413, "too_large"


class QuotaExceeded(PayloadTooLarge):
    """The workspace has not enough room left; ``details`` say how much (``remaining_bytes``)."""

    code = "quota_exceeded"


class InvalidInput(DomainError):
    """A field-level validation failure found by logic rather than by the request model."""

    status, code = 422, "validation_error"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}", fields={field: message})


class Throttled(DomainError):
    status, code = 429, "throttled"

    def __init__(self, message: str, *, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


# AWS error codes that mean "too much at once, try again" (SDK and service names). botocore has
# already retried them with backoff when one reaches the domain; the caller gets 429, never 500.
BUSY_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "Throttling",
        "RequestLimitExceeded",
        "TransactionConflictException",
        "SlowDown",
    }
)


def busy(exc: BaseException) -> Throttled | None:
    """The 429 an AWS throttling error (a botocore ``ClientError``) stands for; ``None`` for any other error."""
    response = getattr(exc, "response", None)
    code = response.get("Error", {}).get("Code") if isinstance(response, dict) else None
    if code in BUSY_CODES:
        return Throttled("the service is busy; try again", retry_after=1)
    return None
