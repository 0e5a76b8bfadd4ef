"""Member routes: a workspace's explicit folders (``docuserve.folders``)."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from docuserve import folders
from docuserve.api import current_caller
from docuserve.errors import InvalidInput
from docuserve.models.folders import FolderBody, FolderView, folder_path
from docuserve.models.responses import Page
from handlers.routers._params import Cursor, Limit

router = APIGatewayRouter()


def _view(folder: folders.Folder) -> FolderView:
    return FolderView(
        path=folder.path,
        name=folder.name,
        parent=folder.parent,
        created_at=folder.created_at,
        created_by=folder.created_by,
    )


@router.post("/workspaces/<workspace_id>/folders")
def create_folder(workspace_id: str, body: Annotated[FolderBody, Body()]) -> tuple[FolderView, int]:
    """Create the folder and its missing parents: 201 new, 200 when it already existed."""
    folder, created = folders.create(current_caller(router), workspace_id, body.path)
    return _view(folder), 201 if created else 200


@router.get("/workspaces/<workspace_id>/folders")
def list_folders(workspace_id: str, limit: Limit = 50, cursor: Cursor = None) -> Page[FolderView]:
    found, next_cursor = folders.list_folders(current_caller(router), workspace_id, limit=limit, cursor=cursor)
    return Page[FolderView](items=[_view(f) for f in found], next_cursor=next_cursor)


@router.delete("/workspaces/<workspace_id>/folders", status_code=204)
def delete_folder(
    workspace_id: str,
    path: Annotated[str | None, Query(max_length=4200, description="the folder (or give it in the body)")] = None,
    body: Annotated[FolderBody | None, Body()] = None,
) -> None:
    """Delete an empty folder (no document, trashed ones included, and no subfolder in it)."""
    if path is not None and body is not None and body.path != _path(path):
        raise InvalidInput("path", "the query and the body name different folders")
    if path is None and body is None:
        # Named as a missing query parameter is (``query.path``); a JSON body {"path"} works too.
        raise InvalidInput("query.path", 'name the folder: ?path=/a/b or a JSON body {"path": "/a/b"}')
    folders.delete(current_caller(router), workspace_id, body.path if body is not None else _path(path or ""))


def _path(value: str) -> str:
    try:
        return folder_path(value)
    except ValueError as exc:
        raise InvalidInput("path", str(exc)) from None
