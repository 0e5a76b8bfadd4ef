"""Who may read which audit trail: a workspace's owners, a document's editors, and every admin."""

from __future__ import annotations

from docuserve import audit, audit_chain, ids, keys
from docuserve.access import document_access, workspace_access
from docuserve.adapters.store import Page, Store
from docuserve.errors import Forbidden, NotFound
from docuserve.identity import Caller
from docuserve.roles import Role


def _workspace_reader(caller: Caller, workspace_id: str, what: str) -> None:
    """The workspace's owners and every admin (of an existing workspace); anyone else is refused."""
    try:
        workspace_access(caller, workspace_id, Role.OWNER, what=what)
    except (NotFound, Forbidden):
        exists = ids.is_valid(workspace_id) and Store().get(keys.workspace(workspace_id)) is not None
        if not (caller.is_admin and exists):
            raise


def workspace_trail(caller: Caller, workspace_id: str, *, limit: int, cursor: str | None) -> Page:
    _workspace_reader(caller, workspace_id, "the workspace audit trail")
    return audit.workspace_events(workspace_id, limit=limit, cursor=cursor)


def workspace_export(caller: Caller, workspace_id: str, *, from_seq: int) -> list[str]:
    """One page of the workspace's hash-chained export (JSON Lines); the same readers as its trail."""
    _workspace_reader(caller, workspace_id, "the workspace audit export")
    return audit_chain.export_lines(workspace_id, from_seq=from_seq)


def document_trail(caller: Caller, document_id: str, *, limit: int, cursor: str | None) -> Page:
    try:
        document_access(caller, document_id, Role.EDITOR, what="the document audit trail")
    except (NotFound, Forbidden):
        exists = ids.workspace_of(document_id) is not None and Store().get(keys.document(document_id)) is not None
        if not (caller.is_admin and exists):
            raise
    return audit.document_events(document_id, limit=limit, cursor=cursor)
