"""Exit codes and the one error type every command raises: each failure is one clear line.

| code | meaning |
|---|---|
| 0 | success |
| 1 | an unexpected error (a bug: please report it) |
| 2 | usage: a bad option or argument |
| 3 | not signed in, or the session expired: run ``docuserve login`` |
| 4 | not found or not allowed (404, 403, 410 gone) |
| 5 | conflict: the remote changed (409, 412) or refused the input (413, 415, 422, 429) |
| 6 | network: the API, Cognito or storage could not be reached, or answered 5xx |
| 7 | verification failed (a manifest, a file's SHA-256, an audit export) |
"""

from __future__ import annotations

from typing import Any

OK = 0
UNEXPECTED = 1
USAGE = 2
AUTH = 3
NOT_FOUND = 4
CONFLICT = 5
NETWORK = 6
VERIFY_FAILED = 7


class CliError(Exception):
    """A failure to report as one line on stderr and exit with ``exit_code``."""

    def __init__(self, message: str, exit_code: int = UNEXPECTED, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code
        self.code = code

    def as_json(self) -> dict[str, Any]:
        return {"error": self.code or "error", "message": self.message, "exit_code": self.exit_code}


def exit_code_for_status(status: int) -> int:
    """The exit code of an API answer with HTTP ``status`` (4xx or 5xx)."""
    if status == 401:
        return AUTH
    if status in (403, 404, 410):
        return NOT_FOUND
    if status >= 500:
        return NETWORK
    if status in (400, 405):
        return USAGE
    return CONFLICT


def api_error(status: int, body: Any) -> CliError:
    """A ``CliError`` for an API error answer: its code, message and offending fields in one line."""
    if status == 401:
        return CliError("Your session has expired or is not valid: run `docuserve login`.", AUTH, code="unauthorized")
    code = "http_" + str(status)
    message = ""
    fields: dict[str, Any] = {}
    if isinstance(body, dict):
        code = str(body.get("code") or code)
        message = str(body.get("message") or "")
        raw_fields = body.get("fields")
        if isinstance(raw_fields, dict):
            fields = raw_fields
    text = f"The API refused the request ({status} {code})"
    if message:
        text += f": {message}"
    if fields and not all(str(why) in message for why in fields.values()):
        text += " [" + "; ".join(f"{name}: {why}" for name, why in fields.items()) + "]"
    return CliError(text, exit_code_for_status(status), code=code)
