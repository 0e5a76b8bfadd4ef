"""Every pair of mutating operations on one document, under every interleaving of their AWS calls
(up to a preemption bound), and the life-cycle promises of SPEC's Amendments checked after each.

The operations go through their routes (each thread with its own copy of the handler modules, as
two Lambda execution environments), the version landing through the upload-events function and a
partner's download through the public route. The bound is ``EXPLORE_SWITCHES`` (default 1: the
other operation slipped in whole before any call, from either side). ``make test`` runs the
``QUICK`` pairs; ``make explore`` (``EXPLORE_PAIRS=all``) runs every unordered pair of the twelve
member-side operations (66) and the partner download with each operation it meets (7), then the
same pairs again with faults on (``tests.support.faults``): one ``TransactionConflict`` at each
transaction in turn (retried away), one that outlasts the retries, throttling at each DynamoDB
call in turn, and index reads answered from the snapshot taken before the run. Fault runs use
``EXPLORE_FAULT_SWITCHES`` (default 0: both orders, every fault position).

Every pair writes how many interleavings it explored to ``artifacts/explore-counts.json``.
"""

from __future__ import annotations

import fcntl
import itertools
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest

from docuserve import keys
from docuserve.adapters.store import Store
from docuserve.sharing.tokens import token_hash
from tests.support import schedule
from tests.support.documents import (
    User,
    add_member,
    create_document,
    create_workspace,
    land,
    make_user,
    object_key_of,
    ok,
    sha256_b64,
    upload,
)
from tests.support.faults import WRITES, Plan, forget_stream_records
from tests.support.gateway import call

SWITCHES = int(os.environ.get("EXPLORE_SWITCHES", "1"))
FAULT_SWITCHES = int(os.environ.get("EXPLORE_FAULT_SWITCHES", "0"))
COUNTS = Path(__file__).resolve().parents[2] / "artifacts" / "explore-counts.json"
LIMIT = 2  # the world's link allows two downloads; pairs with a partner download spend one in setup


@dataclass
class World:
    """One fresh scenario: alice owns the workspace, bob edits it; one document, one link (at most
    ``LIMIT`` downloads; ``grants`` of them already spent), and one version upload bob started
    (its bytes not yet landed)."""

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
    grants: int = 0


@pytest.fixture
def people(aws: Any) -> tuple[User, User]:
    return make_user(aws, "alice@example.com"), make_user(aws, "bob@example.com")


def _world(aws: Any, alice: User, bob: User, ws: str, *, trashed: bool, spent: int = 0) -> World:
    add_member(alice, ws, bob, "editor")  # again: the last schedule may have removed or demoted him
    created = create_document(alice, ws, b"version one")
    upload(aws, created["upload"]["upload_id"], b"version one")
    doc = str(created["document"]["id"])
    terms = {"expires_in_days": 2, "max_downloads": LIMIT}
    link = ok(call("POST", f"/documents/{doc}/shares", claims=alice.claims, body=terms), 201)
    for _ in range(spent):
        ok(call("POST", f"/public/shares/{link['token']}/download", body={}))
    body = {"size": len(b"version two"), "sha256": sha256_b64(b"version two")}
    started = ok(call("POST", f"/documents/{doc}/versions", claims=bob.claims, body=body), 201)
    if trashed:
        assert call("DELETE", f"/documents/{doc}", claims=alice.claims).status == 204
    world = World(aws, alice, bob, ws, doc, link["id"], link["token"], started["upload_id"], [link["token"]])
    world.grants = spent
    return world


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
    # The harness reads the upload's key now: a read during the run would count (and be faulted)
    # as one of the operation's calls, which the client's PUT never makes.
    key = object_key_of(world.upload_id)

    def run() -> int:
        world.landed = land(world.aws, world.upload_id, b"version two", key=key)
        return _deliver(world, handler_of)

    return run


def _partner_download(world: World, handler_of: Callable[[str], Any]) -> Callable[[], Any]:
    # Redeeming the world's link (its limit nearly spent) as a partner does, through the public route.
    return lambda: call("POST", f"/public/shares/{world.token}/download", body={}, handler_of=handler_of).status


def _sweep(world: World, handler_of: Callable[[str], Any]) -> Callable[[], Any]:
    from docuserve import retention
    from docuserve.errors import Throttled, busy

    def run() -> int:
        try:
            return 200 if retention.sweep().purged else 404
        except Exception as exc:  # the scheduled invocation fails; Lambda retries it (RETRY)
            if isinstance(exc, Throttled) or busy(exc):
                return RETRY
            raise

    return run


OPERATIONS: dict[str, tuple[Operation, bool]] = {
    # name: (operation, whether the document starts in the trash)
    "trash": (_route("DELETE", "/documents/{doc}", "alice"), False),
    "rename": (_route("PATCH", "/documents/{doc}", "alice", body={"name": "renamed.pdf"}), False),
    "move": (_route("PATCH", "/documents/{doc}", "alice", body={"folder": "archive"}), False),
    "land": (_land, False),
    "share": (_create_share, False),
    "edit-link": (_route("PATCH", "/shares/{share}", "alice", body={"label": "edited", "max_downloads": 1}), False),
    "revoke-link": (_route("DELETE", "/shares/{share}", "alice"), False),
    "remove-bob": (_route("DELETE", "/workspaces/{ws}/members/{bob}", "alice"), False),
    "demote-bob": (_route("PUT", "/workspaces/{ws}/members/{bob}", "alice", body={"role": "viewer"}), False),
    "restore": (_route("POST", "/documents/{doc}/restore", "alice", body={}), True),
    "purge": (_route("DELETE", "/documents/{doc}", "alice", query={"purge": "true"}), True),
    "sweep": (_sweep, True),
    "download": (_partner_download, False),
}
BOB_WRITES = {"land", "share"}
TAKES_ROLE = {"remove-bob", "demote-bob"}
SUCCESS = {200, 201, 204}

MEMBER_SIDE = [name for name in OPERATIONS if name != "download"]
# The partner download meets the link's life (revoke, a new limit), its document's (trash, purge,
# restore, a new version) and another partner's download of the same link.
DOWNLOAD_MEETS = ["revoke-link", "edit-link", "trash", "purge", "land", "restore", "download"]
ALL_PAIRS = list(itertools.combinations(MEMBER_SIDE, 2)) + [("download", other) for other in DOWNLOAD_MEETS]
# ``make test``: the seams SPEC's Amendments name, and two partners racing for the last download.
QUICK_PAIRS = [
    ("purge", "restore"),
    ("trash", "share"),
    ("share", "remove-bob"),
    ("land", "demote-bob"),
    ("download", "download"),
    ("download", "trash"),
]
EVERY = os.environ.get("EXPLORE_PAIRS") == "all"
PAIRS = ALL_PAIRS if EVERY else QUICK_PAIRS
assert len(ALL_PAIRS) == 66 + 7
assert {frozenset(p) for p in QUICK_PAIRS} <= {frozenset(p) for p in ALL_PAIRS}

TRANSACTIONS = frozenset({"TransactWriteItems"})
DYNAMODB = WRITES | {"GetItem", "BatchGetItem", "Query"}
PLANS = {
    plan.name: plan
    for plan in (
        Plan("conflict", TRANSACTIONS),  # once: the domain retries it away
        Plan("conflict", TRANSACTIONS, persistent=True),  # past every retry: 429, nothing half-applied
        Plan("throttle", DYNAMODB, persistent=True),  # any DynamoDB call, past botocore's retries
        Plan(stale=True),  # every index Query answers from before the run
    )
}
QUICK_FAULTS = [
    (("trash", "share"), "conflict-persistent"),
    (("land", "remove-bob"), "stale-index"),
    (("trash", "share"), "stale-index"),
    (("download", "trash"), "throttle-persistent"),
]
FAULT_CASES: list[Any] = [(pair, plan) for pair in ALL_PAIRS for plan in PLANS] if EVERY else QUICK_FAULTS


def _record(key: str, runs: int, switches: int, seconds: float) -> None:
    """Add one pair's count to ``COUNTS`` (shared by the xdist workers: under a lock) and print it."""
    COUNTS.parent.mkdir(exist_ok=True)
    with open(COUNTS.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        counts = json.loads(COUNTS.read_text()) if COUNTS.exists() else {"pairs": {}}
        counts["pairs"][key] = {"interleavings": runs, "switches": switches, "seconds": round(seconds, 1)}
        counts["total"] = sum(entry["interleavings"] for entry in counts["pairs"].values())
        COUNTS.write_text(json.dumps(counts, indent=1, sort_keys=True) + "\n")
    print(f"\nexplored {runs} interleavings of {key} ({switches} switch(es) at most, {seconds:.1f} s)")


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

    # Downloads never exceed their limit: each 200 was counted, once, under the limit then in force
    # (checked before the checks below redeem links themselves).
    granted = world.grants + sum(s == 200 for label, s in outcome.items() if label.startswith("download"))
    link = Store().get(keys.link(token_hash(world.token)))
    assert link is not None
    assert int(link["download_count"]) == granted, (link["download_count"], granted)
    assert granted <= LIMIT, granted
    if outcome.get("edit-link") in SUCCESS:
        assert link.get("max_downloads") == 1, link.get("max_downloads")
        edited = _commit(run, names.index("edit-link"))
        for label in ("download", "download-2"):
            if outcome.get(label) == 200:
                spent = _commit(run, names.index(label))
                assert edited is not None
                assert spent is not None
                assert spent < edited, f"a download counted at call {spent}, after the limit fell to 1 at {edited}"

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
        if landed and document["status"] != "purging":
            # (A purging document takes no version and is on its way out: a version that landed
            # just before the claim may stay not current until the purge, retried, removes it.)
            highest = max(landed, key=lambda v: v["number"])
            assert document["current_version"] == highest["id"], document  # current = highest landed
            current = Store().get(keys.version(world.doc, highest["id"]))
        if document["status"] == "available":
            # No document available without its bytes.
            assert current is not None, document
            s3.head_object(Bucket=world.aws.bucket_name, Key=current["object_key"], VersionId=current["s3_version_id"])
            download = call("GET", f"/documents/{world.doc}/download", claims=world.alice.claims)
            assert download.status == 200, download.text

    # A partner's 200 served a document that was available when the download counted: never one
    # that started in the trash, never after the trash committed (even if the trash answered 429).
    served = [label for label in names if label.startswith("download") and outcome[label] == 200]
    if served and "trash" in names and (document is None or document["status"] != "available"):
        trashed_at = [n for n, name in run.calls_of(names.index("trash")) if name == "dynamodb:TransactWriteItems"]
        for label in served:
            counted = _commit(run, names.index(label))
            assert counted is not None
            assert trashed_at, (label, "counted, but the document left service without a trash transaction")
            assert counted < trashed_at[-1], f"{label} counted at call {counted}, after the trash at {trashed_at[-1]}"
    if OPERATIONS[names[0]][1] or OPERATIONS[names[1].removesuffix("-2")][1]:
        assert not served, (served, "a download of a document that started in the trash")

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


def _labels(first: str, second: str) -> tuple[str, str]:
    return (first, second) if first != second else (first, f"{second}-2")


def _explore(
    aws: Any,
    people: tuple[User, User],
    monkeypatch: pytest.MonkeyPatch,
    pair: tuple[str, str],
    *,
    switches: int,
    plan: Plan | None = None,
) -> int:
    from docuserve import clock
    from docuserve.adapters import store as store_module
    from docuserve.settings import get_settings

    monkeypatch.setattr(store_module, "_pause", lambda _seconds: None)  # conflicts retry at once
    alice, bob = people
    first, second = pair
    names = _labels(first, second)
    (op_a, trashed_a), (op_b, trashed_b) = OPERATIONS[first], OPERATIONS[second]
    trashed = trashed_a or trashed_b
    spent = LIMIT - 1 if "download" in pair else 0  # one download left: two partners meet the limit
    worlds: list[World] = []
    ws = create_workspace(alice)
    copies = (schedule.handler_copies(f"{names[0]}_a"), schedule.handler_copies(f"{names[1]}_b"))
    later = clock.now() + timedelta(days=get_settings().limits.trash_days + 1)
    real_now = clock.now

    def setup() -> tuple[Callable[[], Any], Callable[[], Any]]:
        monkeypatch.setattr(clock, "now", real_now)
        forget_stream_records()  # nothing here reads the stream; moto copies it on every transaction
        world = _world(aws, alice, bob, ws, trashed=trashed, spent=spent)
        worlds.append(world)
        if "sweep" in pair:
            monkeypatch.setattr(clock, "now", lambda: later)  # the trash is past its retention now
        return op_a(world, copies[0]), op_b(world, copies[1])

    checked = 0

    def check_latest(run: schedule.Run) -> None:
        nonlocal checked
        if "sweep" in pair and run.results[names.index("sweep")] == RETRY:
            from docuserve import retention

            retention.sweep()  # Lambda retries a failed scheduled invocation (and the schedule runs daily)
        monkeypatch.setattr(clock, "now", real_now)
        check(worlds[-1], names, run)
        checked += 1

    started = time.monotonic()
    explored = schedule.explore(setup, check_latest, switches=switches, plan=plan)
    if plan is not None and explored == 0:
        pytest.skip(f"neither operation makes a call {plan.name} targets")
    key = f"{first}+{second}" + (f" [{plan.name}]" if plan is not None else "")
    _record(key, explored, switches, time.monotonic() - started)
    assert explored == checked >= 2
    return explored


def _case_id(value: Any) -> str:
    return "+".join(value) if isinstance(value, tuple) else str(value)


@pytest.mark.parametrize(("first", "second"), PAIRS, ids=_case_id)
def test_every_interleaving_of_two_operations_keeps_the_life_cycle_promises(
    aws: Any, people: tuple[User, User], first: str, second: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _explore(aws, people, monkeypatch, (first, second), switches=SWITCHES)


@pytest.mark.parametrize(
    ("pair", "plan"), FAULT_CASES, ids=lambda value: "+".join(value) if isinstance(value, tuple) else value
)
def test_every_interleaving_with_faults_on_keeps_the_life_cycle_promises(
    aws: Any, people: tuple[User, User], pair: tuple[str, str], plan: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _explore(aws, people, monkeypatch, pair, switches=FAULT_SWITCHES, plan=PLANS[plan])
