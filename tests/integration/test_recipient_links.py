"""Recipient-restricted links (SPEC Phase 2, "Recipient-restricted links"; issue 16).

Each promise is attacked through the routes against moto, reading the mailed code back from
moto's SES backend: membership never shows, codes are locked at 5 tries even under concurrent
guessing, asking for codes is rate limited, a code and a grant are bound to their link and
address, grants expire and die with their address, and the activity names the verified address.
"""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest

from docuserve import clock, keys
from docuserve.adapters import aws
from docuserve.adapters.store import Store
from docuserve.errors import DomainError
from docuserve.settings import get_settings
from docuserve.sharing import recipients, redeem
from docuserve.sharing.tokens import token_hash
from tests.support.gateway import Reply, call
from tests.support.links import OWNER, Seeded, claims, fast_passwords, seed  # noqa: F401  (fixture)
from tests.support.outbox import sent, sent_to
from tests.support.recipients import mailed_codes
from tests.support.streams import audit_stream

pytestmark = pytest.mark.usefixtures("aws", "fast_passwords")

PARTNER = "partner@example.org"
OTHER = "someone.else@example.org"
STRANGER = "stranger@example.net"
VISITOR = redeem.Visitor(ip="198.51.100.9", user_agent="curl/8")


@pytest.fixture
def one_writer_per_item(monkeypatch: pytest.MonkeyPatch) -> None:
    # As tests/integration/test_shares_attacks.py: moto does not apply one request to an item
    # atomically across threads, DynamoDB does; one lock around each request gives moto that.
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


def _verify(token: str, email: str) -> Reply:
    return call("POST", f"/public/shares/{token}/verify", body={"email": email})


def _confirm(token: str, email: str, code: str) -> Reply:
    return call("POST", f"/public/shares/{token}/verify/confirm", body={"email": email, "code": code})


def _download(token: str, **body: Any) -> Reply:
    return call("POST", f"/public/shares/{token}/download", body=body)


def _code_for(token: str, address: str) -> str:
    assert _verify(token, address).status == 202
    return mailed_codes(address)[-1]


def _grant(token: str, address: str) -> dict[str, Any]:
    reply = _confirm(token, address, _code_for(token, address))
    assert reply.status == 200, reply.text
    body: dict[str, Any] = reply.json()
    return body


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


def _later(monkeypatch: pytest.MonkeyPatch, delta: timedelta) -> None:
    moment = clock.now() + delta
    monkeypatch.setattr(clock, "now", lambda: moment)


def _activity(share_id: str) -> list[dict[str, Any]]:
    audit_stream(get_settings().table_name).drain()
    reply = call("GET", f"/shares/{share_id}/activity", claims=claims(OWNER), query={"limit": "200"})
    items: list[dict[str, Any]] = reply.json()["items"]
    return items


# --- the member's side ------------------------------------------------------------------------


def test_recipients_are_normalised_shown_to_members_and_never_to_partners() -> None:
    s = seed()
    link = _link(s, recipients=["  Partner@Example.ORG ", "partner@example.org", OTHER])
    assert link["recipients"] == [PARTNER, OTHER]
    page = call("GET", f"/public/shares/{link['token']}")
    assert page.status == 200
    assert page.json()["verification_required"] is True
    assert "example.org" not in page.text
    read = call("GET", f"/shares/{link['id']}", claims=claims(OWNER)).json()
    assert read["recipients"] == [PARTNER, OTHER]


@pytest.mark.parametrize(
    ("recipients", "field"),
    [
        (["ok@example.org", "not an address"], "recipients.1"),
        (["ok@example.org", 7], "recipients.1"),
        ("partner@example.org", "recipients"),
        ([f"p{i}@example.org" for i in range(51)], "recipients"),
    ],
)
def test_bad_recipients_are_a_422_naming_the_field(recipients: Any, field: str) -> None:
    s = seed()
    reply = call("POST", f"/documents/{s.document_id}/shares", claims=claims(OWNER), body={"recipients": recipients})
    assert reply.status == 422, reply.text
    assert field in reply.json()["fields"]


def test_fifty_recipients_are_accepted() -> None:
    link = _link(seed(), recipients=[f"p{i}@example.org" for i in range(50)])
    assert len(link["recipients"]) == 50


def test_notify_recipients_mails_the_link_to_each_recipient_without_the_password() -> None:
    s = seed()
    link = _link(s, recipients=[PARTNER, OTHER], notify_recipients=True, password="correct horse battery")
    for address in (PARTNER, OTHER):
        [mail] = sent_to(address)
        assert mail.subject == "A document was shared with you"
        assert link["url"] in mail.text
        assert "correct horse battery" not in mail.raw
        assert "password" in mail.text  # it says the password comes separately
    assert [e["details"] for e in _activity(link["id"]) if e["action"] == "share.sent"] == [
        {"recipients": 2, "sent": 2, "document_name": "Launch plan.pdf"}
    ]


def test_notify_recipients_needs_recipients() -> None:
    s = seed()
    reply = call("POST", f"/documents/{s.document_id}/shares", claims=claims(OWNER), body={"notify_recipients": True})
    assert reply.status == 422
    assert "notify_recipients" in reply.json()["fields"]
    assert sent() == []


def test_a_patch_resends_the_link_only_with_its_own_token() -> None:
    s = seed()
    link = _link(s, recipients=[PARTNER])
    other = _link(s)
    path = f"/shares/{link['id']}"
    forged = call("PATCH", path, claims=claims(OWNER), body={"notify_recipients": True, "token": other["token"]})
    assert forged.status == 422
    assert "token" in forged.json()["fields"]
    assert sent() == []
    resent = call(
        "PATCH",
        path,
        claims=claims(OWNER),
        body={"recipients": [PARTNER, OTHER], "notify_recipients": True, "token": link["token"]},
    )
    assert resent.status == 200, resent.text
    assert resent.json()["recipients"] == [PARTNER, OTHER]
    assert [m.to for m in sent()] == [PARTNER, OTHER]
    assert link["url"] in sent_to(OTHER)[0].text


# --- the code -------------------------------------------------------------------------------


def test_the_happy_path_mails_a_code_confirms_it_and_downloads_with_the_grant() -> None:
    s = seed()
    link = _link(s, recipients=[PARTNER])
    token = link["token"]
    refused = _download(token)
    assert (refused.status, refused.json()["code"]) == (403, "verification_required")

    started = _verify(token, "  Partner@Example.org ")
    assert started.status == 202
    [code] = mailed_codes(PARTNER)
    confirmed = _confirm(token, PARTNER, code)
    assert confirmed.status == 200, confirmed.text
    body = confirmed.json()
    assert set(body) == {"grant", "expires_at"}
    assert clock.parse(body["expires_at"]) - clock.now() <= timedelta(minutes=15)

    got = _download(token, grant=body["grant"])
    assert got.status == 200, got.text
    assert aws.s3().get_object(Bucket=get_settings().bucket_name, Key=s.object_key)["Body"].read() == s.content
    downloaded = [e for e in _activity(link["id"]) if e["action"] == "share.downloaded"]
    assert downloaded[0]["details"]["recipient"] == PARTNER
    actions = Counter(e["action"] for e in _activity(link["id"]))
    assert actions["share.code_requested"] == 1
    assert actions["share.recipient_verified"] == 1


def test_a_code_is_used_once() -> None:
    token = _link(seed(), recipients=[PARTNER])["token"]
    code = _code_for(token, PARTNER)
    assert _confirm(token, PARTNER, code).status == 200
    again = _confirm(token, PARTNER, code)
    assert (again.status, again.json()["code"]) == (403, "code_expired")


def test_a_stranger_gets_the_same_answer_and_no_mail() -> None:
    token = _link(seed(), recipients=[PARTNER])["token"]
    for_partner = _verify(token, PARTNER)
    for_stranger = _verify(token, STRANGER)
    assert (for_stranger.status, for_stranger.text) == (for_partner.status, for_partner.text)
    assert sent_to(STRANGER) == []
    # Confirming answers as for a recipient's wrong code: nothing tells the two apart.
    stranger = _confirm(token, STRANGER, "123456")
    assert (stranger.status, stranger.json()["code"]) == (403, "code_incorrect")
    assert stranger.json()["message"] == "the code is not correct; 4 tries left"


def test_a_strangers_request_takes_about_as_long_as_a_send(monkeypatch: pytest.MonkeyPatch) -> None:
    token = _link(seed(), recipients=[PARTNER])["token"]
    estimate = recipients._send_time.estimate
    _verify(token, PARTNER)  # a real send moves the estimate towards what it took
    assert recipients._send_time.estimate != estimate
    waits: list[float] = []
    monkeypatch.setattr(recipients.time, "sleep", waits.append)
    _verify(token, PARTNER)
    assert waits == []  # a recipient waits for SES, not for a timer
    _verify(token, STRANGER)
    [wait] = waits
    assert 0.75 * recipients._send_time.estimate <= wait <= 1.25 * recipients._send_time.estimate


def test_verification_on_an_unrestricted_or_unusable_link_keeps_its_usual_answers() -> None:
    s = seed()
    plain = _link(s)
    assert _verify(plain["token"], PARTNER).status == 409
    revoked = _link(s, recipients=[PARTNER])
    assert call("DELETE", f"/shares/{revoked['id']}", claims=claims(OWNER)).status == 204
    assert (_verify(revoked["token"], PARTNER).status, _verify(revoked["token"], STRANGER).status) == (410, 410)
    assert _verify("A" * 43, PARTNER).status == 404
    assert sent() == []


def test_a_try_on_a_revoked_link_is_refused_and_audited() -> None:
    link = _link(seed(), recipients=[PARTNER])
    code = _code_for(link["token"], PARTNER)
    call("DELETE", f"/shares/{link['id']}", claims=claims(OWNER))
    late = _confirm(link["token"], PARTNER, code)
    assert (late.status, late.json()["code"]) == (410, "link_revoked")
    failed = [e["details"] for e in _activity(link["id"]) if e["action"] == "share.code_failed"]
    assert failed == [{"email": PARTNER, "reason": "link_revoked", "document_name": "Launch plan.pdf"}]


def test_a_code_expires_after_ten_minutes(monkeypatch: pytest.MonkeyPatch) -> None:
    token = _link(seed(), recipients=[PARTNER])["token"]
    code = _code_for(token, PARTNER)
    _later(monkeypatch, timedelta(minutes=10, seconds=1))
    late = _confirm(token, PARTNER, code)
    assert (late.status, late.json()["code"]) == (403, "code_expired")


def test_five_wrong_codes_kill_the_code_even_the_right_one_after() -> None:
    token = _link(seed(), recipients=[PARTNER])["token"]
    code = _code_for(token, PARTNER)
    answers = [_confirm(token, PARTNER, _wrong(code)).json()["code"] for _ in range(5)]
    assert answers == ["code_incorrect"] * 4 + ["code_attempts_exhausted"]
    dead = _confirm(token, PARTNER, code)
    assert (dead.status, dead.json()["code"]) == (403, "code_attempts_exhausted")
    fresh = _code_for(token, PARTNER)  # a new code starts with 5 tries again
    assert _confirm(token, PARTNER, fresh).status == 200


def test_every_refused_try_is_audited_with_its_address() -> None:
    link = _link(seed(), recipients=[PARTNER])
    token = link["token"]
    code = _code_for(token, PARTNER)
    for _ in range(6):
        _confirm(token, PARTNER, _wrong(code))
    _confirm(token, STRANGER, "000000")  # never asked: no code
    _verify(token, STRANGER)
    events = _activity(link["id"])
    requested = [e["details"] for e in events if e["action"] == "share.code_requested"]
    assert sorted((d["email"], d["is_recipient"]) for d in requested) == [(PARTNER, True), (STRANGER, False)]
    failed = [e["details"] for e in events if e["action"] == "share.code_failed"]
    assert Counter((d["email"], d["reason"]) for d in failed) == {
        (PARTNER, "code_incorrect"): 5,
        (PARTNER, "code_attempts_exhausted"): 1,
        (STRANGER, "code_expired"): 1,
    }


def _race(token: str, guesses: list[str]) -> Counter[str]:
    aws.dynamodb()  # the shared client, before the threads race to create it
    start = threading.Barrier(len(guesses))

    def attempt(guess: str) -> str:
        start.wait()
        try:
            recipients.confirm(token, PARTNER, guess, VISITOR)
        except DomainError as exc:
            return exc.code
        return "ok"

    with ThreadPoolExecutor(max_workers=len(guesses)) as pool:
        return Counter(pool.map(attempt, guesses))


def _tries(token: str) -> int:
    key = keys.link_verification(token_hash(token), recipients.address_id(token, PARTNER))
    item = Store().get(key)
    assert item is not None
    return int(item["code_tries"])


@pytest.mark.usefixtures("one_writer_per_item")
def test_concurrent_wrong_guesses_get_five_tries_in_total() -> None:
    token = _link(seed(), recipients=[PARTNER])["token"]
    code = _code_for(token, PARTNER)
    outcomes = _race(token, [_wrong(code)] * 12)
    # Four "incorrect, n left"; the fifth try answers "that was the last try"; seven never got one.
    assert outcomes == {"code_incorrect": 4, "code_attempts_exhausted": 8}
    assert _tries(token) == 5
    assert _confirm(token, PARTNER, code).json()["code"] == "code_attempts_exhausted"


@pytest.mark.usefixtures("one_writer_per_item")
def test_concurrent_guesses_with_the_right_code_among_them_never_exceed_five_tries() -> None:
    token = _link(seed(), recipients=[PARTNER])["token"]
    code = _code_for(token, PARTNER)
    outcomes = _race(token, [_wrong(code)] * 11 + [code])
    assert outcomes["ok"] <= 1
    assert outcomes["ok"] + outcomes["code_incorrect"] <= 5  # each spent one of the 5 tries
    assert _tries(token) <= 5


def test_the_code_dance_is_interleaved_deterministically_at_the_last_try() -> None:
    # Four wrong tries spent; two requests then read the same state (tries = 4) and race: only the
    # first write spends the fifth try, the second is refused by the condition, not by its read.
    token = _link(seed(), recipients=[PARTNER])["token"]
    code = _code_for(token, PARTNER)
    for _ in range(4):
        _confirm(token, PARTNER, _wrong(code))
    store = Store()
    original = store.get
    reads: list[dict[str, Any] | None] = []

    def stale_get(key: dict[str, str], **kwargs: Any) -> Any:
        item = original(key, **kwargs)
        if key["sk"].startswith("VERIFY#"):
            if not reads:
                reads.append(item)
            return reads[0]  # every request sees the first read: tries = 4
        return item

    store.get = stale_get  # type: ignore[method-assign]
    with pytest.raises(DomainError) as first:
        recipients.confirm(token, PARTNER, _wrong(code), VISITOR, store=store)
    with pytest.raises(DomainError) as second:
        recipients.confirm(token, PARTNER, code, VISITOR, store=store)
    assert first.value.code == "code_attempts_exhausted"
    assert second.value.code == "code_attempts_exhausted"


# --- flood control ----------------------------------------------------------------------------


@pytest.mark.parametrize("address", [PARTNER, STRANGER])
def test_codes_are_rate_limited_per_link_and_address_alike(monkeypatch: pytest.MonkeyPatch, address: str) -> None:
    s = seed()
    token = _link(s, recipients=[PARTNER])["token"]
    answers = [_verify(token, address) for _ in range(4)]
    assert [a.status for a in answers] == [202, 202, 202, 429]
    assert answers[3].json()["code"] == "code_rate_limited"
    assert 1 <= int(answers[3].headers["retry-after"]) <= 15 * 60
    assert len(sent_to(PARTNER)) == (3 if address == PARTNER else 0)
    # Another address, or the same address on another link, has its own allowance.
    assert _verify(token, OTHER).status == 202
    assert _verify(_link(s, recipients=[PARTNER])["token"], address).status == 202
    _later(monkeypatch, timedelta(minutes=15, seconds=1))
    assert _verify(token, address).status == 202


@pytest.mark.usefixtures("one_writer_per_item")
def test_concurrent_code_requests_mail_at_most_three() -> None:
    token = _link(seed(), recipients=[PARTNER])["token"]
    aws.dynamodb(), aws.sesv2()  # the shared clients, before the threads race to create them
    start = threading.Barrier(8)

    def ask(_: int) -> str:
        start.wait()
        try:
            recipients.request_code(token, PARTNER, VISITOR)
        except DomainError as exc:
            return exc.code
        return "sent"

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = Counter(pool.map(ask, range(8)))
    assert outcomes == {"sent": 3, "code_rate_limited": 5}
    assert len(mailed_codes(PARTNER)) == 3


def test_an_address_gets_at_most_ten_codes_a_day_on_a_link(monkeypatch: pytest.MonkeyPatch) -> None:
    token = _link(seed(), recipients=[PARTNER])["token"]
    start = clock.now()
    answers = []
    for quarter in range(4):  # 3 + 3 + 3 + 1 codes in four quarter hours: the day's 10
        moment = start + timedelta(minutes=15 * quarter, seconds=quarter)
        monkeypatch.setattr(clock, "now", lambda moment=moment: moment)
        answers += [_verify(token, PARTNER).status for _ in range(3 if quarter < 3 else 2)]
    assert answers == [202] * 10 + [429]
    assert len(mailed_codes(PARTNER)) == 10
    late = start + timedelta(hours=23, minutes=59)
    monkeypatch.setattr(clock, "now", lambda: late)
    refused = _verify(token, PARTNER)
    assert refused.status == 429
    assert int(refused.headers["retry-after"]) <= 60
    next_day = start + timedelta(days=1, seconds=1)
    monkeypatch.setattr(clock, "now", lambda: next_day)
    assert _verify(token, PARTNER).status == 202


# --- binding ----------------------------------------------------------------------------------


def test_a_code_mailed_for_one_link_is_useless_on_another() -> None:
    s = seed()
    a, b = _link(s, recipients=[PARTNER]), _link(s, recipients=[PARTNER])
    _verify(b["token"], PARTNER)  # b has a live code of its own
    code_for_a = _code_for(a["token"], PARTNER)
    on_b = _confirm(b["token"], PARTNER, code_for_a)
    assert (on_b.status, on_b.json()["code"]) == (403, "code_incorrect")


def test_a_code_is_bound_to_its_address() -> None:
    token = _link(seed(), recipients=[PARTNER, OTHER])["token"]
    _verify(token, OTHER)
    code = _code_for(token, PARTNER)
    assert _confirm(token, OTHER, code).json()["code"] == "code_incorrect"


def test_a_grant_for_one_link_is_refused_on_another() -> None:
    s = seed()
    a, b = _link(s, recipients=[PARTNER]), _link(s, recipients=[PARTNER])
    grant = _grant(a["token"], PARTNER)["grant"]
    refused = _download(b["token"], grant=grant)
    assert (refused.status, refused.json()["code"]) == (403, "grant_invalid")
    assert _download(a["token"], grant=grant).status == 200


@pytest.mark.parametrize(
    "forge",
    [
        lambda g: g[:-1] + ("A" if g[-1] != "A" else "B"),  # the secret changed
        lambda g: "0" * 32 + g[32:],  # another address's item
        lambda g: "not a grant",
    ],
)
def test_a_forged_grant_is_refused(forge: Any) -> None:
    token = _link(seed(), recipients=[PARTNER])["token"]
    grant = _grant(token, PARTNER)["grant"]
    refused = _download(token, grant=forge(grant))
    assert (refused.status, refused.json()["code"]) == (403, "grant_invalid")


def test_a_grant_expires_after_fifteen_minutes(monkeypatch: pytest.MonkeyPatch) -> None:
    token = _link(seed(), recipients=[PARTNER])["token"]
    grant = _grant(token, PARTNER)["grant"]
    _later(monkeypatch, timedelta(minutes=15, seconds=1))
    late = _download(token, grant=grant)
    assert (late.status, late.json()["code"]) == (403, "grant_expired")


def test_removing_an_address_kills_its_grant_at_once() -> None:
    link = _link(seed(), recipients=[PARTNER, OTHER])
    token = link["token"]
    grant = _grant(token, PARTNER)["grant"]
    other = _grant(token, OTHER)["grant"]
    edited = call("PATCH", f"/shares/{link['id']}", claims=claims(OWNER), body={"recipients": [OTHER]})
    assert edited.status == 200, edited.text
    refused = _download(token, grant=grant)
    assert (refused.status, refused.json()["code"]) == (403, "grant_invalid")
    assert _download(token, grant=other).status == 200
    # Clearing the list lifts the restriction: the link works like any other.
    call("PATCH", f"/shares/{link['id']}", claims=claims(OWNER), body={"recipients": []})
    assert call("GET", f"/public/shares/{token}").json()["verification_required"] is False
    assert _download(token).status == 200


def test_adding_recipients_restricts_the_link_on_the_next_request() -> None:
    link = _link(seed())
    assert _download(link["token"]).status == 200
    call("PATCH", f"/shares/{link['id']}", claims=claims(OWNER), body={"recipients": [PARTNER]})
    refused = _download(link["token"])
    assert (refused.status, refused.json()["code"]) == (403, "verification_required")


def test_password_and_download_limit_still_apply_with_a_grant() -> None:
    token = _link(seed(), recipients=[PARTNER], password="open sesame 42", max_downloads=1)["token"]
    grant = _grant(token, PARTNER)["grant"]
    assert _download(token, grant=grant).json()["code"] == "password_required"
    assert _download(token, grant=grant, password="wrong one").json()["code"] == "password_incorrect"
    assert _download(token, password="open sesame 42").json()["code"] == "verification_required"
    assert _download(token, grant=grant, password="open sesame 42").status == 200
    assert _download(token, grant=grant, password="open sesame 42").json()["code"] == "link_exhausted"


# --- bad bodies -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("verify", None, "body"),
        ("verify", [], "body"),
        ("verify", {}, "email"),
        ("verify", {"email": 5}, "email"),
        ("verify", {"email": "nope"}, "email"),
        ("verify", {"email": "a@b.org", "code": "123456"}, "code"),
        ("verify/confirm", {"email": "a@b.org"}, "code"),
        ("verify/confirm", {"email": "a@b.org", "code": "12345"}, "code"),
        ("verify/confirm", {"email": "a@b.org", "code": 123456}, "code"),
        ("verify/confirm", {"code": "123456"}, "email"),
        ("download", {"grant": 7}, "grant"),
        ("download", {"grant": "g" * 201}, "grant"),
    ],
)
def test_bad_bodies_are_a_422_naming_the_field(path: str, body: Any, field: str) -> None:
    token = _link(seed(), recipients=[PARTNER])["token"]
    reply = call("POST", f"/public/shares/{token}/{path}", body=body)
    assert reply.status == 422, reply.text
    assert field in reply.json()["fields"]
    assert sent() == []
