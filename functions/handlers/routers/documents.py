"""Member routes: documents, their versions, trash and download."""

from __future__ import annotations

from typing import Annotated, Literal

from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from docuserve import documents, validation
from docuserve.api import current_caller
from docuserve.errors import InvalidInput
from docuserve.models.requests import CreateDocument, CreateVersion, RestoreDocument, UpdateDocument
from docuserve.models.responses import (
    CreatedDocument,
    DocumentDetail,
    DocumentView,
    Download,
    Page,
    RestoredDocument,
    UploadInstructions,
    VersionView,
)
from docuserve.models.restore import RestoredVersion
from docuserve.uploads import Declared
from handlers.routers._params import Cursor, Limit
from handlers.routers.uploads import instructions_view

router = APIGatewayRouter()


@router.post("/workspaces/<workspace_id>/documents", status_code=201)
def create_document(workspace_id: str, body: Annotated[CreateDocument, Body()]) -> CreatedDocument:
    doc, upload = documents.create(
        current_caller(router),
        workspace_id,
        name=body.name,
        folder=body.folder,
        tags=body.tags,
        description=body.description,
        declared=Declared(size=body.size, sha256=body.sha256, content_type=body.content_type),
    )
    return CreatedDocument(document=DocumentView.of(doc), upload=instructions_view(upload))


def _checked(field: str, value: str | None, rule: object) -> str | None:
    if value is None:
        return None
    try:
        return rule(value)  # type: ignore[operator]
    except ValueError as exc:
        raise InvalidInput(field, str(exc)) from None


@router.get("/workspaces/<workspace_id>/documents")
def list_documents(
    workspace_id: str,
    folder: Annotated[str | None, Query(max_length=1100)] = None,
    tag: Annotated[str | None, Query(max_length=100)] = None,
    q: Annotated[str | None, Query(min_length=1, max_length=255)] = None,
    status: Annotated[Literal["deleted"] | None, Query(description="'deleted' lists the trash")] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[DocumentView]:
    checked_tag = _checked("tag", tag, lambda t: validation.tags([t])[0])
    found, next_cursor = documents.list_documents(
        current_caller(router),
        workspace_id,
        folder=_checked("folder", folder, validation.folder),
        tag=checked_tag,
        q=q,
        trash=status == "deleted",
        limit=limit,
        cursor=cursor,
    )
    return Page[DocumentView](items=[DocumentView.of(d) for d in found], next_cursor=next_cursor)


@router.get("/documents/<document_id>")
def get_document(document_id: str) -> DocumentDetail:
    doc, versions = documents.get(current_caller(router), document_id)
    views = [VersionView.of(v, current=v.id == doc.current_version) for v in versions]
    return DocumentDetail(**DocumentView.of(doc).model_dump(), versions=views)


@router.patch("/documents/<document_id>")
def update_document(document_id: str, body: Annotated[UpdateDocument, Body()]) -> DocumentView:
    doc = documents.update(
        current_caller(router),
        document_id,
        name=body.name,
        folder=body.folder,
        tags=body.tags,
        description=body.description,
    )
    return DocumentView.of(doc)


@router.delete("/documents/<document_id>", status_code=204)
def delete_document(
    document_id: str, purge: Annotated[Literal["true", "false"], Query(description="owner, from the trash")] = "false"
) -> None:
    caller = current_caller(router)
    if purge == "true":
        documents.purge(caller, document_id)
    else:
        documents.trash(caller, document_id)


@router.post("/documents/<document_id>/restore")
def restore_document(document_id: str, body: Annotated[RestoreDocument | None, Body()] = None) -> RestoredDocument:
    resume = body is not None and body.resume_links
    doc, resumed = documents.restore(current_caller(router), document_id, resume_links=resume)
    return RestoredDocument(**DocumentView.of(doc).model_dump(), links_resumed=resumed)


@router.post("/documents/<document_id>/versions", status_code=201)
def create_version(document_id: str, body: Annotated[CreateVersion, Body()]) -> UploadInstructions:
    declared = Declared(size=body.size, sha256=body.sha256, content_type=body.content_type or "")
    return instructions_view(documents.new_version(current_caller(router), document_id, declared))


@router.post("/documents/<document_id>/versions/<version_id>/restore", status_code=202)
def restore_version(document_id: str, version_id: str) -> RestoredVersion:
    """An older version's bytes become the newest version (S3 copies them; processing verifies)."""
    restored = documents.restore_version(current_caller(router), document_id, version_id)
    return RestoredVersion(
        upload_id=restored.upload_id,
        document_id=restored.document_id,
        version_id=restored.version_id,
        number=restored.number,
        status=restored.status,
        restored_from_version_id=restored.restored_from_version_id,
        restored_from_number=restored.restored_from_number,
    )


@router.post("/documents/<document_id>/versions/<version_id>/release")
def release_version(document_id: str, version_id: str) -> VersionView:
    """Serve a version that could not be scanned for malware after all (owner only, audited)."""
    version = documents.release(current_caller(router), document_id, version_id)
    return VersionView.of(version, current=False)


@router.get("/documents/<document_id>/download")
def download(
    document_id: str,
    version_id: Annotated[str | None, Query(max_length=64)] = None,
    disposition: Annotated[Literal["attachment", "inline"], Query()] = "attachment",
) -> Download:
    event = router.current_event
    identity = (event.get("requestContext") or {}).get("identity") or {}
    url, expires_at = documents.download(
        current_caller(router),
        document_id,
        version_id=version_id,
        inline=disposition == "inline",
        ip=identity.get("sourceIp"),
        user_agent=(event.headers or {}).get("user-agent") or identity.get("userAgent"),
    )
    return Download(url=url, expires_at=expires_at)
