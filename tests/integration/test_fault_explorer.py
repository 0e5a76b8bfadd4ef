"""Each fault class of issue 13's explorer on its own, through botocore hooks on the domain's clients
(``tests.support.faults``) and through the event sources' delivery rules (at least once, out of
order, a batch redelivered after a crash). The schedule explorer runs the same faults on every
pair of operations (``test_schedule_explorer``); these pin each fault to the code that answers it,
so removing a retry or an idempotence guard fails one of them.
"""

from __future__ import annotations

import importlib
import json
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import boto3
import pytest

from docuserve import audit
from docuserve.settings import get_settings
from local.audit_stream import StreamReader
from local.events import s3_object_created, sqs_event
from tests.support.documents import (
    User,
    create_document,
    create_workspace,
    land,
    make_user,
    ok,
    scan_landed,
    sha256_b64,
    upload,
)
from tests.support.faults import WRITES, Faults, call_name, domain_clients
from tests.support.gateway import FakeContext, call

DYNAMODB = WRITES | {"GetItem", "BatchGetItem", "Query"}


@pytest.fixture(autouse=True)
def no_backoff_sleep(monkeypatch: pytest.MonkeyPatch) -> None:
    from docuserve.adapters import store
    from docuserve.sharing import passwords

    monkeypatch.setattr(store, "_pause", lambda _seconds: None)
    monkeypatch.setattr(passwords, "PARAMS", passwords.ScryptParams(n=2**10))  # cheap hashes (as links.fast_passwords)


@pytest.fixture
def alice(aws: Any) -> User:
    return make_user(aws, "alice@example.com")


@pytest.fixture
def ws(alice: User) -> str:
    return create_workspace(alice)


def _document(aws: Any, alice: User, ws: str, data: bytes = b"version one") -> str:
    created = create_document(alice, ws, data)
    upload(aws, created["upload"]["upload_id"], data)
    return str(created["document"]["id"])


def _link(alice: User, doc: str, **terms: Any) -> dict[str, Any]:
    body = {"expires_in_days": 1, **terms}
    return dict(ok(call("POST", f"/documents/{doc}/shares", claims=alice.claims, body=body), 201))


# --- TransactionConflict and throttling -------------------------------------------------------


def test_a_conflict_on_the_trash_is_retried_and_the_trash_applies(aws: Any, alice: User, ws: str) -> None:
    doc = _document(aws, alice, ws)
    faults = Faults("conflict", at=1, targets=frozenset({"TransactWriteItems"}))
    with faults.armed():
        trashed = call("DELETE", f"/documents/{doc}", claims=alice.claims)
    assert [(f.kind, f.times) for f in faults.injected] == [("conflict", 1)]
    assert trashed.status == 204, trashed.text  # without the adapter's retry: 429 (or worse)
    assert ok(call("GET", f"/documents/{doc}", claims=alice.claims))["status"] == "deleted"


def test_a_conflict_past_every_retry_is_429_and_nothing_is_applied(aws: Any, alice: User, ws: str) -> None:
    from docuserve.adapters.store import TRANSACT_ATTEMPTS

    doc = _document(aws, alice, ws)
    link = _link(alice, doc)
    faults = Faults("conflict", at=1, targets=frozenset({"TransactWriteItems"}), persistent=True)
    with faults.armed():
        trashed = call("DELETE", f"/documents/{doc}", claims=alice.claims)
    assert faults.injected[0].times == TRANSACT_ATTEMPTS  # bounded: retried, then given up
    assert trashed.status == 429, trashed.text
    assert {k.lower(): v for k, v in trashed.headers.items()}.get("retry-after")
    assert ok(call("GET", f"/documents/{doc}", claims=alice.claims))["status"] == "available"
    assert call("POST", f"/public/shares/{link['token']}/download", body={}).status == 200


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("DELETE", "/documents/{doc}"),  # a member route (Powertools resolver)
        ("PATCH", "/documents/{doc}"),
        ("POST", "/public/shares/{token}/download"),  # the partner route (lean resolver)
    ],
)
def test_throttling_past_the_sdks_retries_is_429_never_500(
    aws: Any, alice: User, ws: str, method: str, path: str
) -> None:
    doc = _document(aws, alice, ws)
    link = _link(alice, doc)
    target = path.format(doc=doc, token=link["token"])
    body = {"name": "renamed.pdf"} if method == "PATCH" else {}
    for at in range(1, 20):
        faults = Faults("throttle", at=at, targets=DYNAMODB, persistent=True)
        with faults.armed():
            reply = call(method, target, claims=alice.claims, body=body)
        if not faults.injected:
            break  # past the last DynamoDB call of the route
        assert reply.status in (200, 204, 429), (faults.injected, reply.status, reply.text)
        if reply.status == 429:
            assert {k.lower(): v for k, v in reply.headers.items()}.get("retry-after"), reply.headers


def test_a_trash_whose_link_refresh_is_throttled_leaves_no_redeemable_link(aws: Any, alice: User, ws: str) -> None:
    """The trash commits, then its link refresh is throttled past the SDK's retries. The links were
    held before the commit, so they refuse (fail closed); the trash answers what happened (204),
    and the next change of the document (a restore that resumes them) refreshes them."""
    doc = _document(aws, alice, ws)
    link = _link(alice, doc)
    faults = Faults("throttle", at=2, targets=frozenset({"UpdateItem"}))  # 1st: the hold; 2nd: the refresh
    with faults.armed():
        trashed = call("DELETE", f"/documents/{doc}", claims=alice.claims)
    assert faults.injected
    assert trashed.status == 204, trashed.text  # the trash stands: a 429 would make the client retry into 409
    assert ok(call("GET", f"/documents/{doc}", claims=alice.claims))["status"] == "deleted"
    assert call("POST", f"/public/shares/{link['token']}/download", body={}).status == 410
    assert call("GET", f"/public/shares/{link['token']}").status == 410
    listed = ok(call("GET", f"/documents/{doc}/shares", claims=alice.claims))["items"]
    assert [item["state"] for item in listed] == ["unavailable"]
    restored = call("POST", f"/documents/{doc}/restore", claims=alice.claims, body={"resume_links": True})
    assert ok(restored)["links_resumed"] == 1, restored.text
    assert call("POST", f"/public/shares/{link['token']}/download", body={}).status == 200


def test_a_trash_that_does_not_commit_releases_the_links_it_held(aws: Any, alice: User, ws: str) -> None:
    doc = _document(aws, alice, ws)
    link = _link(alice, doc)
    faults = Faults("throttle", at=1, targets=frozenset({"TransactWriteItems"}), persistent=True)
    with faults.armed():
        assert call("DELETE", f"/documents/{doc}", claims=alice.claims).status == 429
    assert ok(call("GET", f"/documents/{doc}", claims=alice.claims))["status"] == "available"
    assert call("POST", f"/public/shares/{link['token']}/download", body={}).status == 200


def test_links_a_failed_release_leaves_held_refuse_until_the_next_change(aws: Any, alice: User, ws: str) -> None:
    """The trash's commit and then its release are both throttled: the links stay held (refusing a
    partner though the document is available: fail closed), and the document's next change, which
    takes the revision the trash held them at, gives them their copy back."""
    doc = _document(aws, alice, ws)
    link = _link(alice, doc)
    commit = Faults("throttle", at=1, targets=frozenset({"TransactWriteItems"}), persistent=True)
    release = Faults("throttle", at=2, targets=frozenset({"GetItem"}), persistent=True)  # 1st: the trash's read
    with commit.armed(), release.armed():
        assert call("DELETE", f"/documents/{doc}", claims=alice.claims).status == 429
    assert commit.injected
    assert release.injected
    assert ok(call("GET", f"/documents/{doc}", claims=alice.claims))["status"] == "available"
    assert call("POST", f"/public/shares/{link['token']}/download", body={}).status == 410
    ok(call("PATCH", f"/documents/{doc}", claims=alice.claims, body={"name": "renamed.pdf"}))
    assert call("POST", f"/public/shares/{link['token']}/download", body={}).status == 200
    assert ok(call("GET", f"/public/shares/{link['token']}"))["name"] == "renamed.pdf"


def test_a_throttled_partner_download_is_neither_counted_nor_granted(aws: Any, alice: User, ws: str) -> None:
    doc = _document(aws, alice, ws)
    link = _link(alice, doc, max_downloads=1)
    faults = Faults("throttle", at=1, targets=frozenset({"UpdateItem"}))
    with faults.armed():
        refused = call("POST", f"/public/shares/{link['token']}/download", body={})
    assert refused.status == 429, refused.text
    assert call("POST", f"/public/shares/{link['token']}/download", body={}).status == 200  # still one left
    assert call("POST", f"/public/shares/{link['token']}/download", body={}).status == 410


# --- stale index reads ------------------------------------------------------------------------


def test_a_trash_whose_index_read_misses_a_new_link_still_stops_it(aws: Any, alice: User, ws: str) -> None:
    """The link committed before the trash, but the document-shares index has not caught up yet
    when the trash refreshes the document's links (index reads are eventually consistent)."""
    doc = _document(aws, alice, ws)
    faults = Faults(stale=True)
    faults.snapshot()  # the index as it is before the link exists
    link = _link(alice, doc)
    with faults.armed():
        assert call("DELETE", f"/documents/{doc}", claims=alice.claims).status == 204
    # The trash finds links through their refs in the document's partition (a strongly
    # consistent Query), not the index: nothing stale reached it.
    assert faults.injected == []
    assert call("POST", f"/public/shares/{link['token']}/download", body={}).status != 200
    assert call("GET", f"/public/shares/{link['token']}").status != 200


# --- duplicated and reordered S3 events -------------------------------------------------------


def _message(aws: Any, landed: dict[str, Any]) -> str:
    return s3_object_created(aws.bucket_name, landed["key"], landed["size"], version_id=landed["version_id"])


def _deliver(bodies: list[tuple[str, str]]) -> dict[str, Any]:
    result: dict[str, Any] = importlib.import_module("handlers.upload_events").handler(sqs_event(bodies), FakeContext())
    return result


def _land_scanned(aws: Any, upload_id: str, data: bytes) -> dict[str, Any]:
    """The client's PUT, with the malware scan's (clean) result already recorded: so the S3 event's
    delivery alone decides the version, which is what these tests crash and reorder."""
    landed = land(aws, upload_id, data)
    scan_landed(aws, landed)
    return landed


def _start_version(user: User, doc: str, data: bytes) -> str:
    body = {"size": len(data), "sha256": sha256_b64(data)}
    return str(ok(call("POST", f"/documents/{doc}/versions", claims=user.claims, body=body), 201)["upload_id"])


def _audited(doc: str, action: str) -> int:
    page = audit.document_events(doc, limit=200, cursor=None)
    return sum(1 for item in page.items if item["action"] == action)


def test_duplicated_and_reordered_s3_events_land_each_version_once_and_keep_the_newest_current(
    aws: Any, alice: User, ws: str
) -> None:
    doc = _document(aws, alice, ws)
    two, three = _start_version(alice, doc, b"version two"), _start_version(alice, doc, b"version three")
    landed_two, landed_three = _land_scanned(aws, two, b"version two"), _land_scanned(aws, three, b"version three")
    # Version 3's event first, then version 2's, then both again (SQS: at least once, any order).
    m3, m2 = _message(aws, landed_three), _message(aws, landed_two)
    assert _deliver([("a", m3), ("b", m2)]) == {"batchItemFailures": []}
    assert _deliver([("c", m2), ("d", m3), ("e", m3)]) == {"batchItemFailures": []}
    document = ok(call("GET", f"/documents/{doc}", claims=alice.claims))
    numbers = sorted(v["number"] for v in document["versions"])
    assert numbers == [1, 2, 3]
    newest = max(document["versions"], key=lambda v: v["number"])
    assert document["current_version"] == newest["id"]
    assert _audited(doc, "version.available") == 3  # one per version, however often delivered


def test_a_landing_whose_link_refresh_failed_finishes_it_when_redelivered(aws: Any, alice: User, ws: str) -> None:
    """Version 2 becomes current, then refreshing its links is throttled past the SDK's retries:
    the message fails and SQS delivers it again. The redelivery finds the version already current
    and must still refresh the links, or they serve version 1 for good."""
    doc = _document(aws, alice, ws)
    link = _link(alice, doc)
    landed = _land_scanned(aws, _start_version(alice, doc, b"version two"), b"version two")
    faults = Faults("throttle", at=1, targets=frozenset({"Query"}))  # the refresh's read of the links
    with faults.armed():
        assert _deliver([("m", _message(aws, landed))])["batchItemFailures"]
    assert faults.injected
    assert _deliver([("m", _message(aws, landed))]) == {"batchItemFailures": []}
    grant = ok(call("POST", f"/public/shares/{link['token']}/download", body={}))
    assert landed["version_id"] in grant["url"]


# --- duplicated and reordered stream records --------------------------------------------------


def _stream_batches() -> list[dict[str, Any]]:
    """Every stream record written so far, as the batches Lambda would hand the function."""
    captured: list[dict[str, Any]] = []

    def keep(event: dict[str, Any]) -> dict[str, Any]:
        captured.append(event)
        return {"batchItemFailures": []}

    StreamReader(table_name=get_settings().table_name, region="us-east-1", invoke=keep).drain()
    return captured


def _audit(event: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = importlib.import_module("handlers.audit_stream").handler(event, FakeContext())
    return result


def _share_actions(share_id: str) -> Counter[str]:
    return Counter(item["action"] for item in audit.share_events(share_id, limit=200, cursor=None).items)


def _partner_traffic(aws: Any, alice: User, ws: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    doc = _document(aws, alice, ws)
    link = _link(alice, doc, password="the secret password")
    token = link["token"]
    call("POST", f"/public/shares/{token}/download", body={"password": "not it at all"})
    for _ in range(3):
        assert call("POST", f"/public/shares/{token}/download", body={"password": "the secret password"}).status == 200
    records = [r for batch in _stream_batches() for r in batch["Records"]]
    return link, records


EXPECTED = Counter({"share.password_failed": 1, "share.downloaded": 3})


def test_duplicated_and_reordered_stream_records_audit_each_event_once(aws: Any, alice: User, ws: str) -> None:
    link, records = _partner_traffic(aws, alice, ws)
    assert _audit({"Records": list(reversed(records))}) == {"batchItemFailures": []}
    assert _audit({"Records": records + records}) == {"batchItemFailures": []}
    actions = _share_actions(link["id"])
    assert {a: actions[a] for a in EXPECTED} == EXPECTED


# --- consumers that crash mid-batch -----------------------------------------------------------


class Crash(BaseException):
    """The function's process dies (timeout, out of memory): no batch response at all."""


@contextmanager
def crash_at(nth: int, operations: frozenset[str]) -> Iterator[list[str]]:
    """Kill the invocation just before its ``nth`` call among ``operations``; yields the calls seen."""
    seen: list[str] = []

    def hook(model: Any, **_: Any) -> None:
        if model.name in operations:
            seen.append(call_name(model))
            if len(seen) == nth:
                raise Crash(f"crashed before call {nth}: {seen[-1]}")

    clients = domain_clients()
    for client in clients:
        client.meta.events.register_first("before-call.*.*", hook)
    try:
        yield seen
    finally:
        for client in clients:
            client.meta.events.unregister("before-call.*.*", hook)


def _until_done(invoke: Callable[[], dict[str, Any]], attempts: int = 5) -> dict[str, Any]:
    for _ in range(attempts):
        result = invoke()
        if result == {"batchItemFailures": []}:
            return result
    return result


def test_an_upload_consumer_crashing_anywhere_mid_batch_lands_every_version_exactly_once(
    aws: Any, alice: User, ws: str
) -> None:
    positions = 0
    for nth in range(1, 50):
        doc = _document(aws, alice, ws)
        uploads = [_start_version(alice, doc, data) for data in (b"version two", b"version three")]
        landed = [_land_scanned(aws, u, d) for u, d in zip(uploads, (b"version two", b"version three"), strict=True)]
        batch = [(f"m{i}", _message(aws, x)) for i, x in enumerate(landed)]
        with crash_at(nth, WRITES) as seen:
            try:
                _deliver(batch)
                crashed = False
            except Crash:
                crashed = True
        # SQS: a crashed invocation's whole batch comes back after the visibility timeout.
        assert _until_done(lambda batch=batch: _deliver(batch)) == {"batchItemFailures": []}  # type: ignore[misc]
        document = ok(call("GET", f"/documents/{doc}", claims=alice.claims))
        numbers = [v["number"] for v in document["versions"]]
        assert sorted(numbers) == [1, 2, 3], (nth, seen, document["versions"])
        assert all(v["status"] == "available" for v in document["versions"]), (nth, document["versions"])
        assert document["current_version"] == max(document["versions"], key=lambda v: v["number"])["id"]
        assert _audited(doc, "version.available") == 3, (nth, seen)
        if not crashed:
            positions = nth - 1
            break
    assert positions >= 4  # every write position of the batch was crashed at once


def _scan_result_message(aws: Any, landed: dict[str, Any], result: str = "NO_THREATS_FOUND") -> str:
    """The scan-results queue's message for one object version, as EventBridge delivers it."""
    from local.scanner import Scanner

    etag = boto3.client("s3", region_name=aws.region).head_object(
        Bucket=aws.bucket_name, Key=landed["key"], VersionId=landed["version_id"]
    )["ETag"]
    entry = Scanner(bucket=aws.bucket_name, region=aws.region).entry(
        landed["key"], landed["version_id"], etag.strip('"'), result, None
    )
    return json.dumps(
        {"detail-type": entry["DetailType"], "source": entry["Source"], "detail": json.loads(entry["Detail"])}
    )


@pytest.mark.parametrize("result", ["NO_THREATS_FOUND", "THREATS_FOUND"])
def test_a_scan_result_consumer_crashing_anywhere_decides_the_version_exactly_once(
    aws: Any, alice: User, ws: str, result: str
) -> None:
    """The checksum step passed (the version is ``scanning``); the result's delivery dies before
    each of its writes in turn, and SQS delivers it again: one decision, one audit event."""
    action = "version.available" if result == "NO_THREATS_FOUND" else "version.infected"
    positions = 0
    for nth in range(1, 30):
        doc = _document(aws, alice, ws)
        data = b"version two"
        landed = land(aws, _start_version(alice, doc, data), data)
        assert _deliver([("s3", _message(aws, landed))]) == {"batchItemFailures": []}
        message = [("scan", _scan_result_message(aws, landed, result))]
        with crash_at(nth, WRITES) as seen:
            try:
                _deliver(message)
                crashed = False
            except Crash:
                crashed = True
        assert _until_done(lambda message=message: _deliver(message)) == {"batchItemFailures": []}  # type: ignore[misc]
        document = ok(call("GET", f"/documents/{doc}", claims=alice.claims))
        (newest,) = [v for v in document["versions"] if v["number"] == 2]
        assert newest["status"] == ("available" if result == "NO_THREATS_FOUND" else "infected"), (nth, seen)
        assert (document["current_version"] == newest["id"]) == (result == "NO_THREATS_FOUND"), (nth, seen)
        assert _audited(doc, action) == (2 if action == "version.available" else 1), (nth, seen)
        if not crashed:
            positions = nth - 1
            break
    assert positions >= 2  # every write position of the delivery was crashed at once


def test_an_audit_stream_consumer_crashing_anywhere_mid_batch_audits_every_event_exactly_once(
    aws: Any, alice: User, ws: str
) -> None:
    link, records = _partner_traffic(aws, alice, ws)
    before = _share_actions(link["id"])
    assert not before["share.downloaded"]  # nothing materialised yet
    positions = 0
    for nth in range(1, 50):
        with crash_at(nth, WRITES) as seen:
            try:
                _audit({"Records": records})
                crashed = False
            except Crash:
                crashed = True
        if crashed:
            # bisect_batch_on_error: Lambda retries the halves, then the whole batch again.
            half = len(records) // 2
            _audit({"Records": records[:half]})
            _audit({"Records": records[half:]})
        assert _until_done(lambda: _audit({"Records": records})) == {"batchItemFailures": []}
        actions = _share_actions(link["id"])
        assert {a: actions[a] for a in EXPECTED} == EXPECTED, (nth, seen, actions)
        if not crashed:
            positions = nth - 1
            break
    assert positions >= 1


def test_a_record_that_fails_mid_batch_is_reported_and_the_rest_follow_on_redelivery(
    aws: Any, alice: User, ws: str
) -> None:
    """A handled failure (not a crash): the function names the failed record; Lambda redelivers
    from it, so the events before it are not written twice and none after it are lost."""
    link, records = _partner_traffic(aws, alice, ws)
    faults = Faults("throttle", at=2, targets=frozenset({"PutItem"}))
    with faults.armed():
        result = _audit({"Records": records})
    assert faults.injected
    failed = [f["itemIdentifier"] for f in result["batchItemFailures"]]
    assert len(failed) == 1
    sequence = [str(r["dynamodb"]["SequenceNumber"]) for r in records]
    assert _audit({"Records": records[sequence.index(failed[0]) :]}) == {"batchItemFailures": []}
    actions = _share_actions(link["id"])
    assert {a: actions[a] for a in EXPECTED} == EXPECTED


def test_a_batch_of_several_landings_with_one_failing_reports_only_that_message(aws: Any, alice: User, ws: str) -> None:
    doc = _document(aws, alice, ws)
    uploads = [_start_version(alice, doc, data) for data in (b"version two", b"version three")]
    landed = [_land_scanned(aws, u, d) for u, d in zip(uploads, (b"version two", b"version three"), strict=True)]
    batch = [(f"m{i}", _message(aws, x)) for i, x in enumerate(landed)]
    faults = Faults("throttle", at=1, targets=frozenset({"TransactWriteItems"}), persistent=True)
    with faults.armed():
        result = _deliver(batch)
    assert result == {"batchItemFailures": [{"itemIdentifier": "m0"}]}, json.dumps(result)
    assert _deliver([batch[0]]) == {"batchItemFailures": []}  # SQS redelivers only the failed one
    document = ok(call("GET", f"/documents/{doc}", claims=alice.claims))
    assert sorted(v["number"] for v in document["versions"]) == [1, 2, 3]
    assert _audited(doc, "version.available") == 3
