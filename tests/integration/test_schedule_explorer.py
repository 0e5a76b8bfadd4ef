"""Every pair of mutating operations on one document, under every interleaving of their AWS calls
(up to a preemption bound), and the life-cycle promises of SPEC's Amendments checked after each.

The operations go through their routes (each thread with its own copy of the handler modules, as
two Lambda execution environments), the version landing through the upload-events function. The
bound is ``EXPLORE_SWITCHES`` (default 1 in ``make test``, on the first four pairs: the other operation slipped in whole
before any call, from either side; ``make explore`` runs 2).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest

from docuserve import keys
from docuserve.adapters.store import Store
from tests.support import schedule
from tests.support.documents import (
    User,
    add_member,
    create_document,
    create_workspace,
    land,
    make_user,
    ok,
    sha256_b64,
    upload,
)
from tests.support.gateway import call

SWITCHES = int(os.environ.get("EXPLORE_SWITCHES", "1"))
WRITES = {"TransactWriteItems", "PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem"}
EXPLORED: dict[str, int] = {}


@dataclass
class World:
    """One fresh scenario: alice owns the workspace, bob edits it; one document, one link, and one
    version upload bob started (its bytes not yet landed)."""

    aws: Any
    alice: User
    bob: User
    ws: str
    doc: str
    share_id: str
    token: str
    upload_id: str
    tokens: list[str] = field(default_factory=list)
    landed: dict[str, Any] = field(default_factory=dict)


@pytest.fixture
def people(aws: Any) -> tuple[User, User]:
    return make_user(aws, "alice@example.com"), make_user(aws, "bob@example.com")


def _world(aws: Any, alice: User, bob: User, ws: str, *, trashed: bool) -> World:
    add_member(alice, ws, bob, "editor")  # again: the last schedule may have removed or demoted him
    created = create_document(alice, ws, b"version one")
    upload(aws, created["upload"]["upload_id"], b"version one")
    doc = str(created["document"]["id"])
    link = ok(call("POST", f"/documents/{doc}/shares", claims=alice.claims, body={"expires_in_days": 2}), 201)
    body = {"size": len(b"version two"), "sha256": sha256_b64(b"version two")}
    started = ok(call("POST", f"/documents/{doc}/versions", claims=bob.claims, body=body), 201)
    if trashed:
        assert call("DELETE", f"/documents/{doc}", claims=alice.claims).status == 204
    return World(aws, alice, bob, ws, doc, link["id"], link["token"], started["upload_id"], [link["token"]])


Operation = Callable[[World, Callable[[str], Any]], Callable[[], Any]]


def _route(method: str, path: str, who: str, **kwargs: Any) -> Operation:
    def build(world: World, handler_of: Callable[[str], Any]) -> Callable[[], Any]:
        user = world.alice if who == "alice" else world.bob
        target = path.format(doc=world.doc, ws=world.ws, share=world.share_id, bob=world.bob.id)
        return lambda: call(method, target, claims=user.claims, handler_of=handler_of, **kwargs).status

    return build


def _create_share(world: World, handler_of: Callable[[str], Any]) -> Callable[[], Any]:
    def run() -> int:
        body = {"expires_in_days": 1}
        reply = call(
            "POST", f"/documents/{world.doc}/shares", claims=world.bob.claims, body=body, handler_of=handler_of
        )
        if reply.status == 201:
            world.tokens.append(reply.json()["token"])
        return reply.status

    return run


RETRY = 503  # the landing's message went back to SQS (batchItemFailures): delivered again later


def _landing_message(world: World) -> dict[str, Any]:
    from local.events import s3_object_created, sqs_event

    landed = world.landed
    body = s3_object_created(world.aws.bucket_name, landed["key"], landed["size"], version_id=landed["version_id"])
    return sqs_event([("m1", body)])


def _deliver(world: World, handler_of: Callable[[str], Any]) -> int:
    from tests.support.gateway import FakeContext

    result = handler_of("upload_events").handler(_landing_message(world), FakeContext())
    return 200 if result == {"batchItemFailures": []} else RETRY


def _land(world: World, handler_of: Callable[[str], Any]) -> Callable[[], Any]:
    def run() -> int:
        world.landed = land(world.aws, world.upload_id, b"version two")
        return _deliver(world, handler_of)

    return run


def _sweep(world: World, handler_of: Callable[[str], Any]) -> Callable[[], Any]:
    from docuserve import retention

    return lambda: 200 if retention.sweep().purged else 404


OPERATIONS: dict[str, tuple[Operation, bool]] = {
    # name: (operation, whether the document starts in the trash)
    "trash": (_route("DELETE", "/documents/{doc}", "alice"), False),
    "rename": (_route("PATCH", "/documents/{doc}", "alice", body={"name": "renamed.pdf"}), False),
    "move": (_route("PATCH", "/documents/{doc}", "alice", body={"folder": "archive"}), False),
    "land": (_land, False),
    "share": (_create_share, False),
    "edit-link": (_route("PATCH", "/shares/{share}", "alice", body={"label": "edited"}), False),
    "revoke-link": (_route("DELETE", "/shares/{share}", "alice"), False),
    "remove-bob": (_route("DELETE", "/workspaces/{ws}/members/{bob}", "alice"), False),
    "demote-bob": (_route("PUT", "/workspaces/{ws}/members/{bob}", "alice", body={"role": "viewer"}), False),
    "restore": (_route("POST", "/documents/{doc}/restore", "alice", body={}), True),
    "purge": (_route("DELETE", "/documents/{doc}", "alice", query={"purge": "true"}), True),
    "sweep": (_sweep, True),
}
BOB_WRITES = {"land", "share"}
TAKES_ROLE = {"remove-bob", "demote-bob"}
SUCCESS = {200, 201, 204}

# Pairs that meet on one document's state; each is explored from both sides. ``make test`` runs
# the first four (the seams SPEC's Amendments name); ``make explore`` runs them all.
PAIRS = [
    ("purge", "restore"),
    ("trash", "share"),
    ("share", "remove-bob"),
    ("land", "demote-bob"),
    ("purge", "land"),
    ("sweep", "restore"),
    ("trash", "land"),
    ("rename", "land"),
    ("sweep", "land"),
    ("trash", "rename"),
    ("trash", "move"),
    ("trash", "edit-link"),
    ("rename", "share"),
    ("land", "share"),
    ("land", "revoke-link"),
    ("share", "demote-bob"),
    ("land", "remove-bob"),
    ("restore", "edit-link"),
    ("restore", "land"),
    ("revoke-link", "edit-link"),
]
QUICK = 4
if os.environ.get("EXPLORE_PAIRS") != "all":
    PAIRS = PAIRS[:QUICK]


def _public(world: World, token: str) -> int:
    return call("GET", f"/public/shares/{token}").status


def _commit(run: schedule.Run, thread: int) -> int | None:
    """Where an operation committed: its (first) transaction, else its last single-item write."""
    calls = run.calls_of(thread)
    transactions = [n for n, name in calls if name == "dynamodb:TransactWriteItems"]
    writes = [n for n, name in calls if name.split(":")[1] in WRITES]
    return transactions[0] if transactions else (writes[-1] if writes else None)


def check(world: World, names: tuple[str, str], run: schedule.Run) -> None:
    assert run.errors == [None, None], run.errors
    outcome = dict(zip(names, run.results, strict=True))
    assert all(isinstance(s, int) and (s < 500 or s == RETRY) for s in run.results), outcome
    if outcome.get("land") == RETRY:
        # At least once: SQS delivers the message again, until it is processed or dropped.
        again = [_deliver(world, schedule.handler_copies("redelivery")) for _ in range(3)]
        assert again[-1] == 200, again

    seen = call("GET", f"/documents/{world.doc}", claims=world.alice.claims)
    s3 = boto3.client("s3", region_name=world.aws.region)
    if outcome.get("purge") in SUCCESS:
        assert seen.status == 404, seen.text
    if seen.status == 404:
        # Purged (by the owner or the sweeper): no object version, no item and no live link.
        listed = s3.list_object_versions(Bucket=world.aws.bucket_name, Prefix=f"documents/{world.ws}/{world.doc}/")
        assert not listed.get("Versions"), listed.get("Versions")
        assert not listed.get("DeleteMarkers"), listed.get("DeleteMarkers")
        assert Store().query(f"DOC#{world.doc}", limit=100, consistent=True).items == []
    document = seen.json() if seen.status == 200 else None
    current: dict[str, Any] | None = None
    if "land" in outcome and outcome["land"] in SUCCESS:
        # Processed is not landed: a landing refused (purging, role lost) is processed too.
        landed_now = document is not None and any(
            v["status"] == "available" and v["number"] > 1 for v in document["versions"]
        )
        outcome["land"] = 200 if landed_now else 409

    if document is not None:
        landed = [v for v in document["versions"] if v["status"] == "available"]
        numbers = [v["number"] for v in document["versions"]]
        assert len(numbers) == len(set(numbers)), numbers  # versions are unique
        if landed:
            highest = max(landed, key=lambda v: v["number"])
            assert document["current_version"] == highest["id"], document  # current = highest landed
            current = Store().get(keys.version(world.doc, highest["id"]))
        if document["status"] == "available":
            # No document available without its bytes.
            assert current is not None, document
            s3.head_object(Bucket=world.aws.bucket_name, Key=current["object_key"], VersionId=current["s3_version_id"])
            download = call("GET", f"/documents/{world.doc}/download", claims=world.alice.claims)
            assert download.status == 200, download.text

    # No link serves a document that is not available, and a served link serves the current version.
    for token in world.tokens:
        if _public(world, token) != 200:
            continue
        assert document is not None, token
        assert document["status"] == "available", (token, document)
        grant = call("POST", f"/public/shares/{token}/download", body={})
        if grant.status == 200:
            assert current is not None
            served = parse_qs(urlsplit(grant.json()["url"]).query).get("versionId", [None])[0]
            assert served == current["s3_version_id"], (served, current)

    # No write lands from a caller who had lost the role when it committed.
    for taker in TAKES_ROLE & set(names):
        for writer in BOB_WRITES & set(names):
            if outcome[taker] in SUCCESS and outcome[writer] in SUCCESS:
                taken, written = _commit(run, names.index(taker)), _commit(run, names.index(writer))
                assert taken is not None
                assert written is not None
                assert written < taken, f"{writer} committed at call {written}, after {taker} at {taken}"


@pytest.mark.parametrize(("first", "second"), PAIRS, ids=[f"{a}+{b}" for a, b in PAIRS])
def test_every_interleaving_of_two_operations_keeps_the_life_cycle_promises(
    aws: Any, people: tuple[User, User], first: str, second: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from docuserve import clock
    from docuserve.adapters import store as store_module
    from docuserve.settings import get_settings

    monkeypatch.setattr(store_module, "_pause", lambda _seconds: None)  # conflicts retry at once
    alice, bob = people
    (op_a, trashed_a), (op_b, trashed_b) = OPERATIONS[first], OPERATIONS[second]
    trashed = trashed_a or trashed_b
    worlds: list[World] = []
    ws = create_workspace(alice)
    copies = (schedule.handler_copies(f"{first}_a"), schedule.handler_copies(f"{second}_b"))
    later = clock.now() + timedelta(days=get_settings().limits.trash_days + 1)
    real_now = clock.now

    def setup() -> tuple[Callable[[], Any], Callable[[], Any]]:
        monkeypatch.setattr(clock, "now", real_now)
        world = _world(aws, alice, bob, ws, trashed=trashed)
        worlds.append(world)
        if "sweep" in (first, second):
            monkeypatch.setattr(clock, "now", lambda: later)  # the trash is past its retention now
        return op_a(world, copies[0]), op_b(world, copies[1])

    checked = 0

    def check_latest(run: schedule.Run) -> None:
        nonlocal checked
        monkeypatch.setattr(clock, "now", real_now)
        check(worlds[-1], (first, second), run)
        checked += 1

    explored = schedule.explore(setup, check_latest, switches=SWITCHES)
    EXPLORED[f"{first}+{second}"] = explored
    print(f"\nexplored {explored} interleavings of {first} and {second} ({SWITCHES} switch(es) at most)")
    assert explored == checked >= 4
