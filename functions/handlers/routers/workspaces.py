"""Member routes: workspaces and their members."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from docuserve import workspaces
from docuserve.api import current_caller
from docuserve.models.requests import AddMember, CreateWorkspace, SetMemberRole, UpdateWorkspace
from docuserve.models.responses import MemberView, Page, WorkspaceView
from docuserve.records import Membership
from docuserve.roles import Role
from handlers.routers._params import Cursor, Limit

router = APIGatewayRouter()


@router.post("/workspaces", status_code=201)
def create_workspace(body: Annotated[CreateWorkspace, Body()]) -> WorkspaceView:
    item = workspaces.create(current_caller(router), body.name, body.description)
    return WorkspaceView.of(item, Role.OWNER.value)


@router.get("/workspaces")
def list_workspaces(limit: Limit = 50, cursor: Cursor = None) -> Page[WorkspaceView]:
    found, next_cursor = workspaces.list_mine(current_caller(router), limit=limit, cursor=cursor)
    return Page[WorkspaceView](items=[WorkspaceView.of(ws, role) for ws, role in found], next_cursor=next_cursor)


@router.get("/workspaces/<workspace_id>")
def get_workspace(workspace_id: str) -> WorkspaceView:
    access = workspaces.get(current_caller(router), workspace_id)
    return WorkspaceView.of(access.workspace, access.membership.role.value)


@router.patch("/workspaces/<workspace_id>")
def update_workspace(workspace_id: str, body: Annotated[UpdateWorkspace, Body()]) -> WorkspaceView:
    item = workspaces.update(current_caller(router), workspace_id, name=body.name, description=body.description)
    return WorkspaceView.of(item, Role.OWNER.value)


@router.delete("/workspaces/<workspace_id>", status_code=204)
def delete_workspace(workspace_id: str) -> None:
    workspaces.delete(current_caller(router), workspace_id)


@router.get("/workspaces/<workspace_id>/members")
def list_members(workspace_id: str, limit: Limit = 50, cursor: Cursor = None) -> Page[MemberView]:
    page = workspaces.members(current_caller(router), workspace_id, limit=limit, cursor=cursor)
    items = [MemberView.of(Membership.from_item(i)) for i in page.items]
    return Page[MemberView](items=items, next_cursor=page.next_cursor)


@router.post("/workspaces/<workspace_id>/members")
def add_member(workspace_id: str, body: Annotated[AddMember, Body()]) -> tuple[MemberView, int]:
    member, added = workspaces.add_member(current_caller(router), workspace_id, body.email, body.role)
    return MemberView.of(member), 201 if added else 200


@router.put("/workspaces/<workspace_id>/members/<user_id>")
def change_member_role(workspace_id: str, user_id: str, body: Annotated[SetMemberRole, Body()]) -> MemberView:
    return MemberView.of(workspaces.change_member_role(current_caller(router), workspace_id, user_id, body.role))


@router.delete("/workspaces/<workspace_id>/members/<user_id>", status_code=204)
def remove_member(workspace_id: str, user_id: str) -> None:
    workspaces.remove_member(current_caller(router), workspace_id, user_id)
