"""The audit chain on the running local stack: the stream chains, the schedule signs, the export verifies."""

from __future__ import annotations

import time

import pytest

from docuserve.custody.chain import verify_export
from tests.e2e.client import LocalStack

pytestmark = pytest.mark.e2e

SCHEDULE_SECONDS = 60  # local/checkpoints.py: the local stack signs every minute (AWS: every 15)


def test_an_export_carries_a_signed_checkpoint_of_recent_activity_and_verifies(local_stack: LocalStack) -> None:
    # Given a workspace with some activity
    owner = local_stack.create_user()
    token = local_stack.sign_in_user(owner)
    ws = local_stack.api("POST", "/workspaces", token=token, json={"name": "Chained"}).json()["id"]
    for path in ("/a", "/b"):
        made = local_stack.api("POST", f"/workspaces/{ws}/folders", token=token, json={"path": path})
        assert made.status_code == 201, made.text
    # When the stream has chained it and the schedule has signed the head
    deadline = time.monotonic() + 2 * SCHEDULE_SECONDS + 30
    while True:
        reply = local_stack.api("GET", f"/workspaces/{ws}/audit/export", token=token)
        assert reply.status_code == 200, reply.text
        lines = reply.text.splitlines()
        if any('"type":"checkpoint"' in line for line in lines) or time.monotonic() > deadline:
            break
        time.sleep(2)
    # Then the export is the chain and a checkpoint of its head, and it verifies against /public/keys
    assert reply.headers["content-type"].startswith("application/x-ndjson")
    keys = local_stack.api("GET", "/public/keys").json()["keys"]
    report = verify_export(lines, keys)
    assert report.ok, (report.problems, local_stack.log()[-3000:])
    assert report.events == 3  # workspace.created and two folders
    assert report.newest_checkpoint_seq == 3
