"""Member routes: audit trails, newest first (read-only: no route edits or deletes an event)."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from docuserve import audit, trails
from docuserve.adapters.store import Page as StoredPage
from docuserve.api import current_caller
from docuserve.models.responses import AuditEventView, Page
from handlers.routers._params import Cursor, Limit

router = APIGatewayRouter()
NDJSON = "application/x-ndjson"
FromSeq = Annotated[
    int, Query(ge=1, le=10**12 - 1, description="first seq of the page (a continuation line's from_seq)")
]


def _page(page: StoredPage) -> Page[AuditEventView]:
    items = [AuditEventView.model_validate(audit.public_view(i)) for i in page.items]
    return Page[AuditEventView](items=items, next_cursor=page.next_cursor)


@router.get("/workspaces/<workspace_id>/audit")
def workspace_audit(workspace_id: str, limit: Limit = 50, cursor: Cursor = None) -> Page[AuditEventView]:
    return _page(trails.workspace_trail(current_caller(router), workspace_id, limit=limit, cursor=cursor))


@router.get("/documents/<document_id>/audit")
def document_audit(document_id: str, limit: Limit = 50, cursor: Cursor = None) -> Page[AuditEventView]:
    return _page(trails.document_trail(current_caller(router), document_id, limit=limit, cursor=cursor))


@router.get(
    "/workspaces/<workspace_id>/audit/export",
    responses={
        200: {
            "description": "JSON Lines: event lines in seq order, checkpoint lines, a continuation line "
            "when the export goes on (docs/audit-chain.md)",
            "content": {NDJSON: {"schema": {"type": "string"}}},
        }
    },
)
def workspace_audit_export(workspace_id: str, from_seq: FromSeq = 1) -> Response[str]:
    """The hash-chained events in seq order, then the checkpoints, as JSON Lines (docs/audit-chain.md)."""
    lines = trails.workspace_export(current_caller(router), workspace_id, from_seq=from_seq)
    return Response(status_code=200, content_type=NDJSON, body="".join(f"{line}\n" for line in lines))
