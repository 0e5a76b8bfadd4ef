"""Member routes: upload sessions (status, resume, complete, abort) — the uploader's own only."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from docuserve import uploads
from docuserve.api import current_caller
from docuserve.models.requests import CompleteUpload, PartNumbers
from docuserve.models.responses import PartUrls, UploadStatus

router = APIGatewayRouter()


@router.get("/uploads/<upload_id>")
def upload_status(upload_id: str) -> UploadStatus:
    return uploads.status(current_caller(router), upload_id)


@router.post("/uploads/<upload_id>/parts")
def reissue_parts(upload_id: str, body: Annotated[PartNumbers, Body()]) -> PartUrls:
    return uploads.reissue_parts(current_caller(router), upload_id, body.part_numbers)


@router.post("/uploads/<upload_id>/complete")
def complete_upload(upload_id: str, body: Annotated[CompleteUpload, Body()]) -> UploadStatus:
    parts = [(p.part_number, p.etag) for p in body.parts]
    return uploads.complete(current_caller(router), upload_id, parts)


@router.delete("/uploads/<upload_id>", status_code=204)
def abort_upload(upload_id: str) -> None:
    uploads.abort(current_caller(router), upload_id)
