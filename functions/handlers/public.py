"""Routes of the public function (see `docuserve.routes`): the share link's partner page, recipient
verification, redemption and its signed manifest.

Every share link hits this function, so its role is the narrowest of the partner side: link items
and presigned GETs, no object or document write. Upload-request links (``/public/requests/*``)
are served by ``handlers.partner_uploads``, with its own role.

Cold start matters here: it is the partner's first wait. So this function does not load
Powertools' event handler or Pydantic: ``docuserve.lean_api`` routes the requests and the small
bodies are validated by hand (``handlers.partner_bodies``), with the answers (shape, codes, 422
field names and messages) the Pydantic models ``DownloadRequest``, ``VerifyRequest`` and
``ConfirmRequest`` of ``docuserve.models.shares`` would give.
The routes are still documented from those models in ``/openapi.json``. The S3 client is created
on the first download. The ``token`` path parameter is a secret: no code path logs the event, the
path or the token (errors name "the link", never the token).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from docuserve.custody import signing
from docuserve.lean_api import Answer, Invalid, LeanResolver
from docuserve.observability import api_entry
from docuserve.sharing import recipients, redeem
from handlers.partner_bodies import GRANT_MAX, PASSWORD_MAX, email, json_object, text, visitor
from handlers.partner_bodies import code as confirmation_code

MODELS = "docuserve.models.shares"
DOCUMENT_ID_MAX = 64  # = DownloadRequest.document_id's max_length
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
    "kind",
    "files",
    "archive_available",
)
_BUNDLE_FIELDS = ("kind", "files", "archive_available")

app = LeanResolver()


def _download_body() -> tuple[str | None, str | None, redeem.Target | None]:
    """``DownloadRequest``: an optional JSON object with optional ``password`` and ``grant``, and
    for a bundle ``document_id`` (one file) or ``archive: true`` (all of them as one ZIP)."""
    body = json_object(app, {"password", "grant", "document_id", "archive"}, optional=True)
    document_id = text(body, "document_id", DOCUMENT_ID_MAX)
    archive = body.get("archive")
    if archive is not None and not isinstance(archive, bool):
        raise Invalid({"archive": "Input should be a valid boolean"})
    if document_id is not None and archive:
        raise Invalid({"archive": "name one file (document_id) or ask for the archive, not both"})
    target = redeem.Target(archive=True) if archive else redeem.Target(document_id=document_id) if document_id else None
    return text(body, "password", PASSWORD_MAX), text(body, "grant", GRANT_MAX), target


def _password() -> str | None:
    return _download_body()[0]


@app.get("/public/shares/<token>", response=f"{MODELS}:PublicShare")
def show(token: str) -> dict[str, Any]:
    link = asdict(redeem.public_info(token))
    if link["kind"] != "bundle":  # a single document's page answers exactly as before bundles
        return {name: link[name] for name in PUBLIC_SHARE_FIELDS if name not in _BUNDLE_FIELDS}
    return {name: link[name] for name in PUBLIC_SHARE_FIELDS}


@app.get("/public/shares/<token>/manifest", response=f"{MODELS}:PublicManifest")
def show_manifest(token: str) -> dict[str, Any]:
    """The link's signed delivery manifest; the page's checks and answers, no download counted."""
    return redeem.public_manifest(token)


@app.get("/public/keys", response=f"{MODELS}:PublicKeys")
def keys() -> dict[str, Any]:
    """The stage's manifest-signing public keys (``docuserve.custody.signing``)."""
    return {"keys": signing.public_keys()}


@app.post(
    "/public/shares/<token>/verify",
    body=f"{MODELS}:VerifyRequest",
    response=f"{MODELS}:VerificationStarted",
    status=202,
    body_required=True,
)
def verify(token: str) -> dict[str, Any]:
    """The same answer for every address: it never says whether the address is a recipient."""
    address = email(json_object(app, {"email"}, optional=False))
    recipients.request_code(token, address, visitor(app))
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
    body = json_object(app, {"email", "code"}, optional=False)
    address = email(body)
    verified = recipients.confirm(token, address, confirmation_code(body), visitor(app))
    return {"grant": verified.grant, "expires_at": verified.expires_at}


@app.post(
    "/public/shares/<token>/download",
    body=f"{MODELS}:DownloadRequest",
    response=f"{MODELS}:DownloadGrant",
    also={
        202: (
            f"{MODELS}:ArchivePreparing",
            "A bundle's archive is being built: nothing was counted; ask again after Retry-After seconds",
        )
    },
)
def download(token: str) -> dict[str, Any] | Answer:
    password, grant, target = _download_body()
    link = redeem.redeem(token, password, visitor(app), grant=grant, target=target)
    if not isinstance(link, redeem.Grant):  # a bundle's archive is being built: nothing was counted
        return Answer(
            202, {"status": "preparing", "retry_after": link.retry_after}, {"Retry-After": str(link.retry_after)}
        )
    return {"url": link.url, "expires_at": link.expires_at, "downloads_remaining": link.downloads_remaining}


handler = api_entry(app.resolve)
