"""Attacks on security promises 3 to 5: concurrent redemption, password storms, log leaks.

Concurrency runs the redemption logic in threads against moto, as concurrent Lambda instances
would run it against DynamoDB (a handler module serves one event at a time, so threads call the
logic each invocation calls). moto does not serialise writes to one item the way DynamoDB does,
so ``one_writer_per_item`` gives its DynamoDB backend DynamoDB's per-item atomicity.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from docuserve import clock, keys
from docuserve.adapters import aws
from docuserve.adapters.store import Store
from docuserve.errors import DomainError
from docuserve.settings import get_settings
from docuserve.sharing import redeem
from docuserve.sharing.tokens import token_hash
from tests.support.gateway import call
from tests.support.links import OWNER, Seeded, claims, fast_passwords, seed  # noqa: F401  (fixture)
from tests.support.streams import audit_stream

pytestmark = pytest.mark.usefixtures("aws", "fast_passwords", "one_writer_per_item")

PARTNER = redeem.Visitor(ip="198.51.100.9", user_agent="curl/8")


@pytest.fixture
def one_writer_per_item(monkeypatch: pytest.MonkeyPatch) -> None:
    # moto reads and writes an item's attributes from several threads without a lock (and even
    # serialises a response while another request changes the item); DynamoDB applies each
    # request to an item atomically. One lock around each request gives moto that atomicity.
    from moto.dynamodb.responses import DynamoHandler

    lock = threading.RLock()
    original = DynamoHandler.call_action

    def serialised(self: Any) -> Any:
        with lock:
            return original(self)

    monkeypatch.setattr(DynamoHandler, "call_action", serialised)


def _link(s: Seeded, **settings: Any) -> dict[str, Any]:
    reply = call("POST", f"/documents/{s.document_id}/shares", claims=claims(OWNER), body=settings)
    assert reply.status == 201, reply.text
    body: dict[str, Any] = reply.json()
    return body


def _outcome(attempt: Callable[[], Any]) -> str:
    try:
        attempt()
    except DomainError as exc:
        return exc.code
    return "ok"


def _storm(n: int, attempt: Callable[[int], Any]) -> Counter[str]:
    aws.dynamodb(), aws.s3()  # create the shared clients before the threads race to
    start = threading.Barrier(n)

    def one(i: int) -> str:
        start.wait()
        return _outcome(lambda: attempt(i))

    with ThreadPoolExecutor(max_workers=n) as pool:
        return Counter(pool.map(one, range(n)))


def _item(token: str) -> dict[str, Any]:
    item = Store().get(keys.link(token_hash(token)))
    assert item is not None
    return item


def _audit_actions(share_id: str) -> Counter[str]:
    audit_stream(get_settings().table_name).drain()
    events = call("GET", f"/shares/{share_id}/activity", claims=claims(OWNER), query={"limit": "200"}).json()
    return Counter(e["action"] for e in events["items"])


@pytest.mark.parametrize(("parallel", "limit"), [(24, 5), (12, 1)])
def test_parallel_redemptions_of_a_limited_link_succeed_exactly_limit_times(parallel: int, limit: int) -> None:
    s = seed()
    link = _link(s, max_downloads=limit)
    outcomes = _storm(parallel, lambda _: redeem.redeem(link["token"], None, PARTNER))
    assert outcomes == Counter({"ok": limit, "link_exhausted": parallel - limit})
    assert _item(link["token"])["download_count"] == limit
    assert _audit_actions(link["id"])["share.downloaded"] == limit


def test_a_storm_of_wrong_passwords_locks_the_link_and_then_refuses_the_right_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    s = seed()
    link = _link(s, password="the right one")
    threshold = get_settings().limits.lockout_threshold
    began = clock.epoch(clock.now())
    outcomes = _storm(40, lambda i: redeem.redeem(link["token"], f"guess number {i}", PARTNER))
    # Exactly threshold - 1 guesses are answered "incorrect"; the threshold-th locks, the rest are locked out.
    assert outcomes == Counter({"password_incorrect": threshold - 1, "link_locked": 40 - threshold + 1})
    item = _item(link["token"])
    assert item["lockouts"] == 1
    assert began + 15 * 60 <= item["locked_until_epoch"] <= clock.epoch(clock.now()) + 15 * 60

    refused = call("POST", f"/public/shares/{link['token']}/download", body={"password": "the right one"})
    assert (refused.status, refused.json()["code"]) == (429, "link_locked")
    assert 0 < int(refused.headers["retry-after"]) <= 15 * 60
    assert call("GET", f"/shares/{link['id']}", claims=claims(OWNER)).json()["state"] == "locked"

    lock_ends = datetime.fromtimestamp(item["locked_until_epoch"], UTC)
    monkeypatch.setattr(clock, "now", lambda: lock_ends - timedelta(seconds=1))
    assert _outcome(lambda: redeem.redeem(link["token"], "the right one", PARTNER)) == "link_locked"
    monkeypatch.setattr(clock, "now", lambda: lock_ends)
    assert _outcome(lambda: redeem.redeem(link["token"], "the right one", PARTNER)) == "ok"

    actions = _audit_actions(link["id"])
    assert actions["share.password_failed"] == threshold - 1
    assert actions["share.locked"] == 1
    assert actions["share.downloaded"] == 1


def test_every_attempt_is_audited_also_those_refused_while_the_link_is_locked() -> None:
    """30 guesses against a threshold of 10: 9 incorrect, 1 lock, 20 refused while locked; each leaves
    an event with the partner's IP and user agent."""
    s = seed()
    link = _link(s, password="the right one")
    threshold = get_settings().limits.lockout_threshold
    outcomes = _storm(30, lambda i: redeem.redeem(link["token"], f"guess number {i}", PARTNER))
    assert outcomes["link_locked"] == 30 - threshold + 1
    refused = call("POST", f"/public/shares/{link['token']}/download", body={})  # no password, still locked
    assert refused.status == 429

    actions = _audit_actions(link["id"])
    assert actions["share.password_failed"] == threshold - 1
    assert actions["share.locked"] == 1
    assert actions["share.download_refused"] == 30 - threshold + 1
    events = call("GET", f"/shares/{link['id']}/activity", claims=claims(OWNER), query={"limit": "200"}).json()
    refusals = [e for e in events["items"] if e["action"] == "share.download_refused"]
    assert {e["details"]["reason"] for e in refusals} == {"link_locked"}
    assert all(e["actor"].get("ip") for e in refusals)


def test_attempts_on_a_revoked_link_or_without_its_password_are_audited() -> None:
    s = seed()
    guarded = _link(s, password="the right one")
    assert call("POST", f"/public/shares/{guarded['token']}/download", body={}).status == 403
    revoked = _link(s)
    assert call("DELETE", f"/shares/{revoked['id']}", claims=claims(OWNER)).status == 204
    assert call("POST", f"/public/shares/{revoked['token']}/download", body={}).status == 410
    assert _audit_actions(guarded["id"])["share.download_refused"] == 1
    assert _audit_actions(revoked["id"])["share.download_refused"] == 1


def test_a_success_does_not_reset_the_failure_count() -> None:
    s = seed()
    link = _link(s, password="the right one")
    threshold = get_settings().limits.lockout_threshold
    attempts = ["wrong"] * (threshold - 1) + ["the right one", "wrong"]
    outcomes = [_outcome(lambda p=p: redeem.redeem(link["token"], p, PARTNER)) for p in attempts]
    assert outcomes[-2:] == ["ok", "link_locked"]


def test_a_new_password_ends_a_lockout() -> None:
    s = seed()
    link = _link(s, password="the right one")
    for _ in range(get_settings().limits.lockout_threshold):
        _outcome(lambda: redeem.redeem(link["token"], "wrong", PARTNER))
    assert _outcome(lambda: redeem.redeem(link["token"], "the right one", PARTNER)) == "link_locked"
    call("PATCH", f"/shares/{link['id']}", claims=claims(OWNER), body={"password": "a fresh one"})
    assert _outcome(lambda: redeem.redeem(link["token"], "a fresh one", PARTNER)) == "ok"


@pytest.fixture
def all_logs(caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> Callable[[], str]:
    """Everything any logger writes, at DEBUG, even when an operator asks Powertools to log events."""
    monkeypatch.setenv("POWERTOOLS_LOGGER_LOG_EVENT", "true")
    monkeypatch.setenv("POWERTOOLS_LOG_LEVEL", "DEBUG")
    caplog.set_level(logging.DEBUG)
    return lambda: caplog.text


def test_tokens_and_passwords_never_reach_the_public_functions_logs(
    all_logs: Callable[[], str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    s = seed()
    password = "correct horse battery"
    created = _link(s, password=password, max_downloads=1)
    token = created["token"]
    call("GET", f"/public/shares/{token}")
    call("POST", f"/public/shares/{token}/download", body={})
    call("POST", f"/public/shares/{token}/download", body={"password": "wrong guess 1"})
    call("POST", f"/public/shares/{token}/download", body={"password": password})
    call("POST", f"/public/shares/{token}/download", body={"password": password})  # used up

    def boom(*_: Any, **__: Any) -> Any:
        raise RuntimeError("storage exploded")

    monkeypatch.setattr(Store, "get", boom)
    crashed = call("POST", f"/public/shares/{token}/download", body={"password": password})
    assert crashed.status == 500
    monkeypatch.undo()
    audit_stream(get_settings().table_name).drain()  # the stream function logs too

    from docuserve.observability import logger

    logger.info("canary: the functions' logger output is captured")
    captured = capsys.readouterr()
    text = all_logs() + captured.out + captured.err
    assert "canary: the functions' logger output is captured" in text
    assert "storage exploded" in text
    assert [x for x in (token, password, "wrong guess 1") if x in text] == []
    assert token not in json.dumps(crashed.json())


def test_passwords_never_reach_the_members_functions_logs_even_at_debug(
    all_logs: Callable[[], str], caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    # Powertools logs each route's validated arguments at DEBUG: request bodies carry passwords.
    caplog.set_level(logging.DEBUG, logger="aws_lambda_powertools.event_handler")
    s = seed()
    created = _link(s, password="first secret phrase")
    call("PATCH", f"/shares/{created['id']}", claims=claims(OWNER), body={"password": "second secret phrase"})
    captured = capsys.readouterr()
    text = all_logs() + captured.out + captured.err
    assert "Calling API Route Handler" in text  # the route arguments were logged ...
    assert [x for x in ("first secret phrase", "second secret phrase") if x in text] == []  # ... masked
