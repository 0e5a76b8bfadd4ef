"""Hand validation of the partner functions' small JSON bodies (``handlers.public``, the share page,
and ``handlers.partner_uploads``, the upload-request page), shared so that both answer alike.

Both functions route with ``docuserve.lean_api`` instead of Powertools and Pydantic (cold start is
the partner's wait), so the bodies are checked here with the answers the Pydantic models would
give: the same 422 field names and messages. The constants equal the models' (checked by
``tests/unit/test_lean_api.py`` and ``tests/unit/test_lean_recipient_bodies.py``). Nothing here
logs or names a route argument: the path carries the link's token.
"""

from __future__ import annotations

import re
from typing import Any

from docuserve import validation
from docuserve.lean_api import Invalid, LeanResolver
from docuserve.sharing.redeem import Visitor

PASSWORD_MAX = 256  # = docuserve.models.shares.PASSWORD_MAX
GRANT_MAX = 200  # = docuserve.models.shares.GRANT_MAX
EMAIL_MAX = 254  # = docuserve.models.shares.EMAIL_MAX
CODE_PATTERN = "^[0-9]{6}$"  # = docuserve.models.shares.CODE_PATTERN
_CODE = re.compile(CODE_PATTERN)


def visitor(app: LeanResolver) -> Visitor:
    """Who is asking, as API Gateway saw them (audited with every partner attempt)."""
    return Visitor(ip=app.source_ip(), user_agent=app.header("user-agent") or None)


def json_object(app: LeanResolver, allowed: set[str], *, optional: bool) -> dict[str, Any]:
    """The JSON object body with no field outside ``allowed`` (``{}`` for an optional, empty body)."""
    body = app.json_body()
    if body is None:
        if optional:
            return {}
        raise Invalid({"body": "Field required"})
    if not isinstance(body, dict):
        raise Invalid({"body": "Input should be a valid dictionary or object to extract fields from"})
    extra = sorted(set(body) - allowed)
    if extra:
        raise Invalid(dict.fromkeys(extra, "Extra inputs are not permitted"))
    return body


def text(body: dict[str, Any], name: str, maximum: int, *, required: bool = False) -> str | None:
    """The string field ``name`` of at most ``maximum`` characters (None when absent or null)."""
    value = body.get(name)
    if value is None:
        if required:
            raise Invalid({name: "Field required" if name not in body else "Input should be a valid string"})
        return None
    if not isinstance(value, str):
        raise Invalid({name: "Input should be a valid string"})
    if len(value) > maximum:
        raise Invalid({name: f"String should have at most {maximum} characters"})
    return value


def email(body: dict[str, Any]) -> str:
    """The required ``email`` field, as ``docuserve.validation.email`` normalises it."""
    value = text(body, "email", EMAIL_MAX, required=True)
    assert value is not None
    try:
        return validation.email(value)
    except ValueError:
        raise Invalid({"email": "Value error, must be an e-mail address"}) from None


def code(body: dict[str, Any]) -> str:
    """The required six-digit ``code`` field of a verification's confirmation."""
    value = text(body, "code", 2**31, required=True)
    if value is None or not _CODE.fullmatch(value):
        raise Invalid({"code": f"String should match pattern '{CODE_PATTERN}'"})
    return value
