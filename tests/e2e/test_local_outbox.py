"""The local stack's outbox: ``GET /_local/outbox`` lists every mail the functions sent, newest first."""

from __future__ import annotations

import re
import threading
import time
import uuid
from typing import Any

import pytest
import requests

from tests.e2e.client import LocalStack, available_document

pytestmark = pytest.mark.e2e


def _outbox(stack: LocalStack) -> list[dict[str, Any]]:
    reply = stack.get("/_local/outbox")
    assert reply.status_code == 200, reply.text
    assert reply.headers["Content-Type"] == "application/json"
    assert reply.headers["Cache-Control"] == "no-store"
    return list(reply.json())


def _wait_for(stack: LocalStack, to: str, subject: str, timeout: float = 20) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for entry in _outbox(stack):
            if entry["to"] == to and entry["subject"] == subject:
                return entry
        time.sleep(0.2)
    pytest.fail(f"no mail {subject!r} to {to} in the outbox:\n{stack.log()[-3000:]}")


def test_config_json_says_the_app_runs_locally(local_stack: LocalStack) -> None:
    assert local_stack.get("/config.json").json()["local"] is True


def test_an_invitation_lands_in_the_outbox_and_never_carries_the_temporary_password(local_stack: LocalStack) -> None:
    email = f"invitee-{uuid.uuid4().hex[:8]}@example.com"
    invited = local_stack.api("POST", "/admin/users", token=local_stack.admin_token(), json={"email": email})
    assert invited.status_code == 201, invited.text

    mail = _wait_for(local_stack, email, "Your DocuServe account")
    assert f"{local_stack.base_url}/" in mail["text"]
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", mail["at"])
    # The console still shows the temporary password (as before); the mail never does.
    printed = re.search(rf"to\s+{re.escape(email)}\n.*?temporary password\s+(\S+)\n", local_stack.log(), re.S)
    assert printed, local_stack.log()[-2000:]
    password = printed.group(1)
    assert password not in mail["text"]
    assert password not in mail["html"]


def test_a_partner_download_mails_the_creator_and_the_outbox_is_newest_first(local_stack: LocalStack) -> None:
    owner = local_stack.create_user()
    token = local_stack.sign_in_user(owner)
    document = available_document(local_stack, token, b"%PDF-1.7 outbox", "outbox <b>test<.b>.pdf")
    created = local_stack.api(
        "POST", f"/documents/{document['id']}/shares", token=token, json={"password": "a secret for partners"}
    )
    assert created.status_code == 201, created.text
    public = f"{local_stack.api_url}/public/shares/{created.json()['token']}/download"
    assert requests.post(public, json={"password": "a secret for partners"}, timeout=30).status_code == 200

    mail = _wait_for(local_stack, owner.email, "Your link was downloaded")
    assert "outbox <b>test<.b>.pdf" in mail["text"]
    assert "outbox &lt;b&gt;test&lt;.b&gt;.pdf" in mail["html"]
    assert "a secret for partners" not in mail["text"] + mail["html"]

    later = f"invitee-{uuid.uuid4().hex[:8]}@example.com"
    local_stack.api("POST", "/admin/users", token=local_stack.admin_token(), json={"email": later})
    _wait_for(local_stack, later, "Your DocuServe account")
    entries = _outbox(local_stack)
    assert entries[0]["to"] == later  # newest first
    assert [e["at"] for e in entries] == sorted((e["at"] for e in entries), reverse=True)


def test_concurrent_downloads_in_the_same_hour_send_one_mail(local_stack: LocalStack) -> None:
    owner = local_stack.create_user()
    token = local_stack.sign_in_user(owner)
    document = available_document(local_stack, token, b"%PDF-1.7 race", "race.pdf")
    link = local_stack.api("POST", f"/documents/{document['id']}/shares", token=token, json={}).json()
    public = f"{local_stack.api_url}/public/shares/{link['token']}/download"
    start = threading.Barrier(4)
    answers: list[int] = []

    def download() -> None:
        start.wait()
        answers.append(requests.post(public, json={}, timeout=30).status_code)

    threads = [threading.Thread(target=download) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == [200] * 4

    _wait_for(local_stack, owner.email, "Your link was downloaded")
    deadline = time.monotonic() + 20  # every download's audit event has been through the stream
    while time.monotonic() < deadline:
        activity = local_stack.api("GET", f"/shares/{link['id']}/activity", token=token).json()["items"]
        if [e["action"] for e in activity].count("share.downloaded") == 4:
            break
        time.sleep(0.2)
    mails = [m for m in _outbox(local_stack) if m["to"] == owner.email]
    assert len(mails) == 1, mails
    assert local_stack.api("GET", f"/shares/{link['id']}", token=token).json()["download_count"] == 4


def test_the_outbox_takes_no_writes(local_stack: LocalStack) -> None:
    reply = requests.post(f"{local_stack.base_url}/_local/outbox", json={}, timeout=10)
    assert reply.status_code == 405
