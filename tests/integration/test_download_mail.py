""" "Your link was downloaded": mailed to the link's creator from the table's stream, at most once
per link per hour, never touching the partner's download (its count, its answer or its cost)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import boto3
import pytest

from docuserve import clock, keys, notify
from docuserve.adapters import aws as adapters
from docuserve.adapters.store import Store
from docuserve.settings import get_settings
from docuserve.sharing.tokens import token_hash
from local.provision import LOCAL_MAIL_FROM
from tests.support.gateway import call
from tests.support.links import OWNER, claims, fast_passwords, seed  # noqa: F401  (fixture)
from tests.support.outbox import sent, sent_to
from tests.support.streams import audit_stream

pytestmark = pytest.mark.usefixtures("aws", "fast_passwords")

CREATOR = f"{OWNER}@example.com"  # the creator's verified e-mail (tests/support/links.claims)
PASSWORD = "Tr0ub4dor&3 horse"


def _link(**settings: Any) -> dict[str, Any]:
    s = seed()
    reply = call("POST", f"/documents/{s.document_id}/shares", claims=claims(OWNER), body=settings)
    assert reply.status == 201, reply.text
    return dict(reply.json())


def _download(token: str, password: str | None = None) -> Any:
    return call("POST", f"/public/shares/{token}/download", body={} if password is None else {"password": password})


def _count(share_id: str) -> int:
    return int(call("GET", f"/shares/{share_id}", claims=claims(OWNER)).json()["download_count"])


def _later(monkeypatch: pytest.MonkeyPatch, delta: timedelta) -> None:
    moment = clock.now() + delta
    monkeypatch.setattr(clock, "now", lambda: moment)


def test_a_download_mails_the_creator_with_the_link_but_never_its_password() -> None:
    link = _link(password=PASSWORD, label="Board <b>pack</b>", message="Only for you")
    stream = audit_stream(get_settings().table_name)
    assert _download(link["token"], PASSWORD).status == 200
    stream.drain()

    (mail,) = sent_to(CREATOR)
    assert mail.sender == LOCAL_MAIL_FROM
    assert mail.subject == "Your link was downloaded"
    assert "Launch plan.pdf" in mail.text
    assert "Downloads so far: 1" in mail.text
    assert "Board &lt;b&gt;pack&lt;/b&gt;" in mail.html
    assert "<b>pack" not in mail.html
    assert f"/d/{link['document_id']}" in mail.text
    for part in (mail.raw, mail.text, mail.html):
        assert PASSWORD not in part
        assert link["token"] not in part  # nor the link's secret


def test_further_downloads_within_the_hour_are_not_mailed_and_the_next_hour_mails_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    link = _link()
    stream = audit_stream(get_settings().table_name)
    for _ in range(3):
        assert _download(link["token"]).status == 200
    stream.drain()
    assert len(sent_to(CREATOR)) == 1

    _later(monkeypatch, timedelta(minutes=59))
    assert _download(link["token"]).status == 200
    stream.drain()
    assert len(sent_to(CREATOR)) == 1

    _later(monkeypatch, timedelta(minutes=2))  # 61 minutes after the mail
    assert _download(link["token"]).status == 200
    stream.drain()
    mails = sent_to(CREATOR)
    assert len(mails) == 2
    assert "Downloads so far: 5" in mails[1].text
    assert _count(link["id"]) == 5


def test_two_downloads_written_before_either_is_mailed_send_one_mail() -> None:
    # Both stream records carry an image without the claim (as two concurrent downloads do): the
    # second consumer's conditional write finds the first's claim and sends nothing. (Truly
    # concurrent downloads run against the local stack, whose DynamoDB calls are atomic:
    # tests/e2e/test_local_outbox.py; moto in-process is not atomic across threads.)
    link = _link()
    stream = audit_stream(get_settings().table_name)
    assert _download(link["token"]).status == 200
    assert _download(link["token"]).status == 200
    stream.drain()
    assert len(sent_to(CREATOR)) == 1
    assert _count(link["id"]) == 2


def test_claims_from_images_that_predate_the_claim_mail_exactly_once() -> None:
    # Eight consumers (two shards, retried batches) each saw the link before anyone claimed the
    # hour, each with its own download event: only the conditional write decides.
    link = _link()
    assert _download(link["token"]).status == 200
    item = Store().get(keys.link(token_hash(link["token"])))
    assert item is not None
    assert "last_download_mail_at" not in item
    images = [{**item, "last_event": {**item["last_event"], "id": f"event-{n}"}} for n in range(8)]
    results = [notify.link_downloaded(image) for image in images]
    assert results == [True] + [False] * 7
    assert len(sent_to(CREATOR)) == 1


def test_a_replayed_stream_does_not_mail_again() -> None:
    link = _link()
    assert _download(link["token"]).status == 200
    audit_stream(get_settings().table_name).drain()
    audit_stream(get_settings().table_name).drain()  # a second reader from the stream's start
    assert len(sent_to(CREATOR)) == 1


def test_a_mail_outage_leaves_the_download_answered_counted_once_and_audited(aws: Any) -> None:
    link = _link()
    # SES refuses every message from now on: the sender is no longer verified.
    boto3.client("ses", region_name=aws.region).delete_identity(Identity=LOCAL_MAIL_FROM)
    stream = audit_stream(get_settings().table_name)
    reply = _download(link["token"])
    assert reply.status == 200, reply.text
    assert reply.json()["url"]
    stream.drain()
    assert sent() == []
    assert _count(link["id"]) == 1
    activity = call("GET", f"/shares/{link['id']}/activity", claims=claims(OWNER)).json()["items"]
    assert [e["action"] for e in activity].count("share.downloaded") == 1


def test_a_mail_outage_is_not_retried_for_every_download_of_the_hour(aws: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    link = _link()
    boto3.client("ses", region_name=aws.region).delete_identity(Identity=LOCAL_MAIL_FROM)
    attempts: list[str] = []
    client = adapters.sesv2()
    client.meta.events.register("before-call.sesv2.SendEmail", lambda **_: attempts.append("send"))
    stream = audit_stream(get_settings().table_name)
    for _ in range(3):
        assert _download(link["token"]).status == 200
    stream.drain()
    assert attempts == ["send"]


def test_a_creator_who_turned_the_mail_off_gets_none() -> None:
    reply = call("PUT", "/me/notifications", claims=claims(OWNER), body={"link_downloaded": False})
    assert reply.status == 200, reply.text
    link = _link()
    stream = audit_stream(get_settings().table_name)
    assert _download(link["token"]).status == 200
    stream.drain()
    assert sent_to(CREATOR) == []
    assert _count(link["id"]) == 1


def test_a_stage_without_mail_from_sends_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    link = _link()
    monkeypatch.setenv("MAIL_FROM", "")
    adapters.reset()
    stream = audit_stream(get_settings().table_name)
    assert _download(link["token"]).status == 200
    stream.drain()
    assert sent() == []
