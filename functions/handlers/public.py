"""Routes of the public function (see `docuserve.routes`): the partner page, recipient verification
and redemption.

Cold start matters here: it is the partner's first wait. So this function does not load
Powertools' event handler or Pydantic: ``docuserve.lean_api`` routes the requests and this
module validates the small bodies by hand, with the answers (shape, codes, 422 field names and
messages) the Pydantic models ``DownloadRequest``, ``VerifyRequest`` and ``ConfirmRequest`` of
``docuserve.models.shares`` would give.
The routes are still documented from those models in ``/openapi.json``. The S3 client is created
on the first download. The ``token`` path parameter is a secret: no code path logs the event, the
path or the token (errors name "the link", never the token).
"""

from __future__ import annotations

import re
from dataclasses import asdict
from typing import Any

from docuserve import validation
from docuserve.lean_api import Invalid, LeanResolver
from docuserve.observability import api_entry
from docuserve.sharing import recipients, redeem

MODELS = "docuserve.models.shares"
PASSWORD_MAX = 256  # = docuserve.models.shares.PASSWORD_MAX (tests/unit/test_lean_api.py checks it)
GRANT_MAX = 200  # = docuserve.models.shares.GRANT_MAX
EMAIL_MAX = 254  # = docuserve.models.shares.EMAIL_MAX
CODE_PATTERN = "^[0-9]{6}$"  # = docuserve.models.shares.CODE_PATTERN
_CODE = re.compile(CODE_PATTERN)
# The allow-list of PublicShare's fields (checked against the model): nothing else leaves.
PUBLIC_SHARE_FIELDS = (
    "name",
    "size",
    "content_type",
    "expires_at",
    "password_required",
    "downloads_remaining",
    "sender",
    "message",
    "verification_required",
)

app = LeanResolver()


def _visitor() -> redeem.Visitor:
    return redeem.Visitor(ip=app.source_ip(), user_agent=app.header("user-agent") or None)


def _object(allowed: set[str], *, optional: bool) -> dict[str, Any]:
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


def _text(body: dict[str, Any], name: str, maximum: int, *, required: bool = False) -> str | None:
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


def _email(body: dict[str, Any]) -> str:
    value = _text(body, "email", EMAIL_MAX, required=True)
    assert value is not None
    try:
        return validation.email(value)
    except ValueError:
        raise Invalid({"email": "Value error, must be an e-mail address"}) from None


def _download_body() -> tuple[str | None, str | None]:
    """``DownloadRequest``: an optional JSON object with an optional ``password`` and ``grant``."""
    body = _object({"password", "grant"}, optional=True)
    return _text(body, "password", PASSWORD_MAX), _text(body, "grant", GRANT_MAX)


def _password() -> str | None:
    return _download_body()[0]


@app.get("/public/shares/<token>", response=f"{MODELS}:PublicShare")
def show(token: str) -> dict[str, Any]:
    link = asdict(redeem.public_info(token))
    return {name: link[name] for name in PUBLIC_SHARE_FIELDS}


@app.post(
    "/public/shares/<token>/verify",
    body=f"{MODELS}:VerifyRequest",
    response=f"{MODELS}:VerificationStarted",
    status=202,
    body_required=True,
)
def verify(token: str) -> dict[str, Any]:
    """The same answer for every address: it never says whether the address is a recipient."""
    email = _email(_object({"email"}, optional=False))
    recipients.request_code(token, email, _visitor())
    return {
        "message": "If this address may open the link, a code is on its way to it.",
        "code_valid_minutes": int(recipients.CODE_TTL.total_seconds() // 60),
    }


@app.post(
    "/public/shares/<token>/verify/confirm",
    body=f"{MODELS}:ConfirmRequest",
    response=f"{MODELS}:VerificationGrant",
    body_required=True,
)
def confirm(token: str) -> dict[str, Any]:
    body = _object({"email", "code"}, optional=False)
    email = _email(body)
    code = _text(body, "code", 2**31, required=True)
    if code is None or not _CODE.fullmatch(code):
        raise Invalid({"code": f"String should match pattern '{CODE_PATTERN}'"})
    verified = recipients.confirm(token, email, code, _visitor())
    return {"grant": verified.grant, "expires_at": verified.expires_at}


@app.post("/public/shares/<token>/download", body=f"{MODELS}:DownloadRequest", response=f"{MODELS}:DownloadGrant")
def download(token: str) -> dict[str, Any]:
    password, grant = _download_body()
    link = redeem.redeem(token, password, _visitor(), grant=grant)
    return {"url": link.url, "expires_at": link.expires_at, "downloads_remaining": link.downloads_remaining}


handler = api_entry(app.resolve)
