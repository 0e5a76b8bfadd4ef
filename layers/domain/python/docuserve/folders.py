"""Explicit folders: a folder of a workspace that exists on its own, empty or not.

A document's ``folder`` is a path and needs no folder item: a document implies its folder and every
parent of it. An explicit folder item (``keys.folder``) makes a folder exist while nothing is in it,
as "New folder" does in Box or Drive. A workspace's folders are therefore the explicit ones merged
with those its documents imply; the web app shows both.

Rules:

- Creating a folder creates its missing parents too (each audited ``folder.created``) and is
  idempotent: an existing folder is answered as it is, and nothing is written.
- A folder is deleted (``folder.deleted``) only while nothing is in it: no document, live or in the
  trash, in it or below it, and no explicit subfolder. Otherwise 409.

Concurrency, under DynamoDB's semantics (transactions on items, no predicate locks):

- *Create a subfolder vs delete its parent.* Creating ``/a/b`` writes ``/a`` in the same
  transaction: a missing parent is put (``attribute_not_exists``), an existing one has its
  ``revision`` bumped (``attribute_exists``). Deleting ``/a`` is conditional on the ``revision`` it
  read before looking for subfolders. Whichever commits second sees the other: a delete after the
  create fails its condition (409, the subfolder is there now); a create after the delete fails
  its condition and retries from a fresh read, putting ``/a`` back. No explicit folder is ever
  left without its parent.
- *Delete a folder vs upload into it.* Creating a document does not touch folder items (a document
  may go into any folder path, explicit or not), and the "is anything in it" check reads the
  documents' listing indexes, which are eventually consistent. So a delete can commit just after a
  document arrives in the folder. That document is not lost or hidden: its own ``folder`` implies
  the folder, so the workspace's listing shows the folder again, with the document in it (only
  the explicit item is gone, which changes nothing while the folder is not empty). Locking every
  upload on its folder item would put one more write, and a hot item, on every upload for a
  window this harmless.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from docuserve import audit, clock, keys
from docuserve.access import holds_role, lost_role, refuse_lost_role, workspace_access
from docuserve.adapters.store import Contended, Page, Store, TransactionCancelled
from docuserve.audit import Actor, AuditEvent
from docuserve.errors import Conflict, NotFound
from docuserve.identity import Caller
from docuserve.roles import Role

CREATE_ATTEMPTS = 5  # fresh reads after a concurrent create or delete of the same folders
LEVELS_PER_TRANSACTION = 45  # 2 actions per new level + the role check stay under DynamoDB's 100
DOCUMENTS_PAGE = 500  # items read per Query while looking for a document below a folder


@dataclass(frozen=True)
class Folder:
    workspace_id: str
    path: str
    created_at: str
    created_by: str

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]

    @property
    def parent(self) -> str:
        return self.path.rsplit("/", 1)[0] or "/"

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> Folder:
        return cls(
            workspace_id=item["workspace_id"],
            path=item["path"],
            created_at=item["created_at"],
            created_by=item["created_by"],
        )


def lineage(path: str) -> list[str]:
    """``/a/b/c`` → ``["/a", "/a/b", "/a/b/c"]``: the folder and every parent below the root."""
    parts = [p for p in path.split("/") if p]
    return ["/" + "/".join(parts[: i + 1]) for i in range(len(parts))]


def _item(workspace_id: str, path: str, caller: Caller, at: str) -> dict[str, Any]:
    return {
        **keys.folder(workspace_id, path),
        "type": "folder",
        "workspace_id": workspace_id,
        "path": path,
        "created_at": at,
        "created_by": caller.user_id,
        "revision": 0,
    }


def create(caller: Caller, workspace_id: str, path: str) -> tuple[Folder, bool]:
    """The folder at ``path`` (a normalised path below the root), created with its missing parents.

    Returns the folder and whether this call created it (``False``: it already existed).
    """
    store = Store()
    workspace_access(caller, workspace_id, Role.EDITOR, what="creating folders", store=store)
    chain = lineage(path)
    for _ in range(CREATE_ATTEMPTS):
        found: list[dict[str, Any] | None] = []
        for start in range(0, len(chain), 100):
            found += store.get_many([keys.folder(workspace_id, p) for p in chain[start : start + 100]])
        if found[-1] is not None:
            return Folder.from_item(found[-1]), False
        at = clock.iso(clock.now())
        try:
            # Top-down, so a transaction that commits never leaves a folder without its parent.
            for start in range(0, len(chain), LEVELS_PER_TRANSACTION):
                levels = list(zip(chain, found, strict=True))[start : start + LEVELS_PER_TRANSACTION]
                store.transact(_create_actions(caller, workspace_id, levels, at))
        except TransactionCancelled as cancelled:
            if lost_role(cancelled.reasons):
                refuse_lost_role(
                    caller, workspace_id, Role.EDITOR, what="creating folders", not_found="workspace not found"
                )
            continue  # a concurrent create or delete of one of these folders: read again
        return Folder(workspace_id, path, at, caller.user_id), True
    raise Contended()


def _create_actions(
    caller: Caller, workspace_id: str, levels: list[tuple[str, dict[str, Any] | None]], at: str
) -> list[dict[str, Any]]:
    actions: list[dict[str, Any]] = []
    for level, existing in levels:
        if existing is None:
            actions.append(
                {
                    "Put": {
                        "Item": _item(workspace_id, level, caller, at),
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                }
            )
            event = AuditEvent(
                "folder.created", Actor.member(caller), workspace_id=workspace_id, details={"path": level}
            )
            actions.append(audit.put_action(event))
        else:
            # A parent that exists: bump its revision, so a delete of it that read the old one fails.
            actions.append(
                {
                    "Update": {
                        "Key": keys.folder(workspace_id, level),
                        "UpdateExpression": "ADD revision :one",
                        "ConditionExpression": "attribute_exists(pk)",
                        "ExpressionAttributeValues": {":one": 1},
                    }
                }
            )
    actions.append(holds_role(workspace_id, caller.user_id, Role.EDITOR))
    return actions


def list_folders(
    caller: Caller, workspace_id: str, *, limit: int, cursor: str | None
) -> tuple[list[Folder], str | None]:
    """One page of the workspace's explicit folders, by path."""
    store = Store()
    workspace_access(caller, workspace_id, store=store)
    page: Page = store.query(keys.folders_pk(workspace_id), limit=limit, cursor=cursor, consistent=True)
    return [Folder.from_item(i) for i in page.items], page.next_cursor


def delete(caller: Caller, workspace_id: str, path: str) -> None:
    """Delete the explicit folder at ``path`` if nothing is in it (409 otherwise, 404 if there is none)."""
    store = Store()
    access = workspace_access(caller, workspace_id, Role.EDITOR, what="deleting folders", store=store)
    item = store.get(keys.folder(workspace_id, path))
    # "Not empty" before "not found": a folder only its documents imply is there, just not deletable.
    below = store.query(keys.folders_pk(workspace_id), sk_prefix=keys.subfolder_prefix(path), limit=1, consistent=True)
    if below.items:
        raise Conflict("the folder has subfolders; delete them first")
    if _holds_documents(store, workspace_id, path, int(access.workspace.get("document_count", 0) or 0)):
        raise Conflict("the folder is not empty (documents in the trash count too); move or purge them first")
    if item is None:
        raise NotFound("folder not found")
    event = AuditEvent("folder.deleted", Actor.member(caller), workspace_id=workspace_id, details={"path": path})
    try:
        store.transact(
            [
                {
                    "Delete": {
                        "Key": keys.folder(workspace_id, path),
                        "ConditionExpression": "revision = :seen",
                        "ExpressionAttributeValues": {":seen": item.get("revision", 0)},
                    }
                },
                audit.put_action(event),
                holds_role(workspace_id, caller.user_id, Role.EDITOR),
            ]
        )
    except TransactionCancelled as cancelled:
        if lost_role(cancelled.reasons):
            refuse_lost_role(
                caller, workspace_id, Role.EDITOR, what="deleting folders", not_found="workspace not found"
            )
        if store.get(keys.folder(workspace_id, path)) is None:
            raise NotFound("folder not found") from None
        raise Conflict("a subfolder was created in this folder meanwhile; it is not empty") from None


def _holds_documents(store: Store, workspace_id: str, path: str, document_count: int) -> bool:
    """Whether any document, live or trashed, is in ``path`` or below it."""
    if document_count <= 0:
        return False  # the workspace counts its documents (trash included) until they are purged
    for state in (keys.LIVE, keys.TRASH):
        if store.query(keys.folder_listing_pk(workspace_id, state, path), index="gsi1", limit=1).items:
            return True
    # Below it: documents name their folder, not its parents, so look through the workspace's
    # documents for a folder under this one (read only when the folder itself holds none).
    for state in (keys.LIVE, keys.TRASH):
        cursor: str | None = None
        while True:
            page = store.query(
                keys.documents_listing_pk(workspace_id, state),
                index="gsi2",
                limit=DOCUMENTS_PAGE,
                cursor=cursor,
                filter_expression="begins_with(#folder, :below)",
                names={"#folder": "folder"},
                expression_values={":below": keys.subfolder_prefix(path)},
            )
            if page.items:
                return True
            cursor = page.next_cursor
            if not cursor:
                break
    return False
