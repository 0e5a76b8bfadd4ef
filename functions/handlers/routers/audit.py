"""Member routes: audit trails, newest first (read-only: no route edits or deletes an event)."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from docuserve import audit, trails
from docuserve.adapters.store import Page as StoredPage
from docuserve.api import current_caller
from docuserve.models.responses import AuditEventView, Page
from handlers.routers._params import Cursor, Limit

router = APIGatewayRouter()


def _page(page: StoredPage) -> Page[AuditEventView]:
    items = [AuditEventView.model_validate(audit.public_view(i)) for i in page.items]
    return Page[AuditEventView](items=items, next_cursor=page.next_cursor)


@router.get("/workspaces/<workspace_id>/audit")
def workspace_audit(workspace_id: str, limit: Limit = 50, cursor: Cursor = None) -> Page[AuditEventView]:
    return _page(trails.workspace_trail(current_caller(router), workspace_id, limit=limit, cursor=cursor))


@router.get("/documents/<document_id>/audit")
def document_audit(document_id: str, limit: Limit = 50, cursor: Cursor = None) -> Page[AuditEventView]:
    return _page(trails.document_trail(current_caller(router), document_id, limit=limit, cursor=cursor))
