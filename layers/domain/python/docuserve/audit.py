"""The audit trail: append-only events, newest first, kept ``limits.audit_days``.

No code path updates or deletes an audit item: events are written with a condition that the key
is new, and only this module builds them. DynamoDB TTL expires them after the retention.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import timedelta
from typing import Any

from docuserve import clock, ids, keys
from docuserve.adapters.store import Page, Store
from docuserve.identity import Caller
from docuserve.settings import get_settings


@dataclass(frozen=True)
class Actor:
    """Who acted: a signed-in member/admin, a partner holding a share link, or the system."""

    type: str  # "member" | "partner" | "system"
    id: str  # user id, share id, or "system"
    email: str | None = None
    ip: str | None = None
    user_agent: str | None = None

    @classmethod
    def member(cls, caller: Caller, *, ip: str | None = None, user_agent: str | None = None) -> Actor:
        return cls(type="member", id=caller.user_id, email=caller.email, ip=ip, user_agent=user_agent)

    @classmethod
    def partner(cls, share_id: str, *, ip: str | None, user_agent: str | None) -> Actor:
        return cls(type="partner", id=share_id, ip=ip, user_agent=user_agent)

    @classmethod
    def system(cls) -> Actor:
        return cls(type="system", id="system")


@dataclass(frozen=True)
class AuditEvent:
    action: str  # dotted verb, e.g. "document.downloaded", "share.revoked"
    actor: Actor
    workspace_id: str | None = None
    document_id: str | None = None
    share_id: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    id: str = field(default_factory=ids.new_event_id)
    at: str = field(default_factory=lambda: clock.iso(clock.now()))
    request_id: str | None = None  # an upload request's events (listed by its activity route)


def event_item(event: AuditEvent) -> dict[str, Any]:
    """The DynamoDB item for ``event`` (also usable inside a transaction)."""
    sort = f"{event.at}#{event.id}"
    retention = timedelta(days=get_settings().limits.audit_days)
    item: dict[str, Any] = {
        "pk": keys.audit_pk(event.workspace_id),
        "sk": sort,
        "type": "audit",
        "id": event.id,
        "at": event.at,
        "action": event.action,
        "actor": {k: v for k, v in asdict(event.actor).items() if v is not None},
        "workspace_id": event.workspace_id,
        "document_id": event.document_id,
        "share_id": event.share_id,
        "details": event.details or None,
        "ttl": clock.epoch(clock.parse(event.at) + retention),
    }
    if event.document_id:
        item["gsi2pk"], item["gsi2sk"] = keys.audit_document_pk(event.document_id), sort
    if event.share_id:
        item["gsi3pk"], item["gsi3sk"] = keys.audit_share_pk(event.share_id), sort
    elif event.request_id:
        item["request_id"] = event.request_id
        item["gsi3pk"], item["gsi3sk"] = keys.audit_request_pk(event.request_id), sort
    return item


NEW_ITEM_ONLY = "attribute_not_exists(pk)"


def put_action(event: AuditEvent) -> dict[str, Any]:
    """A ``TransactWriteItems`` action that appends ``event`` atomically with other writes."""
    return {"Put": {"Item": event_item(event), "ConditionExpression": NEW_ITEM_ONLY}}


def record(event: AuditEvent, store: Store | None = None) -> None:
    """Append one event (a single PutItem that can never overwrite another event)."""
    (store or Store()).put(event_item(event), condition=NEW_ITEM_ONLY)


def public_view(item: dict[str, Any]) -> dict[str, Any]:
    """What the audit routes return for one event: an allow-list, never the raw item."""
    return {
        "id": item["id"],
        "at": item["at"],
        "action": item["action"],
        "actor": item.get("actor", {}),
        "workspace_id": item.get("workspace_id"),
        "document_id": item.get("document_id"),
        "share_id": item.get("share_id"),
        "request_id": item.get("request_id"),
        "details": item.get("details") or {},
    }


def workspace_events(workspace_id: str | None, *, limit: int, cursor: str | None, store: Store | None = None) -> Page:
    """A workspace's events (``None``: the admin trail), newest first."""
    return (store or Store()).query(keys.audit_pk(workspace_id), forward=False, limit=limit, cursor=cursor)


def document_events(document_id: str, *, limit: int, cursor: str | None, store: Store | None = None) -> Page:
    return (store or Store()).query(
        keys.audit_document_pk(document_id), index="gsi2", forward=False, limit=limit, cursor=cursor
    )


def share_events(share_id: str, *, limit: int, cursor: str | None, store: Store | None = None) -> Page:
    return (store or Store()).query(
        keys.audit_share_pk(share_id), index="gsi3", forward=False, limit=limit, cursor=cursor
    )


def request_events(request_id: str, *, limit: int, cursor: str | None, store: Store | None = None) -> Page:
    """An upload request's events, newest first."""
    return (store or Store()).query(
        keys.audit_request_pk(request_id), index="gsi3", forward=False, limit=limit, cursor=cursor
    )
