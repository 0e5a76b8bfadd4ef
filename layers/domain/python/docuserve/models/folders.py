"""Request and response models of the folder routes (``/workspaces/{workspace_id}/folders``)."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator

from docuserve import validation
from docuserve.models.base import Body, Model

KEY_BYTES = 1024  # a folder's path is its item's sort key, which DynamoDB caps at 1,024 bytes


def folder_path(value: str) -> str:
    """A folder below the root, by the folder rules (``validation.folder``), normalised to ``/a/b``."""
    path = validation.folder(value)
    if path == "/":
        raise ValueError("the root folder '/' always exists; name a folder below it, such as '/projects'")
    if len(path.encode("utf-8")) > KEY_BYTES:
        raise ValueError(f"must be at most {KEY_BYTES} bytes in UTF-8")
    return path


FolderPath = Annotated[str, AfterValidator(folder_path)]


class FolderBody(Body):
    """``POST`` (create) and ``DELETE`` (delete, when the path is not in the query) of a folder."""

    path: FolderPath


class FolderView(Model):
    path: str  # normalised, e.g. "/projects/launch"
    name: str  # its last segment
    parent: str  # "/" for a folder at the root
    created_at: str
    created_by: str
