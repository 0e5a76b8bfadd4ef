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
from docuserve.custody import signing
from docuserve.lean_api import Answer, Invalid, LeanResolver
from docuserve.observability import api_entry
from docuserve.sharing import recipients, redeem

MODELS = "docuserve.models.shares"
PASSWORD_MAX = 256  # = docuserve.models.shares.PASSWORD_MAX (tests/unit/test_lean_api.py checks it)
GRANT_MAX = 200  # = docuserve.models.shares.GRANT_MAX
EMAIL_MAX = 254  # = docuserve.models.shares.EMAIL_MAX
DOCUMENT_ID_MAX = 64  # = DownloadRequest.document_id's max_length
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
    "kind",
    "files",
    "archive_available",
)
_BUNDLE_FIELDS = ("kind", "files", "archive_available")

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


def _download_body() -> tuple[str | None, str | None, redeem.Target | None]:
    """``DownloadRequest``: an optional JSON object with optional ``password`` and ``grant``, and
    for a bundle ``document_id`` (one file) or ``archive: true`` (all of them as one ZIP)."""
    body = _object({"password", "grant", "document_id", "archive"}, optional=True)
    document_id = _text(body, "document_id", DOCUMENT_ID_MAX)
    archive = body.get("archive")
    if archive is not None and not isinstance(archive, bool):
        raise Invalid({"archive": "Input should be a valid boolean"})
    if document_id is not None and archive:
        raise Invalid({"archive": "name one file (document_id) or ask for the archive, not both"})
    target = redeem.Target(archive=True) if archive else redeem.Target(document_id=document_id) if document_id else None
    return _text(body, "password", PASSWORD_MAX), _text(body, "grant", GRANT_MAX), target


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
    link = redeem.redeem(token, password, _visitor(), grant=grant, target=target)
    if not isinstance(link, redeem.Grant):  # a bundle's archive is being built: nothing was counted
        return Answer(
            202, {"status": "preparing", "retry_after": link.retry_after}, {"Retry-After": str(link.retry_after)}
        )
    return {"url": link.url, "expires_at": link.expires_at, "downloads_remaining": link.downloads_remaining}


# --- upload requests (issue 17): the partner's page and uploads; ``docuserve.upload_requests.public``
# is imported on first use, so a share page's cold start does not pay for it.

REQUEST_MODELS = "docuserve.models.upload_requests"
PARTNER_NAME_MAX = 200  # = docuserve.models.upload_requests.PARTNER_NAME_MAX
PARTS_PER_REQUEST = 1000  # = docuserve.models.requests.PARTS_PER_REQUEST
_ETAG = re.compile(r'^"?[A-Za-z0-9-]{1,100}"?$')


def _checked(body: dict[str, Any], name: str, rule: Any, maximum: int = 1024) -> str:
    value = _text(body, name, maximum, required=True)
    assert value is not None
    try:
        return str(rule(value))
    except ValueError as bad:
        raise Invalid({name: f"Value error, {bad}"}) from None


def _integer(body: dict[str, Any], name: str, minimum: int, maximum: int | None = None) -> int:
    value = body.get(name)
    if name not in body:
        raise Invalid({name: "Field required"})
    if not isinstance(value, int) or isinstance(value, bool):
        raise Invalid({name: "Input should be a valid integer"})
    if value < minimum:
        raise Invalid({name: f"Input should be greater than or equal to {minimum}"})
    if maximum is not None and value > maximum:
        raise Invalid({name: f"Input should be less than or equal to {maximum}"})
    return value


def _parts(body: dict[str, Any], fields: set[str]) -> list[dict[str, Any]]:
    parts = body.get("parts")
    if not isinstance(parts, list) or not 1 <= len(parts) <= (PARTS_PER_REQUEST if "etag" not in fields else 10_000):
        raise Invalid({"parts": "Input should be a non-empty list of parts"})
    checked = []
    for i, part in enumerate(parts):
        if not isinstance(part, dict) or set(part) - fields:
            raise Invalid({f"parts.{i}": "Input should be an object with " + ", ".join(sorted(fields))})
        item = {
            "part_number": _integer(part, "part_number", 1, 10_000),
            "sha256": _checked(part, "sha256", validation.sha256, 100),
        }
        if "etag" in fields:
            etag = part.get("etag")
            if not isinstance(etag, str) or not _ETAG.fullmatch(etag):
                raise Invalid({f"parts.{i}.etag": "String should match the ETag S3 answered"})
            item["etag"] = etag
        checked.append(item)
    return checked


def _partner_upload(status: Any) -> dict[str, Any]:
    answer = asdict(status)
    if answer.get("parts") is not None:
        answer["parts"] = [
            {"part_number": p["part_number"], "etag": p["etag"], "sha256": p["sha256"]} for p in answer["parts"]
        ]
    return answer


@app.get("/public/requests/<token>", response=f"{REQUEST_MODELS}:PublicUploadRequest")
def show_request(token: str) -> dict[str, Any]:
    from docuserve.upload_requests import public

    info = asdict(public.public_info(token))
    info["allowed_types"] = list(info["allowed_types"])
    return info


@app.post(
    "/public/requests/<token>/verify",
    body=f"{MODELS}:VerifyRequest",
    response=f"{MODELS}:VerificationStarted",
    status=202,
    body_required=True,
)
def verify_request(token: str) -> dict[str, Any]:
    """As a share link's: the same answer for every address."""
    from docuserve.upload_requests import public

    email = _email(_object({"email"}, optional=False))
    public.request_code(token, email, _visitor())
    return {
        "message": "If this address may send files, a code is on its way to it.",
        "code_valid_minutes": int(recipients.CODE_TTL.total_seconds() // 60),
    }


@app.post(
    "/public/requests/<token>/verify/confirm",
    body=f"{MODELS}:ConfirmRequest",
    response=f"{MODELS}:VerificationGrant",
    body_required=True,
)
def confirm_request(token: str) -> dict[str, Any]:
    from docuserve.upload_requests import public

    body = _object({"email", "code"}, optional=False)
    email = _email(body)
    code = _text(body, "code", 2**31, required=True)
    if code is None or not _CODE.fullmatch(code):
        raise Invalid({"code": f"String should match pattern '{CODE_PATTERN}'"})
    verified = public.confirm(token, email, code, _visitor())
    return {"grant": verified.grant, "expires_at": verified.expires_at}


@app.post(
    "/public/requests/<token>/uploads",
    body=f"{REQUEST_MODELS}:PartnerUploadRequest",
    response=f"{REQUEST_MODELS}:PartnerUploadInstructions",
    status=201,
    body_required=True,
)
def start_request_upload(token: str) -> dict[str, Any]:
    from docuserve.upload_requests import public

    body = _object(
        {"name", "content_type", "size", "sha256", "password", "grant", "uploader_name", "uploader_email"},
        optional=False,
    )
    file = public.PartnerFile(
        name=_checked(body, "name", validation.name, 1024),
        content_type=_checked(body, "content_type", validation.content_type, 1024),
        size=_integer(body, "size", 0),
        sha256=_checked(body, "sha256", validation.sha256, 100),
    )
    name = None
    if body.get("uploader_name") is not None:
        name = _checked(body, "uploader_name", validation.label, PARTNER_NAME_MAX) or None  # trimmed, no controls
    email = None
    if body.get("uploader_email") is not None:
        email = _checked(body, "uploader_email", validation.email, EMAIL_MAX)
    started = public.start_upload(
        token,
        file,
        _visitor(),
        password=_text(body, "password", PASSWORD_MAX),
        grant=_text(body, "grant", GRANT_MAX),
        uploader_name=name,
        uploader_email=email,
    )
    given = started.instructions
    return {
        "upload_id": given.upload_id,
        "method": given.method,
        "expires_at": given.expires_at,
        "url": given.url,
        "headers": given.headers,
        "part_size": given.part_size,
        "part_count": given.part_count,
        "files_remaining": started.files_remaining,
        "bytes_remaining": started.bytes_remaining,
    }


@app.get("/public/requests/<token>/uploads/<upload_id>", response=f"{REQUEST_MODELS}:PartnerUploadStatus")
def request_upload_status(token: str, upload_id: str) -> dict[str, Any]:
    from docuserve.upload_requests import public

    return _partner_upload(public.upload_status(token, upload_id))


@app.route("DELETE", "/public/requests/<token>/uploads/<upload_id>", status=204)
def cancel_request_upload(token: str, upload_id: str) -> None:
    from docuserve.upload_requests import public

    public.cancel(token, upload_id, _visitor())


@app.post(
    "/public/requests/<token>/uploads/<upload_id>/parts",
    body="docuserve.models.requests:PartChecksums",
    response=f"{REQUEST_MODELS}:PartnerPartUrls",
    body_required=True,
)
def request_upload_parts(token: str, upload_id: str) -> dict[str, Any]:
    from docuserve.upload_requests import public

    parts = _parts(_object({"parts"}, optional=False), {"part_number", "sha256"})
    grants = public.grant_parts(token, upload_id, [(p["part_number"], p["sha256"]) for p in parts])
    return {
        "upload_id": grants.upload_id,
        "parts": [{"part_number": g.part_number, "url": g.url, "headers": g.headers} for g in grants.parts],
        "expires_at": grants.expires_at,
    }


@app.post(
    "/public/requests/<token>/uploads/<upload_id>/complete",
    body="docuserve.models.requests:CompleteUpload",
    response=f"{REQUEST_MODELS}:PartnerUploadStatus",
    status=202,
    body_required=True,
)
def complete_request_upload(token: str, upload_id: str) -> dict[str, Any]:
    from docuserve import uploads
    from docuserve.upload_requests import public

    parts = _parts(_object({"parts"}, optional=False), {"part_number", "etag", "sha256"})
    done = [uploads.Completed(p["part_number"], p["etag"], p["sha256"]) for p in parts]
    return _partner_upload(public.complete(token, upload_id, done))


handler = api_entry(app.resolve)
