"""Workspace storage quotas: the one place that reserves bytes against a workspace's quota.

The workspace item counts ``used_bytes`` (absent: 0, for workspaces from before quotas) and may
carry its own ``quota_bytes`` (absent: the stage's ``default_quota_bytes``). What counts: every
upload's declared size from the moment it begins (a reservation), so versions, the trash and
upload-request files count until purged; an upload that ends without its bytes landing (failed,
aborted, expired) gives its reservation back (``uploads.release_actions``), and a purge gives back
the versions it deletes (``documents.lifecycle``). Infected and unscannable versions keep counting:
their bytes stay in S3 until the purge.

Never exceeded, also under concurrency: DynamoDB conditions cannot add, so the reservation reads
the workspace once and conditions its ``ADD used_bytes :n`` on ``used_bytes <= quota - n`` (the
room, computed here) *and* on the quota being the one it read. Two uploads that both fit alone
but not together: the second's condition sees the first's bytes and fails (413).
"""

from __future__ import annotations

from typing import Any

from docuserve import audit, ids, keys
from docuserve.adapters.store import Store, TransactionCancelled
from docuserve.audit import Actor, AuditEvent
from docuserve.errors import NotFound, QuotaExceeded
from docuserve.identity import Caller
from docuserve.settings import get_settings

USED = "used_bytes"
QUOTA = "quota_bytes"


def quota_of(workspace: dict[str, Any]) -> int:
    """The workspace's effective quota: its own, else the stage default."""
    own = workspace.get(QUOTA)
    return int(own) if own is not None else get_settings().default_quota_bytes


def used_of(workspace: dict[str, Any]) -> int:
    """Bytes the workspace counts now (reservations, versions, trash)."""
    return int(workspace.get(USED) or 0)


def remaining(workspace: dict[str, Any]) -> int:
    """Bytes that still fit (0 when the quota was lowered below the usage)."""
    return max(0, quota_of(workspace) - used_of(workspace))


def refuse(workspace: dict[str, Any], add_bytes: int) -> QuotaExceeded:
    """The 413 for an upload of ``add_bytes`` that does not fit, naming what is left."""
    left, quota = remaining(workspace), quota_of(workspace)
    return QuotaExceeded(
        f"not enough space in this workspace: {left} bytes left of {quota}, the upload needs {add_bytes}",
        fields={"size": f"exceeds the {left} bytes left in this workspace"},
        details={"remaining_bytes": left, "quota_bytes": quota, "used_bytes": used_of(workspace)},
    )


def fits(workspace: dict[str, Any], add_bytes: int) -> bool:
    """Whether ``add_bytes`` more stay within the quota (``used <= quota - n``)."""
    return used_of(workspace) <= quota_of(workspace) - add_bytes


def _read(workspace_id: str, store: Store) -> dict[str, Any] | None:
    return store.get(keys.workspace(workspace_id), consistent=True)


def workspace_update(
    workspace_id: str,
    *,
    add_bytes: int,
    add_documents: int = 0,
    store: Store | None = None,
    workspace: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The transaction action that reserves ``add_bytes`` (and counts ``add_documents``) on the
    workspace item, conditioned so the quota holds; raises the 413 at once if it cannot fit now.

    ``workspace``: the item, when the caller has just read it consistently (else one read here).
    A workspace that does not exist gets an action whose condition fails (the caller's 404).
    """
    if workspace is None:
        workspace = _read(workspace_id, store or Store())
    values: dict[str, Any] = {":n": add_bytes}
    update = "ADD used_bytes :n"
    if add_documents:
        update += ", document_count :d"
        values[":d"] = add_documents
    condition = "attribute_exists(pk)"
    if workspace is not None:
        if not fits(workspace, add_bytes):
            raise refuse(workspace, add_bytes)
        values[":room"] = quota_of(workspace) - add_bytes
        condition += " AND (attribute_not_exists(used_bytes) OR used_bytes <= :room)"
        if workspace.get(QUOTA) is None:
            condition += " AND attribute_not_exists(quota_bytes)"
        else:
            values[":q"] = workspace[QUOTA]
            condition += " AND quota_bytes = :q"
    return {
        "Update": {
            "Key": keys.workspace(workspace_id),
            "UpdateExpression": update,
            "ConditionExpression": condition,
            "ExpressionAttributeValues": values,
        }
    }


def explain(workspace_id: str, add_bytes: int, store: Store | None = None) -> bool:
    """After the workspace action of a transaction failed its condition: raise the 413 if the
    upload no longer fits; False when the workspace is gone (the caller's 404); True when it
    fits again (the quota changed meanwhile: the caller may try again)."""
    workspace = _read(workspace_id, store or Store())
    if workspace is None:
        return False
    if not fits(workspace, add_bytes):
        raise refuse(workspace, add_bytes)
    return True


def reservation_entry(workspace_id: str, add_bytes: int) -> dict[str, Any]:
    """The upload session's record of the bytes it reserved (``uploads.release_actions`` gives them back)."""
    key = keys.workspace(workspace_id)
    return {"pk": key["pk"], "sk": key["sk"], "add": {USED: add_bytes}}


def set_quota_action(workspace_id: str, quota_bytes: int) -> dict[str, Any]:
    """The transaction action that sets a workspace's own quota (an admin's change)."""
    return {
        "Update": {
            "Key": keys.workspace(workspace_id),
            "UpdateExpression": "SET quota_bytes = :q",
            "ConditionExpression": "attribute_exists(pk)",
            "ExpressionAttributeValues": {":q": quota_bytes},
        }
    }


def release_action(workspace_id: str, add_bytes: int) -> dict[str, Any]:
    """The transaction action that gives ``add_bytes`` back (a purge's); it rides a conditional
    write of the item whose bytes it releases, so it can never run twice."""
    return {
        "Update": {
            "Key": keys.workspace(workspace_id),
            "UpdateExpression": "ADD used_bytes :n",
            "ExpressionAttributeValues": {":n": -add_bytes},
        }
    }


def set_quota(caller: Caller, workspace_id: str, quota_bytes: int, store: Store | None = None) -> dict[str, Any]:
    """An admin sets a workspace's own quota (audited ``workspace.quota_changed`` in the admin
    trail); the updated workspace item. Lower than its usage is allowed: new uploads get 413."""
    caller.require_admin()
    if not ids.is_valid(workspace_id) or ids.workspace_of(workspace_id) is not None:
        raise NotFound("workspace not found")
    store = store or Store()
    before = store.get(keys.workspace(workspace_id))
    if before is None:
        raise NotFound("workspace not found")
    event = AuditEvent(
        "workspace.quota_changed",
        Actor.member(caller),
        details={
            "workspace_id": workspace_id,
            "quota_bytes": quota_bytes,
            "previous_quota_bytes": quota_of(before),
            "used_bytes": used_of(before),
        },
    )
    try:
        store.transact([set_quota_action(workspace_id, quota_bytes), audit.put_action(event)])
    except TransactionCancelled:
        raise NotFound("workspace not found") from None
    return store.get(keys.workspace(workspace_id)) or before | {QUOTA: quota_bytes}
