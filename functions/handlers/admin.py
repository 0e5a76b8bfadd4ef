"""Routes of the admin function: user administration for the ``admins`` group (see `docuserve.routes`)."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query

from docuserve import quota, users
from docuserve.adapters.users import User
from docuserve.api import build_resolver, current_caller
from docuserve.models.requests import InviteUser, SetWorkspaceQuota
from docuserve.models.responses import Page, UserView, WorkspaceQuotaView
from docuserve.models.upload_requests import ChangeDeploymentSettings, DeploymentSettingsView, UploadRequestList
from docuserve.observability import api_entry
from docuserve.upload_requests import manage, switch

app = build_resolver()

Limit = Annotated[int, Query(ge=1, le=200)]
Cursor = Annotated[str | None, Query(max_length=4096)]
UserId = Annotated[str, Path(max_length=128)]
WorkspaceId = Annotated[str, Path(max_length=128)]


def _view(user: User) -> UserView:
    return UserView(id=user.id, email=user.email, status=user.status, enabled=user.enabled, created_at=user.created_at)


@app.post("/admin/users", status_code=201)
def invite(body: Annotated[InviteUser, Body()]) -> UserView:
    return _view(users.invite(current_caller(app), body.email))


@app.get("/admin/users")
def list_users(limit: Limit = 50, cursor: Cursor = None) -> Page[UserView]:
    found, next_cursor = users.list_users(current_caller(app), limit=limit, cursor=cursor)
    return Page[UserView](items=[_view(u) for u in found], next_cursor=next_cursor)


@app.post("/admin/users/<user_id>/disable")
def disable(user_id: UserId) -> UserView:
    return _view(users.set_enabled(current_caller(app), user_id, enabled=False))


@app.post("/admin/users/<user_id>/enable")
def enable(user_id: UserId) -> UserView:
    return _view(users.set_enabled(current_caller(app), user_id, enabled=True))


@app.patch("/admin/workspaces/<workspace_id>")
def set_workspace_quota(workspace_id: WorkspaceId, body: Annotated[SetWorkspaceQuota, Body()]) -> WorkspaceQuotaView:
    return WorkspaceQuotaView.of(quota.set_quota(current_caller(app), workspace_id, body.quota_bytes))


# --- upload requests (issue 17): the inventory of open requests and the deployment's switch ---


@app.get("/admin/requests")
def open_requests(limit: Limit = 50, cursor: Cursor = None) -> UploadRequestList:
    from handlers.routers.upload_requests import request_view

    found, next_cursor = manage.open_requests(current_caller(app), limit=limit, cursor=cursor)
    return UploadRequestList(items=[request_view(r) for r in found], next_cursor=next_cursor)


def _settings_view(settings: switch.DeploymentSettings) -> DeploymentSettingsView:
    return DeploymentSettingsView(
        upload_requests=settings.upload_requests, updated_at=settings.updated_at, updated_by=settings.updated_by
    )


@app.get("/admin/settings")
def read_settings() -> DeploymentSettingsView:
    return _settings_view(switch.read(current_caller(app)))


@app.put("/admin/settings")
def change_settings(body: Annotated[ChangeDeploymentSettings, Body()]) -> DeploymentSettingsView:
    return _settings_view(switch.change(current_caller(app), upload_requests=body.upload_requests))


handler = api_entry(app.resolve)
