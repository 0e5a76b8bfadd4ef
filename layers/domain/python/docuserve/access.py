"""Authorization: who may do what to which object.

A non-member never learns that a workspace or document exists (404); a member whose role is
too low gets 403. Each check is one BatchGetItem: the object and the caller's membership.

A check at read time is not enough for a write: a removal or demotion can commit between the
check and the write. Every write that depends on a role therefore carries ``holds_role`` (a
``ConditionCheck`` on the membership item) in its own transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NoReturn

from docuserve import ids, keys
from docuserve.adapters.store import Store
from docuserve.errors import Forbidden, NotFound
from docuserve.identity import Caller
from docuserve.records import Document, Membership, Version
from docuserve.roles import Role


def _require(membership: Membership, min_role: Role, what: str) -> None:
    if not membership.role.at_least(min_role):
        raise Forbidden(f"{what} needs the {min_role.value} role or higher; you are {membership.role.value}")


@dataclass
class WorkspaceAccess:
    workspace: dict[str, Any]
    membership: Membership


def workspace_access(
    caller: Caller, workspace_id: str, min_role: Role = Role.VIEWER, *, what: str = "this", store: Store | None = None
) -> WorkspaceAccess:
    if not ids.is_valid(workspace_id) or ids.workspace_of(workspace_id) is not None:
        raise NotFound("workspace not found")
    workspace, member = (store or Store()).get_many(
        [keys.workspace(workspace_id), keys.membership(workspace_id, caller.user_id)]
    )
    if workspace is None or member is None:
        raise NotFound("workspace not found")
    membership = Membership.from_item(member)
    _require(membership, min_role, what)
    return WorkspaceAccess(workspace=workspace, membership=membership)


@dataclass
class DocumentAccess:
    document: Document
    membership: Membership
    version: Version | None


def document_access(
    caller: Caller,
    document_id: str,
    min_role: Role = Role.VIEWER,
    *,
    version_id: str | None = None,
    what: str = "this",
    store: Store | None = None,
) -> DocumentAccess:
    """The document, the caller's membership and (if asked) one version, in one round trip.

    ``version_id`` that does not exist is a 404 (``NotFound``) naming the version.
    """
    workspace_id = ids.workspace_of(document_id)
    if workspace_id is None:
        raise NotFound("document not found")
    wanted = [keys.document(document_id), keys.membership(workspace_id, caller.user_id)]
    if version_id is not None:
        if ids.workspace_of(version_id) != workspace_id:
            raise NotFound("version not found")
        wanted.append(keys.version(document_id, version_id))
    found = (store or Store()).get_many(wanted)
    document, member = found[0], found[1]
    if document is None or member is None:
        raise NotFound("document not found")
    membership = Membership.from_item(member)
    _require(membership, min_role, what)
    version = None
    if version_id is not None:
        if found[2] is None:
            raise NotFound("version not found")
        version = Version.from_item(found[2])
    return DocumentAccess(document=Document.from_item(document), membership=membership, version=version)


# --- re-checked at write time ------------------------------------------------------------------


def holds_role(workspace_id: str, user_id: str, min_role: Role) -> dict[str, Any]:
    """``ConditionCheck``: the user is still a member with ``min_role`` or higher.

    Goes last into every transaction whose write depends on the caller's role, so a removal or
    demotion committed after the access check makes the write fail (``refuse_lost_role``).
    """
    allowed = [r.value for r in Role if r.at_least(min_role)]
    names = ", ".join(f":role{i}" for i in range(len(allowed)))
    return {
        "ConditionCheck": {
            "Key": keys.membership(workspace_id, user_id),
            "ConditionExpression": f"#role IN ({names})",
            "ExpressionAttributeNames": {"#role": "role"},
            "ExpressionAttributeValues": {f":role{i}": r for i, r in enumerate(allowed)},
        }
    }


def lost_role(reasons: list[str]) -> bool:
    """Whether the ``holds_role`` check (the last action) is what cancelled a transaction."""
    return bool(reasons) and reasons[-1] == "ConditionalCheckFailed"


def refuse_lost_role(
    caller: Caller, workspace_id: str, min_role: Role, *, what: str, not_found: str, store: Store | None = None
) -> NoReturn:
    """Raise what the caller gets now that their role changed under a write: 404 removed, 403 demoted."""
    member = (store or Store()).get(keys.membership(workspace_id, caller.user_id))
    if member is None:
        raise NotFound(not_found)
    _require(Membership.from_item(member), min_role, what)
    raise Forbidden(f"{what} needs the {min_role.value} role or higher")  # changed back meanwhile: refuse anyway
