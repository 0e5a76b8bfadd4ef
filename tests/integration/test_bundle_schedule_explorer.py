"""A bundle's link at the documents/sharing seam, under every interleaving of two operations' AWS
calls (``tests.support.schedule``, as ``test_schedule_explorer`` does for a one-document link).

The world: alice owns two documents, A and B, shared as one bundle link that allows ``LIMIT``
downloads (``LIMIT - 1`` already spent when a pair has two partner downloads), and a new version of
A she started uploading. The operations go through their routes: partners download A's or B's
file, alice trashes, purges, renames A or lands its new version, edits the link's limit or revokes
it. After each run: the count equals the downloads served and never passes the limit in force; a
file is served only while its document was available; a change to A never takes B's file away;
every entry the partner page lists as available is its document's current version, and every
other is refused.

``make test`` runs ``QUICK_PAIRS``; ``make explore`` (``EXPLORE_PAIRS=all``) runs ``ALL_PAIRS``.
"""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from docuserve import keys
from docuserve.adapters.store import Store
from docuserve.sharing.tokens import token_hash
from tests.integration.test_schedule_explorer import RETRY, SUCCESS, _commit, _labels, _record
from tests.support import schedule
from tests.support.documents import (
    User,
    create_document,
    create_workspace,
    land,
    make_user,
    object_key_of,
    ok,
    sha256_b64,
    upload,
)
from tests.support.faults import forget_stream_records
from tests.support.gateway import FakeContext, call

SWITCHES = int(os.environ.get("EXPLORE_SWITCHES", "1"))
LIMIT = 2


@dataclass
class World:
    aws: Any
    alice: User
    ws: str
    a: str
    b: str
    share_id: str
    token: str
    upload_id: str
    grants: int = 0
    landed: dict[str, Any] = field(default_factory=dict)


def _document(aws: Any, alice: User, ws: str, name: str, data: bytes) -> str:
    created = create_document(alice, ws, data, name=name)
    upload(aws, created["upload"]["upload_id"], data)
    return str(created["document"]["id"])


def _world(aws: Any, alice: User, ws: str, *, trashed: bool, spent: int) -> World:
    a = _document(aws, alice, ws, "a.pdf", b"a, version one")
    b = _document(aws, alice, ws, "b.pdf", b"b, version one")
    terms = {"document_ids": [a, b], "expires_in_days": 2, "max_downloads": LIMIT}
    link = ok(call("POST", f"/workspaces/{ws}/shares", claims=alice.claims, body=terms), 201)
    for _ in range(spent):
        ok(call("POST", f"/public/shares/{link['token']}/download", body={"document_id": b}))
    body = {"size": len(b"a, version two"), "sha256": sha256_b64(b"a, version two")}
    started = ok(call("POST", f"/documents/{a}/versions", claims=alice.claims, body=body), 201)
    if trashed:
        assert call("DELETE", f"/documents/{a}", claims=alice.claims).status == 204
    return World(aws, alice, ws, a, b, link["id"], link["token"], started["upload_id"], grants=spent)


Operation = Callable[[World, Callable[[str], Any]], Callable[[], Any]]


def _member(method: str, path: str, **kwargs: Any) -> Operation:
    def build(world: World, handler_of: Callable[[str], Any]) -> Callable[[], Any]:
        target = path.format(a=world.a, share=world.share_id)
        return lambda: call(method, target, claims=world.alice.claims, handler_of=handler_of, **kwargs).status

    return build


def _get(which: str) -> Operation:
    def build(world: World, handler_of: Callable[[str], Any]) -> Callable[[], Any]:
        body = {"document_id": world.a if which == "a" else world.b}
        return lambda: call("POST", f"/public/shares/{world.token}/download", body=body, handler_of=handler_of).status

    return build


def _land(world: World, handler_of: Callable[[str], Any]) -> Callable[[], Any]:
    from local.events import s3_object_created, sqs_event

    key = object_key_of(world.upload_id)  # read now: the client's PUT never reads it

    def run() -> int:
        world.landed = landed = land(world.aws, world.upload_id, b"a, version two", key=key)
        created = s3_object_created(world.aws.bucket_name, key, landed["size"], version_id=landed["version_id"])
        result = handler_of("upload_events").handler(sqs_event([("m1", created)]), FakeContext())
        return 200 if result == {"batchItemFailures": []} else RETRY

    return run


OPERATIONS: dict[str, tuple[Operation, bool]] = {
    # name: (operation, whether A starts in the trash)
    "get-a": (_get("a"), False),
    "get-b": (_get("b"), False),
    "trash-a": (_member("DELETE", "/documents/{a}"), False),
    "purge-a": (_member("DELETE", "/documents/{a}", query={"purge": "true"}), True),
    "rename-a": (_member("PATCH", "/documents/{a}", body={"name": "renamed.pdf"}), False),
    "land-a": (_land, False),
    "edit-limit": (_member("PATCH", "/shares/{share}", body={"max_downloads": 1}), False),
    "revoke": (_member("DELETE", "/shares/{share}"), False),
}
DOWNLOADS = ("get-a", "get-b")
MEMBER_SIDE = [name for name in OPERATIONS if name not in DOWNLOADS]
# Each partner download meets every member-side operation and each download (itself included).
ALL_PAIRS = [(get, other) for get in DOWNLOADS for other in MEMBER_SIDE] + list(
    itertools.combinations_with_replacement(DOWNLOADS, 2)
)
# ``make test``: a file download against its document's trash, and two partners' files racing for the
# link's last download (each interleaving builds a fresh world: about 3 s each on a quiet machine).
QUICK_PAIRS = [("get-a", "trash-a"), ("get-a", "get-b")]
PAIRS = ALL_PAIRS if os.environ.get("EXPLORE_PAIRS") == "all" else QUICK_PAIRS
assert {frozenset(p) for p in QUICK_PAIRS} <= {frozenset(p) for p in ALL_PAIRS}


def _served_version(token: str, document_id: str) -> str | None:
    grant = call("POST", f"/public/shares/{token}/download", body={"document_id": document_id})
    assert grant.status == 200, grant.text
    return parse_qs(urlsplit(grant.json()["url"]).query).get("versionId", [None])[0]


def check(world: World, names: tuple[str, str], run: schedule.Run) -> None:
    assert run.errors == [None, None], run.errors
    outcome = dict(zip(names, run.results, strict=True))
    assert all(isinstance(s, int) and (s < 500 or s == RETRY) for s in run.results), outcome
    gets = [label for label in names if label.removesuffix("-2") in DOWNLOADS]

    # The count is the downloads served, under the limit in force when each was counted.
    served = [label for label in gets if outcome[label] == 200]
    link = Store().get(keys.link(token_hash(world.token)))
    assert link is not None
    assert int(link["download_count"]) == world.grants + len(served), (link["download_count"], served)
    assert world.grants + len(served) <= LIMIT
    if outcome.get("edit-limit") in SUCCESS:
        assert link.get("max_downloads") == 1, link.get("max_downloads")
        edited = _commit(run, names.index("edit-limit"))
        assert edited is not None
        after = [label for label in served if (_commit(run, names.index(label)) or 0) > edited]
        assert not after or world.grants + len(served) <= 1, f"{after} counted past the limit set at call {edited}"
    if outcome.get("revoke") in SUCCESS:
        revoked = _commit(run, names.index("revoke"))
        for label in served:
            spent = _commit(run, names.index(label))
            assert spent is not None
            assert revoked is not None
            assert spent < revoked, f"{label} counted at {spent}, after the revoke at {revoked}"

    # A's file is served only while A was available: never if it started in the trash, never after
    # the trash committed. A change to A never refuses B's file.
    document = call("GET", f"/documents/{world.a}", claims=world.alice.claims)
    a_available = document.status == 200 and document.json()["status"] == "available"
    for label in served:
        if label.startswith("get-a"):
            started_trashed = OPERATIONS[names[0]][1] or OPERATIONS[names[1].removesuffix("-2")][1]
            assert not started_trashed, (label, "served a file whose document started in the trash")
            if "trash-a" in names and not a_available:
                trashed = [n for n, c in run.calls_of(names.index("trash-a")) if c == "dynamodb:TransactWriteItems"]
                counted = _commit(run, names.index(label))
                assert trashed
                assert counted is not None
                assert counted < trashed[-1], f"{label} counted at {counted}, after the trash at {trashed[-1]}"
    for label in gets:
        if label.startswith("get-b") and outcome[label] != 200:
            # Refused only by the link itself: revoked, or its downloads used up.
            assert outcome.get("revoke") in SUCCESS or world.grants + len(served) >= LIMIT, (label, outcome)

    # The partner page lists each file as available exactly when its document is; an available one
    # serves its document's current version, an unavailable one is refused.
    page = call("GET", f"/public/shares/{world.token}")
    if page.status != 200 or int(link["download_count"]) >= LIMIT:
        return
    files = {f["document_id"]: f for f in page.json()["files"]}
    assert files[world.b]["available"] is True, files
    assert files[world.a]["available"] is a_available, (files[world.a], document.text)
    if a_available:
        current = Store().get(keys.version(world.a, document.json()["current_version"]))
        assert current is not None
        assert _served_version(world.token, world.a) == current["s3_version_id"]
        if outcome.get("rename-a") in SUCCESS:
            assert files[world.a]["name"] == "renamed.pdf", files[world.a]
    else:
        refused = call("POST", f"/public/shares/{world.token}/download", body={"document_id": world.a})
        assert refused.status == 410, refused.text


def _explore(aws: Any, alice: User, monkeypatch: pytest.MonkeyPatch, pair: tuple[str, str]) -> int:
    from docuserve.adapters import store as store_module

    monkeypatch.setattr(store_module, "_pause", lambda _seconds: None)  # conflicts retry at once
    first, second = pair
    names = _labels(first, second)
    (op_a, trashed_a), (op_b, trashed_b) = OPERATIONS[first], OPERATIONS[second]
    spent = LIMIT - 1 if first in DOWNLOADS and second in DOWNLOADS else 0  # two partners, one download left
    worlds: list[World] = []
    ws = create_workspace(alice)
    copies = (schedule.handler_copies(f"bundle_{names[0]}_a"), schedule.handler_copies(f"bundle_{names[1]}_b"))

    def setup() -> tuple[Callable[[], Any], Callable[[], Any]]:
        forget_stream_records()  # nothing here reads the stream
        world = _world(aws, alice, ws, trashed=trashed_a or trashed_b, spent=spent)
        worlds.append(world)
        return op_a(world, copies[0]), op_b(world, copies[1])

    checked = 0

    def check_latest(run: schedule.Run) -> None:
        nonlocal checked
        check(worlds[-1], names, run)
        checked += 1

    started = time.monotonic()
    explored = schedule.explore(setup, check_latest, switches=SWITCHES)
    _record(f"bundle:{first}+{second}", explored, SWITCHES, time.monotonic() - started)
    assert explored == checked >= 2
    return explored


@pytest.mark.parametrize(("first", "second"), PAIRS, ids=lambda value: str(value))
def test_every_interleaving_at_a_bundle_keeps_its_promises(
    aws: Any, first: str, second: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _explore(aws, make_user(aws, "alice@example.com"), monkeypatch, (first, second))
