"""Member routes: upload requests of a workspace (create, list) and of one request (read, edit,
close, activity). Admins may close (revoke) any request and read its activity."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from docuserve import audit
from docuserve.api import JSON, current_caller
from docuserve.models.upload_requests import (
    CreatedUploadRequest,
    CreateUploadRequest,
    EditUploadRequest,
    UploadRequestList,
    UploadRequestView,
)
from docuserve.upload_requests import manage
from docuserve.upload_requests.items import UploadRequest
from handlers.routers._params import Cursor, Limit

router = APIGatewayRouter()


def request_view(found: UploadRequest) -> UploadRequestView:
    listed = {"allowed_types": list(found.allowed_types), "recipients": list(found.recipients)}
    return UploadRequestView.model_validate(asdict(found) | listed)


def _given(body: CreateUploadRequest | EditUploadRequest) -> dict[str, Any]:
    return {name: getattr(body, name) for name in body.model_fields_set}


@router.post("/workspaces/<workspace_id>/requests", status_code=201)
def create_request(workspace_id: str, body: Annotated[CreateUploadRequest, Body()]) -> Response[dict[str, Any]]:
    created = manage.create_request(current_caller(router), workspace_id, manage.Terms(**_given(body)))
    answer = CreatedUploadRequest(**request_view(created.request).model_dump(), token=created.token, url=created.url)
    return Response(status_code=201, content_type=JSON, body=answer.model_dump(mode="json"))


@router.get("/workspaces/<workspace_id>/requests")
def list_requests(workspace_id: str, limit: Limit = 50, cursor: Cursor = None) -> UploadRequestList:
    items, next_cursor = manage.list_requests(current_caller(router), workspace_id, limit=limit, cursor=cursor)
    return UploadRequestList(items=[request_view(r) for r in items], next_cursor=next_cursor)


@router.get("/requests/<request_id>")
def get_request(request_id: str) -> UploadRequestView:
    return request_view(manage.get_request(current_caller(router), request_id))


@router.patch("/requests/<request_id>")
def edit_request(request_id: str, body: Annotated[EditUploadRequest, Body()]) -> UploadRequestView:
    changes = manage.Changes(**_given(body), given=frozenset(body.model_fields_set))
    return request_view(manage.edit_request(current_caller(router), request_id, changes))


@router.delete("/requests/<request_id>", status_code=204)
def close_request(request_id: str) -> Response[None]:
    manage.close_request(current_caller(router), request_id)
    return Response(status_code=204, body=None)


@router.get("/requests/<request_id>/activity")
def request_activity(request_id: str, limit: Limit = 50, cursor: Cursor = None) -> dict[str, Any]:
    page = manage.request_activity(current_caller(router), request_id, limit=limit, cursor=cursor)
    return {"items": [audit.public_view(item) for item in page.items], "next_cursor": page.next_cursor}
