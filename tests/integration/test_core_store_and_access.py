"""The shared core on moto: cursors, conditional writes, the append-only audit trail, access checks."""

from __future__ import annotations

import pytest

from docuserve import audit, ids, keys
from docuserve.access import document_access, workspace_access
from docuserve.adapters.store import ConditionFailed, Store
from docuserve.errors import Forbidden, InvalidInput, NotFound
from docuserve.identity import Caller
from docuserve.roles import Role

pytestmark = pytest.mark.usefixtures("aws")

ALICE = Caller(user_id="alice", email="alice@example.com", groups=())
MALLORY = Caller(user_id="mallory", email="mallory@example.com", groups=())


def _workspace(store: Store, role: Role = Role.VIEWER) -> tuple[str, str]:
    ws = ids.new_workspace_id()
    doc = ids.new_child_id(ws)
    store.put({**keys.workspace(ws), "id": ws, "name": "W"})
    store.put({**keys.membership(ws, ALICE.user_id), "workspace_id": ws, "user_id": "alice", "role": role.value})
    store.put(
        {
            **keys.document(doc),
            "id": doc,
            "workspace_id": ws,
            "name": "a.txt",
            "folder": "/",
            "content_type": "text/plain",
            "size": 1,
            "sha256": "x",
            "status": "available",
            "created_at": "t",
            "created_by": "alice",
            "updated_at": "t",
            "updated_by": "alice",
        }
    )
    return ws, doc


def test_a_non_member_gets_not_found_for_workspace_and_document() -> None:
    ws, doc = _workspace(Store())
    with pytest.raises(NotFound):
        workspace_access(MALLORY, ws)
    with pytest.raises(NotFound):
        document_access(MALLORY, doc)


def test_a_member_with_too_low_a_role_gets_forbidden() -> None:
    _, doc = _workspace(Store(), Role.VIEWER)
    with pytest.raises(Forbidden):
        document_access(ALICE, doc, Role.EDITOR)
    assert document_access(ALICE, doc, Role.VIEWER).document.name == "a.txt"


@pytest.mark.parametrize("bad", ["", "nope", "../../etc", "x" * 300])
def test_malformed_ids_are_not_found(bad: str) -> None:
    with pytest.raises(NotFound):
        document_access(ALICE, bad)
    with pytest.raises(NotFound):
        workspace_access(ALICE, bad)


def test_an_unknown_version_is_not_found() -> None:
    ws, doc = _workspace(Store())
    with pytest.raises(NotFound, match="version"):
        document_access(ALICE, doc, version_id=ids.new_child_id(ws))


def test_audit_events_are_append_only_and_newest_first() -> None:
    store = Store()
    ws = ids.new_workspace_id()
    first = audit.AuditEvent(
        action="a.first", actor=audit.Actor.system(), workspace_id=ws, at="2026-01-01T00:00:00.000Z"
    )
    second = audit.AuditEvent(
        action="a.second", actor=audit.Actor.system(), workspace_id=ws, at="2026-01-02T00:00:00.000Z"
    )
    audit.record(first, store)
    audit.record(second, store)
    with pytest.raises(ConditionFailed):
        audit.record(first, store)  # the same event can never be rewritten
    page = audit.workspace_events(ws, limit=10, cursor=None, store=store)
    assert [audit.public_view(i)["action"] for i in page.items] == ["a.second", "a.first"]


def test_pages_chain_through_opaque_cursors() -> None:
    store = Store()
    ws = ids.new_workspace_id()
    for n in range(5):
        audit.record(audit.AuditEvent(action=f"e{n}", actor=audit.Actor.system(), workspace_id=ws), store)
    seen, cursor = [], None
    while True:
        page = audit.workspace_events(ws, limit=2, cursor=cursor, store=store)
        seen += [i["action"] for i in page.items]
        cursor = page.next_cursor
        if not cursor:
            break
    assert sorted(seen) == [f"e{n}" for n in range(5)]


def test_a_cursor_from_another_list_or_garbage_is_a_422_naming_cursor() -> None:
    store = Store()
    ws, other = ids.new_workspace_id(), ids.new_workspace_id()
    for n in range(3):
        audit.record(audit.AuditEvent(action=f"e{n}", actor=audit.Actor.system(), workspace_id=other), store)
    foreign = audit.workspace_events(other, limit=1, cursor=None, store=store).next_cursor
    for bad in (foreign, "%%%", "eyJ4IjoxfQ"):
        with pytest.raises(InvalidInput) as info:
            audit.workspace_events(ws, limit=1, cursor=bad, store=store)
        assert info.value.fields == {"cursor": info.value.fields["cursor"]}
