"""Routes of the partner-uploads function (see `docuserve.routes`): an upload-request link's page,
recipient verification and the partner's uploads (``/public/requests/*``).

Split from the share page's function (``handlers.public``) by privilege: this function's role may
write what a partner's upload writes (document, version and upload session, the workspace's quota
reservation, the request's budget, by partition prefix), presign PUTs and multipart parts under
``documents/`` and enqueue a multipart completion; the share page's role may do none of that.

As on the share page, cold start is the partner's first wait: ``docuserve.lean_api`` routes the
requests and the bodies are validated by hand (``handlers.partner_bodies`` and below), with the
answers (shape, codes, 422 field names and messages) the Pydantic models of
``docuserve.models.upload_requests``, ``docuserve.models.requests`` and ``docuserve.models.shares``
would give; ``/openapi.json`` documents the routes from those models. The ``token`` path parameter
is a secret: no code path logs the event, the path or the token (errors name "the request",
never the token).
"""

from __future__ import annotations

import re
from dataclasses import asdict
from typing import Any

from docuserve import uploads, validation
from docuserve.lean_api import Invalid, LeanResolver
from docuserve.observability import api_entry
from docuserve.sharing import recipients
from docuserve.upload_requests import public
from handlers.partner_bodies import EMAIL_MAX, GRANT_MAX, PASSWORD_MAX, email, json_object, text, visitor
from handlers.partner_bodies import code as confirmation_code

MODELS = "docuserve.models.shares"
REQUEST_MODELS = "docuserve.models.upload_requests"
PARTNER_NAME_MAX = 200  # = docuserve.models.upload_requests.PARTNER_NAME_MAX
PARTS_PER_REQUEST = 1000  # = docuserve.models.requests.PARTS_PER_REQUEST
_ETAG = re.compile(r'^"?[A-Za-z0-9-]{1,100}"?$')

app = LeanResolver()


def _checked(body: dict[str, Any], name: str, rule: Any, maximum: int = 1024) -> str:
    value = text(body, name, maximum, required=True)
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
    address = email(json_object(app, {"email"}, optional=False))
    public.request_code(token, address, visitor(app))
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
    body = json_object(app, {"email", "code"}, optional=False)
    address = email(body)
    verified = public.confirm(token, address, confirmation_code(body), visitor(app))
    return {"grant": verified.grant, "expires_at": verified.expires_at}


@app.post(
    "/public/requests/<token>/uploads",
    body=f"{REQUEST_MODELS}:PartnerUploadRequest",
    response=f"{REQUEST_MODELS}:PartnerUploadInstructions",
    status=201,
    body_required=True,
)
def start_request_upload(token: str) -> dict[str, Any]:
    body = json_object(
        app,
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
    contact = None
    if body.get("uploader_email") is not None:
        contact = _checked(body, "uploader_email", validation.email, EMAIL_MAX)
    started = public.start_upload(
        token,
        file,
        visitor(app),
        password=text(body, "password", PASSWORD_MAX),
        grant=text(body, "grant", GRANT_MAX),
        uploader_name=name,
        uploader_email=contact,
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
    return _partner_upload(public.upload_status(token, upload_id))


@app.route("DELETE", "/public/requests/<token>/uploads/<upload_id>", status=204)
def cancel_request_upload(token: str, upload_id: str) -> None:
    public.cancel(token, upload_id, visitor(app))


@app.post(
    "/public/requests/<token>/uploads/<upload_id>/parts",
    body="docuserve.models.requests:PartChecksums",
    response=f"{REQUEST_MODELS}:PartnerPartUrls",
    body_required=True,
)
def request_upload_parts(token: str, upload_id: str) -> dict[str, Any]:
    parts = _parts(json_object(app, {"parts"}, optional=False), {"part_number", "sha256"})
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
    parts = _parts(json_object(app, {"parts"}, optional=False), {"part_number", "etag", "sha256"})
    done = [uploads.Completed(p["part_number"], p["etag"], p["sha256"]) for p in parts]
    return _partner_upload(public.complete(token, upload_id, done))


handler = api_entry(app.resolve)
