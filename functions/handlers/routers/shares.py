"""Member routes: share links of a document (create, list), of a workspace (list), and of one share
(read, edit, revoke, activity), and bundles: ``POST /workspaces/{id}/shares`` (``sharing.bundles``)."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from docuserve import audit
from docuserve.api import JSON, current_caller
from docuserve.models.share_edit import EditLink
from docuserve.models.shares import CreateBundle, CreatedShare, CreateShare, ShareList, ShareView
from docuserve.sharing import bundles, manage
from docuserve.sharing.manage import Changes, Link, Terms

router = APIGatewayRouter()

Limit = Annotated[int, Query(ge=1, le=200)]
Cursor = Annotated[str | None, Query(max_length=2048)]
LinkState = Annotated[str | None, Query(pattern="^(active|expired|revoked|used_up|locked|unavailable)$")]


def _source_ip() -> str | None:
    ip: str | None = router.current_event.request_context.identity.source_ip
    return ip


def _view(link: Link) -> ShareView:
    return ShareView.model_validate(link, from_attributes=True)


def _given(body: CreateShare | CreateBundle | EditLink) -> dict[str, Any]:
    # The validated values themselves (a password stays ``Masked``), only those the request named.
    return {name: getattr(body, name) for name in body.model_fields_set}


def _terms(body: CreateShare) -> Terms:
    return Terms(**_given(body))


def _changes(body: EditLink) -> Changes:
    return Changes(**_given(body), given=frozenset(body.model_fields_set))


@router.post("/documents/<document_id>/shares", status_code=201)
def create_share(document_id: str, body: Annotated[CreateShare, Body()]) -> Response[dict[str, Any]]:
    created = manage.create_share(current_caller(router), document_id, _terms(body), ip=_source_ip())
    answer = CreatedShare(**_view(created.link).model_dump(), token=created.token, url=created.url)
    return Response(status_code=201, content_type=JSON, body=answer.model_dump(mode="json"))


@router.post("/workspaces/<workspace_id>/shares", status_code=201)
def create_bundle(workspace_id: str, body: Annotated[CreateBundle, Body()]) -> Response[dict[str, Any]]:
    terms = {k: v for k, v in _given(body).items() if k != "document_ids"}
    created = bundles.create_bundle(
        current_caller(router), workspace_id, list(body.document_ids), Terms(**terms), ip=_source_ip()
    )
    answer = CreatedShare(**_view(created.link).model_dump(), token=created.token, url=created.url)
    return Response(status_code=201, content_type=JSON, body=answer.model_dump(mode="json"))


@router.get("/documents/<document_id>/shares")
def list_shares(document_id: str, limit: Limit = 50, cursor: Cursor = None) -> ShareList:
    items, next_cursor = manage.list_shares(current_caller(router), document_id, limit=limit, cursor=cursor)
    return ShareList(items=[_view(link) for link in items], next_cursor=next_cursor)


@router.get("/workspaces/<workspace_id>/links")
def list_workspace_links(
    workspace_id: str, limit: Limit = 50, cursor: Cursor = None, state: LinkState = None
) -> ShareList:
    items, next_cursor = manage.list_workspace_links(
        current_caller(router), workspace_id, state=state, limit=limit, cursor=cursor
    )
    return ShareList(items=[_view(link) for link in items], next_cursor=next_cursor)


@router.get("/shares/<share_id>")
def get_share(share_id: str) -> ShareView:
    return _view(manage.get_share(current_caller(router), share_id))


@router.patch("/shares/<share_id>")
def edit_share(share_id: str, body: Annotated[EditLink, Body()]) -> ShareView:
    return _view(manage.edit_share(current_caller(router), share_id, _changes(body), ip=_source_ip()))


@router.delete("/shares/<share_id>", status_code=204)
def revoke_share(share_id: str) -> Response[None]:
    manage.revoke_share(current_caller(router), share_id, ip=_source_ip())
    return Response(status_code=204, body=None)


@router.get("/shares/<share_id>/activity")
def share_activity(share_id: str, limit: Limit = 50, cursor: Cursor = None) -> dict[str, Any]:
    page = manage.share_activity(current_caller(router), share_id, limit=limit, cursor=cursor)
    return {"items": [audit.public_view(item) for item in page.items], "next_cursor": page.next_cursor}
