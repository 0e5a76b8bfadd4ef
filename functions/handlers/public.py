"""Routes of the public function (see `docuserve.routes`): the partner page and redemption.

Cold start matters here: it is the partner's first wait. So this function does not load
Powertools' event handler or Pydantic: ``docuserve.lean_api`` routes the two requests and this
module validates the one optional body field by hand, with the answers (shape, codes, 422 field
names and messages) the Pydantic model ``docuserve.models.shares.DownloadRequest`` would give.
The routes are still documented from those models in ``/openapi.json``. The S3 client is created
on the first download. The ``token`` path parameter is a secret: no code path logs the event, the
path or the token (errors name "the link", never the token).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from docuserve.lean_api import Invalid, LeanResolver
from docuserve.observability import api_entry
from docuserve.sharing import redeem

MODELS = "docuserve.models.shares"
PASSWORD_MAX = 256  # = docuserve.models.shares.PASSWORD_MAX (tests/unit/test_lean_api.py checks it)
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
)

app = LeanResolver()


def _visitor() -> redeem.Visitor:
    return redeem.Visitor(ip=app.source_ip(), user_agent=app.header("user-agent") or None)


def _password() -> str | None:
    """``DownloadRequest``: an optional JSON object with nothing but an optional ``password``."""
    body = app.json_body()
    if body is None:
        return None
    if not isinstance(body, dict):
        raise Invalid({"body": "Input should be a valid dictionary or object to extract fields from"})
    extra = sorted(set(body) - {"password"})
    if extra:
        raise Invalid(dict.fromkeys(extra, "Extra inputs are not permitted"))
    password = body.get("password")
    if password is None:
        return None
    if not isinstance(password, str):
        raise Invalid({"password": "Input should be a valid string"})
    if len(password) > PASSWORD_MAX:
        raise Invalid({"password": f"String should have at most {PASSWORD_MAX} characters"})
    return password


@app.get("/public/shares/<token>", response=f"{MODELS}:PublicShare")
def show(token: str) -> dict[str, Any]:
    link = asdict(redeem.public_info(token))
    return {name: link[name] for name in PUBLIC_SHARE_FIELDS}


@app.post("/public/shares/<token>/download", body=f"{MODELS}:DownloadRequest", response=f"{MODELS}:DownloadGrant")
def download(token: str) -> dict[str, Any]:
    grant = redeem.redeem(token, _password(), _visitor())
    return {"url": grant.url, "expires_at": grant.expires_at, "downloads_remaining": grant.downloads_remaining}


handler = api_entry(app.resolve)
