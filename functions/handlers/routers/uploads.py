"""Member routes: upload sessions (status, part URLs, complete, abort) — the uploader's own only."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from docuserve import uploads
from docuserve.api import current_caller
from docuserve.models.requests import CompleteUpload, PartChecksums
from docuserve.models.responses import PartUrl, PartUrls, UploadInstructions, UploadStatus
from docuserve.models.uploads import HeldPart, UploadState

router = APIGatewayRouter()


def _part_urls(grants: list[uploads.PartGrant]) -> list[PartUrl]:
    return [PartUrl(part_number=g.part_number, url=g.url, headers=g.headers) for g in grants]


def instructions_view(given: uploads.Instructions) -> UploadInstructions:
    """The response model of a new version's upload instructions."""
    return UploadInstructions(
        upload_id=given.upload_id,
        document_id=given.document_id,
        version_id=given.version_id,
        method="PUT" if given.method == "PUT" else "MULTIPART",
        expires_at=given.expires_at,
        url=given.url,
        headers=given.headers,
        part_size=given.part_size,
        part_count=given.part_count,
        parts=None if given.parts is None else _part_urls(given.parts),
    )


def status_view(given: uploads.Status) -> UploadStatus:
    return UploadStatus(
        upload_id=given.upload_id,
        document_id=given.document_id,
        version_id=given.version_id,
        method=given.method,
        status=given.status,
        failure_reason=given.failure_reason,
        size=given.size,
        created_at=given.created_at,
    )


@router.get("/uploads/<upload_id>")
def upload_status(upload_id: str) -> UploadState:
    given = uploads.status(current_caller(router), upload_id)
    held = None if given.parts is None else [HeldPart(**vars(p)) for p in given.parts]
    return UploadState(
        **status_view(given).model_dump(),
        part_size=given.part_size,
        part_count=given.part_count,
        resumable_until=given.resumable_until,
        parts=held,
    )


@router.post("/uploads/<upload_id>/parts")
def grant_parts(upload_id: str, body: Annotated[PartChecksums, Body()]) -> PartUrls:
    declared = [(p.part_number, p.sha256) for p in body.parts]
    grants = uploads.grant_parts(current_caller(router), upload_id, declared)
    return PartUrls(upload_id=grants.upload_id, parts=_part_urls(grants.parts), expires_at=grants.expires_at)


@router.post("/uploads/<upload_id>/complete", status_code=202)
def complete_upload(upload_id: str, body: Annotated[CompleteUpload, Body()]) -> UploadStatus:
    parts = [uploads.Completed(part_number=p.part_number, etag=p.etag, sha256=p.sha256) for p in body.parts]
    return status_view(uploads.complete(current_caller(router), upload_id, parts))


@router.delete("/uploads/<upload_id>", status_code=204)
def abort_upload(upload_id: str) -> None:
    uploads.abort(current_caller(router), upload_id)
