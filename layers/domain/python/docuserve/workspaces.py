"""Workspaces and membership: create, list mine, rename, delete when empty, members and roles.

The workspace item keeps ``owner_count`` and ``document_count``. Every change of an owner's role
and every document creation or purge updates them in the same transaction, conditionally, so the
last owner can never go (also under concurrency) and a workspace is only deleted when empty.
Removing a member, or demoting one below editor, aborts the uploads they have pending there.
"""

from __future__ import annotations

from typing import Any

from docuserve import audit, clock, ids, keys, uploads
from docuserve.access import WorkspaceAccess, holds_role, lost_role, refuse_lost_role, workspace_access
from docuserve.adapters import users as user_directory
from docuserve.adapters.store import Page, Store, TransactionCancelled
from docuserve.audit import Actor, AuditEvent
from docuserve.errors import Conflict, InvalidInput, NotFound
from docuserve.identity import Caller
from docuserve.records import Membership
from docuserve.roles import Role


def _membership_item(ws: str, user_id: str, email: str, role: Role, by: str, at: str) -> dict[str, Any]:
    return {
        **keys.membership(ws, user_id),
        **keys.membership_index_keys(ws, user_id),
        "type": "membership",
        "workspace_id": ws,
        "user_id": user_id,
        "email": email,
        "role": role.value,
        "added_at": at,
        "added_by": by,
    }


def create(caller: Caller, name: str, description: str, store: Store | None = None) -> dict[str, Any]:
    """Create a workspace; the creator becomes its (only) owner."""
    store = store or Store()
    ws, at = ids.new_workspace_id(), clock.iso(clock.now())
    item = {
        **keys.workspace(ws),
        "type": "workspace",
        "id": ws,
        "name": name,
        "description": description,
        "created_at": at,
        "created_by": caller.user_id,
        "updated_at": at,
        "owner_count": 1,
        "member_count": 1,
        "document_count": 0,
    }
    store.transact(
        [
            {"Put": {"Item": item, "ConditionExpression": "attribute_not_exists(pk)"}},
            {"Put": {"Item": _membership_item(ws, caller.user_id, caller.email, Role.OWNER, caller.user_id, at)}},
            audit.put_action(
                AuditEvent("workspace.created", Actor.member(caller), workspace_id=ws, details={"name": name})
            ),
        ]
    )
    return item


def list_mine(
    caller: Caller, *, limit: int, cursor: str | None, store: Store | None = None
) -> tuple[list[tuple[dict[str, Any], str]], str | None]:
    """The caller's workspaces with their role: one Query on gsi1 and one BatchGetItem."""
    store = store or Store()
    page = store.query(keys.user_workspaces_pk(caller.user_id), index="gsi1", limit=limit, cursor=cursor)
    workspaces = store.get_many([keys.workspace(m["workspace_id"]) for m in page.items]) if page.items else []
    found = [(ws, m["role"]) for ws, m in zip(workspaces, page.items, strict=True) if ws is not None]
    return found, page.next_cursor


def get(caller: Caller, workspace_id: str) -> WorkspaceAccess:
    return workspace_access(caller, workspace_id)


def update(caller: Caller, workspace_id: str, *, name: str | None, description: str | None) -> dict[str, Any]:
    access = workspace_access(caller, workspace_id, Role.OWNER, what="changing the workspace")
    changes = {k: v for k, v in (("name", name), ("description", description)) if v is not None}
    if not changes:
        return access.workspace
    at = clock.iso(clock.now())
    names = {f"#f{i}": k for i, k in enumerate(changes)}
    values: dict[str, Any] = {f":v{i}": v for i, v in enumerate(changes.values())}
    values[":at"] = at
    sets = ", ".join(f"#f{i} = :v{i}" for i in range(len(changes)))
    store = Store()
    event = AuditEvent("workspace.updated", Actor.member(caller), workspace_id=workspace_id, details=changes)
    try:
        store.transact(
            [
                {
                    "Update": {
                        "Key": keys.workspace(workspace_id),
                        "UpdateExpression": f"SET {sets}, updated_at = :at",
                        "ConditionExpression": "attribute_exists(pk)",
                        "ExpressionAttributeNames": names,
                        "ExpressionAttributeValues": values,
                    }
                },
                audit.put_action(event),
                _owner(caller, workspace_id),
            ]
        )
    except TransactionCancelled as cancelled:
        _refuse_if_lost(caller, workspace_id, cancelled, "changing the workspace")
        raise NotFound("workspace not found") from None
    return store.get(keys.workspace(workspace_id)) or access.workspace


def _owner(caller: Caller, workspace_id: str) -> dict[str, Any]:
    return holds_role(workspace_id, caller.user_id, Role.OWNER)


def _refuse_if_lost(caller: Caller, workspace_id: str, cancelled: TransactionCancelled, what: str) -> None:
    if lost_role(cancelled.reasons):
        refuse_lost_role(caller, workspace_id, Role.OWNER, what=what, not_found="workspace not found")


def delete(caller: Caller, workspace_id: str) -> None:
    """Delete an empty workspace (no documents, trash included) and its memberships."""
    workspace_access(caller, workspace_id, Role.OWNER, what="deleting the workspace")
    store = Store()
    try:
        store.transact(
            [
                {
                    "Delete": {
                        "Key": keys.workspace(workspace_id),
                        "ConditionExpression": "attribute_exists(pk) AND document_count = :zero",
                        "ExpressionAttributeValues": {":zero": 0},
                    }
                },
                audit.put_action(AuditEvent("workspace.deleted", Actor.member(caller), workspace_id=workspace_id)),
                _owner(caller, workspace_id),
            ]
        )
    except TransactionCancelled as cancelled:
        _refuse_if_lost(caller, workspace_id, cancelled, "deleting the workspace")
        raise Conflict("the workspace still holds documents (trash included); purge them first") from None
    # The workspace is gone, so every access check already fails; this tidies the memberships and
    # the (empty) folders.
    _delete_partition(store, keys.workspace_pk(workspace_id), keys.member_prefix())
    _delete_partition(store, keys.folders_pk(workspace_id), None)


def _delete_partition(store: Store, partition: str, sk_prefix: str | None) -> None:
    while True:
        page = store.query(partition, sk_prefix=sk_prefix, limit=100, consistent=True)
        for item in page.items:
            store.delete({"pk": item["pk"], "sk": item["sk"]})
        if not page.next_cursor:
            return


def members(caller: Caller, workspace_id: str, *, limit: int, cursor: str | None) -> Page:
    workspace_access(caller, workspace_id)
    return Store().query(keys.workspace_pk(workspace_id), sk_prefix=keys.member_prefix(), limit=limit, cursor=cursor)


def add_member(caller: Caller, workspace_id: str, email: str, role: Role) -> tuple[Membership, bool]:
    """Add the user with ``email`` (an existing user) or change their role; ``True`` if added.

    An email no user has is a 422 on ``email``: the workspace exists, the input does not fit.
    """
    workspace_access(caller, workspace_id, Role.OWNER, what="managing members")
    user = user_directory.find_by_email(email)
    if user is None:
        raise InvalidInput("email", "no user has this email; an admin can invite them")
    if not user.email_verified:
        # Memberships bind to addresses Cognito has verified, never to one a user typed in.
        raise InvalidInput("email", "this user's email is not verified; an admin can re-invite them")
    return _set_role(caller, workspace_id, user.id, user.email, role, may_add=True)


def change_member_role(caller: Caller, workspace_id: str, user_id: str, role: Role) -> Membership:
    """Change an existing member's role (never leaving the workspace without an owner)."""
    workspace_access(caller, workspace_id, Role.OWNER, what="managing members")
    member, _ = _set_role(caller, workspace_id, user_id, None, role, may_add=False)
    return member


def _set_role(
    caller: Caller, workspace_id: str, user_id: str, email: str | None, role: Role, *, may_add: bool
) -> tuple[Membership, bool]:
    store = Store()
    ws_key = keys.workspace(workspace_id)
    at = clock.iso(clock.now())
    for _ in range(5):
        current = store.get(keys.membership(workspace_id, user_id)) if len(user_id) <= 128 else None
        if current is None and not may_add:
            raise NotFound("member not found")
        old = Role(current["role"]) if current else None
        if old == role:
            return Membership.from_item(current or {}), False
        address = email if current is None else current.get("email")
        event = AuditEvent(
            "member.added" if old is None else "member.role_changed",
            Actor.member(caller),
            workspace_id=workspace_id,
            details={"user_id": user_id, "email": address, "role": role.value, "previous_role": old},
        )
        actions: list[dict[str, Any]] = []
        if old is None:
            item = _membership_item(workspace_id, user_id, email or "", role, caller.user_id, at)
            actions.append({"Put": {"Item": item, "ConditionExpression": "attribute_not_exists(pk)"}})
        else:
            actions.append(
                {
                    "Update": {
                        "Key": keys.membership(workspace_id, user_id),
                        "UpdateExpression": "SET #role = :new",
                        "ConditionExpression": "#role = :old",
                        "ExpressionAttributeNames": {"#role": "role"},
                        "ExpressionAttributeValues": {":new": role.value, ":old": old.value},
                    }
                }
            )
        owner_delta = (role == Role.OWNER) - (old == Role.OWNER)
        ws_update: dict[str, Any] = {
            "Key": ws_key,
            "UpdateExpression": "ADD owner_count :d, member_count :m",
            "ConditionExpression": "attribute_exists(pk)",
            "ExpressionAttributeValues": {":d": owner_delta, ":m": int(old is None)},
        }
        if owner_delta < 0:
            ws_update["ConditionExpression"] += " AND owner_count > :one"
            ws_update["ExpressionAttributeValues"][":one"] = 1
        actions += [{"Update": ws_update}, audit.put_action(event)]
        if user_id != caller.user_id:  # on oneself, the membership's own condition is the check
            actions.append(_owner(caller, workspace_id))
        try:
            store.transact(actions)
        except TransactionCancelled as exc:
            if exc.reasons[1] == "ConditionalCheckFailed":
                _raise_workspace_conflict(store, workspace_id)
            if user_id != caller.user_id:
                _refuse_if_lost(caller, workspace_id, exc, "managing members")
            continue  # the membership changed meanwhile: look again
        if old is not None and old.at_least(Role.EDITOR) and not role.at_least(Role.EDITOR):
            uploads.abort_pending_of(workspace_id, user_id, Actor.member(caller), store)
        saved = store.get(keys.membership(workspace_id, user_id))
        if saved is None:
            # Removed since this change committed (a concurrent removal): answer the change as it applied.
            saved = actions[0]["Put"]["Item"] if old is None else {**(current or {}), "role": role.value}
        return Membership.from_item(saved), old is None
    raise Conflict("the membership is changing concurrently; try again")


def _raise_workspace_conflict(store: Store, workspace_id: str) -> None:
    if store.get(keys.workspace(workspace_id)) is None:
        raise NotFound("workspace not found")
    raise Conflict("a workspace must keep at least one owner")


def remove_member(caller: Caller, workspace_id: str, user_id: str) -> None:
    """Remove a member; never the last owner."""
    workspace_access(caller, workspace_id, Role.OWNER, what="managing members")
    store = Store()
    for _ in range(5):
        current = store.get(keys.membership(workspace_id, user_id)) if len(user_id) <= 128 else None
        if current is None:
            raise NotFound("member not found")
        old = Role(current["role"])
        ws_update: dict[str, Any] = {
            "Key": keys.workspace(workspace_id),
            "UpdateExpression": "ADD owner_count :d, member_count :m",
            "ConditionExpression": "attribute_exists(pk)",
            "ExpressionAttributeValues": {":d": -int(old == Role.OWNER), ":m": -1},
        }
        if old == Role.OWNER:
            ws_update["ConditionExpression"] += " AND owner_count > :one"
            ws_update["ExpressionAttributeValues"][":one"] = 1
        event = AuditEvent(
            "member.removed",
            Actor.member(caller),
            workspace_id=workspace_id,
            details={"user_id": user_id, "email": current.get("email"), "role": old.value},
        )
        try:
            store.transact(
                [
                    {
                        "Delete": {
                            "Key": keys.membership(workspace_id, user_id),
                            "ConditionExpression": "#role = :old",
                            "ExpressionAttributeNames": {"#role": "role"},
                            "ExpressionAttributeValues": {":old": old.value},
                        }
                    },
                    {"Update": ws_update},
                    audit.put_action(event),
                    *([_owner(caller, workspace_id)] if user_id != caller.user_id else []),
                ]
            )
            if old.at_least(Role.EDITOR):
                uploads.abort_pending_of(workspace_id, user_id, Actor.member(caller), store)
            return
        except TransactionCancelled as exc:
            if exc.reasons[1] == "ConditionalCheckFailed":
                _raise_workspace_conflict(store, workspace_id)
            if user_id != caller.user_id:
                _refuse_if_lost(caller, workspace_id, exc, "managing members")
    raise Conflict("the membership is changing concurrently; try again")
