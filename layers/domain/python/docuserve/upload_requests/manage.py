"""Members managing upload requests (editor+ of the workspace), and admins' inventory and revoke.

A request id starts with its workspace id, so the caller's membership and the request's pointer
come back in one BatchGetItem (404 for a non-member, 403 for a viewer) before the request item is
read. Management events are written in the same transaction as the change they record. Closing
(``DELETE``) is a status change: the item stays, so uploads still running can give their
reservations back to it and its activity stays readable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from docuserve import audit, clock, ids, keys
from docuserve.access import holds_role, lost_role, refuse_lost_role, workspace_access
from docuserve.adapters.store import Page, Store, TransactionCancelled
from docuserve.audit import Actor, AuditEvent
from docuserve.errors import Conflict, Forbidden, InvalidInput, NotFound
from docuserve.identity import Caller
from docuserve.records import Membership
from docuserve.roles import Role
from docuserve.settings import get_settings
from docuserve.sharing.manage import chosen_expiry
from docuserve.sharing.passwords import hash_password
from docuserve.sharing.recipients import MAX_RECIPIENTS
from docuserve.sharing.tokens import new_token, token_hash
from docuserve.upload_requests.items import CLOSED, OPEN, TIDY_DAYS, UploadRequest, pointer_item, view_of

MAX_FILES = 1_000
NOT_FOUND = "upload request not found"


@dataclass(frozen=True)
class Terms:
    """A new request's terms, checked for type and shape at the edge (folder normalised, types parsed)."""

    folder: str = "/"
    max_files: int = 1
    max_bytes: int = 1
    expires_at: datetime | None = None
    expires_in_days: int | None = None
    password: str | None = None
    max_file_size: int | None = None
    allowed_types: list[str] | None = None
    message: str | None = None
    label: str | None = None
    recipients: list[str] | None = None  # normalised and de-duplicated at the edge; empty: no restriction


@dataclass(frozen=True)
class Changes(Terms):
    """An edit: only the fields named in ``given`` change; ``None`` removes password, limits, label, message."""

    given: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True)
class Created:
    request: UploadRequest
    token: str
    url: str


def request_url(token: str) -> str:
    return f"{get_settings().web_origin}/r/{token}"


# --- the settings-dependent rules (the models check types and shapes) ---


def _expiry(expires_at: datetime | None, expires_in_days: int | None, now: datetime) -> datetime:
    """A request always expires: the share-link rules, with their default when none is given."""
    chosen = chosen_expiry(expires_at, expires_in_days, now)
    return chosen or now + timedelta(days=get_settings().limits.share_default_days)


def _budgets(max_files: int, max_bytes: int, max_file_size: int | None) -> None:
    if not 1 <= max_files <= MAX_FILES:
        raise InvalidInput("max_files", f"must be between 1 and {MAX_FILES}")
    if max_bytes < 1:
        raise InvalidInput("max_bytes", "must be at least 1")
    largest = get_settings().limits.max_document_size
    if max_file_size is not None and not 1 <= max_file_size <= largest:
        raise InvalidInput("max_file_size", f"must be between 1 and {largest}")


def _recipients(value: list[str]) -> list[str]:
    if len(value) > MAX_RECIPIENTS:
        raise InvalidInput("recipients", f"at most {MAX_RECIPIENTS} addresses")
    return list(value)


def _password_hash(password: str) -> str:
    minimum = get_settings().limits.password_min_length
    if len(password) < minimum:
        raise InvalidInput("password", f"must be at least {minimum} characters")
    return hash_password(password)


def _expiry_attributes(moment: datetime, request_id: str) -> dict[str, Any]:
    at = clock.iso(moment)
    return {
        "expires_at": at,
        "expires_epoch": clock.epoch(moment),
        "ttl": clock.epoch(moment + timedelta(days=TIDY_DAYS)),
        **keys.open_request_index_keys(at, request_id),
    }


# --- members ---


def create_request(caller: Caller, workspace_id: str, terms: Terms, *, store: Store | None = None) -> Created:
    """A new open request (201); its token and URL are in the answer and nowhere else, ever."""
    store = store or Store()
    workspace_access(caller, workspace_id, Role.EDITOR, what="asking for files", store=store)
    _budgets(terms.max_files, terms.max_bytes, terms.max_file_size)
    now = clock.now()
    expiry = _expiry(terms.expires_at, terms.expires_in_days, now)
    request_id = ids.new_child_id(workspace_id)
    token = new_token()
    hashed = token_hash(token)
    at = clock.iso(now)
    item: dict[str, Any] = {
        **keys.upload_request(hashed),
        "type": "upload_request",
        "request_id": request_id,
        "workspace_id": workspace_id,
        "folder": terms.folder,
        "status": OPEN,
        "max_files": terms.max_files,
        "max_bytes": terms.max_bytes,
        "files_used": 0,
        "bytes_used": 0,
        "allowed_types": list(terms.allowed_types or []),
        "created_at": at,
        "created_by": caller.user_id,
        "requester_email": caller.email or None,
        "updated_at": at,
        "updated_by": caller.user_id,
        "gsi3pk": keys.workspace_requests_pk(workspace_id),
        "gsi3sk": f"{at}#{request_id}",
        **_expiry_attributes(expiry, request_id),
    }
    if terms.max_file_size is not None:
        item["max_file_size"] = terms.max_file_size
    if terms.password is not None:
        item["password_hash"] = _password_hash(terms.password)
    if terms.message:
        item["message"] = terms.message
    if terms.label:
        item["label"] = terms.label
    if terms.recipients:
        item["recipients"] = _recipients(terms.recipients)
    event = AuditEvent(
        "request.created",
        Actor.member(caller),
        workspace_id=workspace_id,
        request_id=request_id,
        details={
            "folder": terms.folder,
            "max_files": terms.max_files,
            "max_bytes": terms.max_bytes,
            "expires_at": item["expires_at"],
            "label": terms.label,
        },
    )
    try:
        store.transact(
            [
                {"Put": {"Item": {k: v for k, v in item.items() if v is not None},
                         "ConditionExpression": "attribute_not_exists(pk)"}},
                {"Put": {"Item": pointer_item(request_id, workspace_id, hashed, item["ttl"]),
                         "ConditionExpression": "attribute_not_exists(pk)"}},
                audit.put_action(event),
                holds_role(workspace_id, caller.user_id, Role.EDITOR),
            ]
        )  # fmt: skip
    except TransactionCancelled as cancelled:
        if lost_role(cancelled.reasons):
            refuse_lost_role(
                caller, workspace_id, Role.EDITOR, what="asking for files", not_found="workspace not found"
            )
        raise Conflict("the request could not be created; try again") from None
    return Created(request=view_of(item, clock.epoch(now)), token=token, url=request_url(token))


def list_requests(
    caller: Caller, workspace_id: str, *, limit: int, cursor: str | None, store: Store | None = None
) -> tuple[list[UploadRequest], str | None]:
    """A workspace's requests, newest first (editor+)."""
    store = store or Store()
    workspace_access(caller, workspace_id, Role.EDITOR, what="seeing upload requests", store=store)
    page = store.query(
        keys.workspace_requests_pk(workspace_id), index="gsi3", forward=False, limit=limit, cursor=cursor
    )
    now = clock.epoch(clock.now())
    return [view_of(i, now) for i in page.items if i.get("type") == "upload_request"], page.next_cursor


def _load(caller: Caller, request_id: str, store: Store, what: str, *, admin_may: bool = False) -> dict[str, Any]:
    """The request item, with the caller an editor of its workspace (or an admin, where allowed)."""
    workspace_id = ids.workspace_of(request_id)
    if workspace_id is None:
        raise NotFound(NOT_FOUND)
    pointer, member = store.get_many(
        [keys.upload_request_pointer(request_id), keys.membership(workspace_id, caller.user_id)]
    )
    if pointer is None:
        raise NotFound(NOT_FOUND)
    if member is None:
        if not (admin_may and caller.is_admin):
            raise NotFound(NOT_FOUND)
    else:
        membership = Membership.from_item(member)
        if not membership.role.at_least(Role.EDITOR) and not (admin_may and caller.is_admin):
            raise Forbidden(f"{what} needs the editor role or higher; you are {membership.role.value}")
    item = store.get(keys.upload_request(str(pointer["token_hash"])))
    if item is None:
        raise NotFound(NOT_FOUND)
    return item


def get_request(caller: Caller, request_id: str, *, store: Store | None = None) -> UploadRequest:
    return view_of(_load(caller, request_id, store or Store(), "seeing an upload request"))


_EDITABLE = ("expires_at", "expires_in_days", "password", "max_files", "max_bytes", "max_file_size",
             "allowed_types", "message", "label", "recipients")  # fmt: skip


def edit_request(caller: Caller, request_id: str, changes: Changes, *, store: Store | None = None) -> UploadRequest:
    """Change an open request's terms; budgets may not go below what is already reserved (409)."""
    store = store or Store()
    item = _load(caller, request_id, store, "editing an upload request")
    if item.get("status") == CLOSED:
        raise Conflict("this request is closed")
    given = changes.given
    sets: dict[str, Any] = {"updated_at": clock.iso(clock.now()), "updated_by": caller.user_id}
    removes: list[str] = []
    now = clock.now()
    if "expires_at" in given or "expires_in_days" in given:
        expiry = _expiry(changes.expires_at, changes.expires_in_days, now)
        sets |= _expiry_attributes(expiry, request_id)
    max_files = changes.max_files if "max_files" in given and changes.max_files is not None else item["max_files"]
    max_bytes = changes.max_bytes if "max_bytes" in given and changes.max_bytes is not None else item["max_bytes"]
    size = changes.max_file_size if "max_file_size" in given else item.get("max_file_size")
    _budgets(int(max_files), int(max_bytes), None if size is None else int(size))
    if "max_files" in given and changes.max_files is not None:
        sets["max_files"] = changes.max_files
    if "max_bytes" in given and changes.max_bytes is not None:
        sets["max_bytes"] = changes.max_bytes
    for name in ("max_file_size", "message", "label"):
        if name in given:
            value = getattr(changes, name)
            if value is None or value == "":
                removes.append(name)
            else:
                sets[name] = value
    if "allowed_types" in given:
        sets["allowed_types"] = list(changes.allowed_types or [])
    if "recipients" in given:
        if changes.recipients:
            sets["recipients"] = _recipients(changes.recipients)
        else:
            removes.append("recipients")
    if "password" in given:
        # A new, changed or removed password also restarts the failure count and ends a lock.
        sets["failed_attempts"] = 0
        removes += ["locked_until_epoch", "locked_until"]
        if changes.password is None:
            removes.append("password_hash")
        else:
            sets["password_hash"] = _password_hash(changes.password)
    event = AuditEvent(
        "request.edited",
        Actor.member(caller),
        workspace_id=item["workspace_id"],
        request_id=request_id,
        details={"changed": sorted(n for n in given if n in _EDITABLE)},
    )
    names = {f"#s{i}": k for i, k in enumerate(sets)} | {f"#r{i}": k for i, k in enumerate(removes)}
    values: dict[str, Any] = {f":s{i}": v for i, v in enumerate(sets.values())}
    expression = "SET " + ", ".join(f"#s{i} = :s{i}" for i in range(len(sets)))
    if removes:
        expression += " REMOVE " + ", ".join(f"#r{i}" for i in range(len(removes)))
    # Budgets below what is reserved would let the counters pass them: refused in the same write.
    condition = "#st = :open AND files_used <= :files AND bytes_used <= :bytes"
    values |= {":open": OPEN, ":files": int(max_files), ":bytes": int(max_bytes)}
    names["#st"] = "status"
    update = {
        "Update": {
            "Key": {"pk": item["pk"], "sk": item["sk"]},
            "UpdateExpression": expression,
            "ConditionExpression": condition,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }
    }
    try:
        store.transact([update, audit.put_action(event), holds_role(item["workspace_id"], caller.user_id, Role.EDITOR)])
    except TransactionCancelled as cancelled:
        if lost_role(cancelled.reasons):
            refuse_lost_role(caller, item["workspace_id"], Role.EDITOR, what="editing an upload request",
                             not_found=NOT_FOUND)  # fmt: skip
        raise Conflict("the request is closed, or its budgets are below what is already reserved") from None
    return get_request(caller, request_id, store=store)


def close_request(caller: Caller, request_id: str, *, store: Store | None = None) -> None:
    """Close (an editor) or revoke (an admin) a request: it stops accepting at once. Idempotent (204)."""
    store = store or Store()
    item = _load(caller, request_id, store, "closing an upload request", admin_may=True)
    if item.get("status") == CLOSED:
        return
    event = AuditEvent(
        "request.closed",
        Actor.member(caller),
        workspace_id=item["workspace_id"],
        request_id=request_id,
        details={"by_admin": caller.is_admin and item.get("created_by") != caller.user_id},
    )
    at = clock.iso(clock.now())
    try:
        store.transact(
            [
                {
                    "Update": {
                        "Key": {"pk": item["pk"], "sk": item["sk"]},
                        "UpdateExpression": "SET #st = :closed, closed_at = :at, closed_by = :by,"
                        " updated_at = :at, updated_by = :by REMOVE gsi4pk, gsi4sk",
                        "ConditionExpression": "#st = :open",
                        "ExpressionAttributeNames": {"#st": "status"},
                        "ExpressionAttributeValues": {":closed": CLOSED, ":open": OPEN, ":at": at,
                                                      ":by": caller.user_id},
                    }
                },
                audit.put_action(event),
            ]
        )  # fmt: skip
    except TransactionCancelled:
        return  # closed meanwhile


def request_activity(
    caller: Caller, request_id: str, *, limit: int, cursor: str | None, store: Store | None = None
) -> Page:
    store = store or Store()
    _load(caller, request_id, store, "seeing a request's activity", admin_may=True)
    return audit.request_events(request_id, limit=limit, cursor=cursor, store=store)


def open_requests(
    caller: Caller, *, limit: int, cursor: str | None, store: Store | None = None
) -> tuple[list[UploadRequest], str | None]:
    """Every open, unexpired request of the deployment, soonest expiry first (admins; one Query a page)."""
    if not caller.is_admin:
        raise Forbidden("the request inventory is for administrators")
    store = store or Store()
    now = clock.now()
    page = store.query(
        keys.OPEN_REQUESTS_PK, index="gsi4", sk_between=(clock.iso(now), "~"), limit=limit, cursor=cursor
    )
    at = clock.epoch(now)
    return [view_of(i, at) for i in page.items if i.get("type") == "upload_request"], page.next_cursor
