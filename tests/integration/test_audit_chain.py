"""The audit chain: the audit-stream function chains each workspace's events exactly once, in one order."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest

from docuserve import audit, audit_chain
from docuserve.adapters.store import Store
from docuserve.custody import chain
from docuserve.settings import get_settings
from tests.support.gateway import call
from tests.support.links import OWNER, claims, fast_passwords, seed  # noqa: F401  (fixture)
from tests.support.streams import audit_stream

pytestmark = pytest.mark.usefixtures("aws", "fast_passwords")


def _activity(times: int = 2) -> Any:
    """Two member events per round: two folders created."""
    s = seed()
    for n in range(times):
        _round(s, n)
    return s


def _round(s: Any, n: int) -> None:
    for name in ("a", "b"):
        made = call("POST", f"/workspaces/{s.workspace_id}/folders", claims=claims(OWNER), body={"path": f"/{name}{n}"})
        assert made.status == 201, made.json()


def _links(ws: str) -> list[dict[str, Any]]:
    return audit_chain.links(ws, from_seq=1, limit=1000)


def assert_one_unbroken_chain(ws: str) -> list[dict[str, Any]]:
    """Seqs 1..n, each link naming the one before and hashing its own event; no event twice."""
    found = _links(ws)
    prev = chain.GENESIS
    for number, link in enumerate(found, start=1):
        assert link["seq"] == number
        assert link["prev_hash"] == prev
        assert link["hash"] == chain.link_hash(number, prev, json.loads(link["event"]))
        prev = link["hash"]
    assert len({link["event_id"] for link in found}) == len(found)
    head = audit_chain.head(ws)
    assert head is not None
    assert (head["seq"], head["hash"]) == (len(found), prev)
    return found


def _workspace_event_ids(ws: str) -> set[str]:
    return {item["id"] for item in audit.workspace_events(ws, limit=1000, cursor=None).items}


def test_every_workspace_event_is_chained_once_in_stream_order() -> None:
    s = _activity()
    audit_stream(get_settings().table_name).drain()
    found = assert_one_unbroken_chain(s.workspace_id)
    # Every event of the workspace, none twice.
    assert {link["event_id"] for link in found} == _workspace_event_ids(s.workspace_id)
    assert len(found) == 4


def test_a_redelivered_stream_appends_nothing_new() -> None:
    s = _activity()
    table = get_settings().table_name
    audit_stream(table).drain()
    before = _links(s.workspace_id)
    audit_stream(table).drain()  # a second reader from the stream's start: every record again
    assert _links(s.workspace_id) == before


class _OneCallAtATime:
    """The DynamoDB client with each call atomic, as each DynamoDB request is (in-process moto has
    no locks; the local stack does the same in ``local.cloud.one_call_at_a_time``)."""

    def __init__(self, client: Any) -> None:
        self._client, self._lock = client, threading.Lock()

    def __getattr__(self, name: str) -> Any:
        call = getattr(self._client, name)

        def atomic(*args: Any, **kwargs: Any) -> Any:
            with self._lock:
                return call(*args, **kwargs)

        return atomic


def test_concurrent_appends_never_fork_or_duplicate(monkeypatch: pytest.MonkeyPatch) -> None:
    """Eight threads append the same twelve events, each in its own order: one chain of twelve."""
    s = _activity(times=1)
    client = _OneCallAtATime(Store()._client)
    monkeypatch.setattr(Store, "_client", property(lambda self: client))
    ws = s.workspace_id
    events = [
        audit.event_item(
            audit.AuditEvent(action="document.viewed", actor=audit.Actor.system(), workspace_id=ws, details={"n": n})
        )
        for n in range(12)
    ]
    errors: list[BaseException] = []

    def run(offset: int) -> None:
        try:
            store = Store()
            for n in range(len(events)):
                audit_chain.append(events[(n + offset) % len(events)], store)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    found = assert_one_unbroken_chain(ws)
    assert {link["event_id"] for link in found} == {e["id"] for e in events}


def test_a_cancelled_operation_transaction_leaves_the_chain_consistent() -> None:
    """A refused workspace deletion is a cancelled transaction (moto then replaces the table and
    its stream shard): it writes no event, and later events still chain after the earlier ones."""
    s = _activity(times=1)
    reader = audit_stream(get_settings().table_name)
    reader.drain()
    assert call("DELETE", f"/workspaces/{s.workspace_id}", claims=claims(OWNER)).status == 409
    _round(s, 1)
    reader.drain()
    found = assert_one_unbroken_chain(s.workspace_id)
    assert {x["event_id"] for x in found} == _workspace_event_ids(s.workspace_id)
    assert len(found) == 4


def test_the_admin_trail_is_not_chained() -> None:
    item = audit.event_item(audit.AuditEvent(action="user.invited", actor=audit.Actor.system()))
    assert audit_chain.append(item) is None


def test_partner_events_the_stream_materialises_are_chained_too() -> None:
    """A download's event rides on the link item; the stream appends it as an audit item, whose own
    INSERT then comes back through the stream and is chained after the member's events."""
    s = seed()
    link = call("POST", f"/documents/{s.document_id}/shares", claims=claims(OWNER), body={}).json()
    assert call("POST", f"/public/shares/{link['token']}/download", body={}).status == 200
    audit_stream(get_settings().table_name).drain()
    found = assert_one_unbroken_chain(s.workspace_id)
    actions = [json.loads(x["event"])["action"] for x in found]
    assert actions == ["share.created", "share.downloaded"]
