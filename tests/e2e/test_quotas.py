"""Workspace quotas under real concurrency, over HTTP against the local stack (issue 17).

The local stack runs each request in its own invocation, at the same time, with every moto call
atomic (README, "Local stack"): a burst of creations interleaves its reads and reservations as it
would in AWS. Whatever the interleaving, the accepted uploads never exceed the quota.
"""

from __future__ import annotations

import base64
import hashlib
import threading
from collections.abc import Callable
from typing import Any

import pytest
import requests

from tests.e2e.client import LocalStack

pytestmark = pytest.mark.e2e

SIZE = 1_000
FITS = 5  # the quota holds 5 uploads of SIZE, and a half more
BURST = 12


def _together(calls: list[Callable[[], requests.Response]]) -> list[requests.Response]:
    """Release every call at once (a barrier) and return their answers in order."""
    barrier = threading.Barrier(len(calls))
    answers: list[Any] = [None] * len(calls)

    def run(i: int, call: Callable[[], requests.Response]) -> None:
        barrier.wait()
        answers[i] = call()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return answers


def _usage(stack: LocalStack, token: str, workspace: str) -> tuple[int, int]:
    answer = stack.api("GET", f"/workspaces/{workspace}", token=token).json()
    return int(answer["used_bytes"]), int(answer["quota_bytes"])


def _creation(stack: LocalStack, token: str, workspace: str, n: int) -> Callable[[], requests.Response]:
    body = bytes([n]) * SIZE
    checksum = base64.b64encode(hashlib.sha256(body).digest()).decode()
    document = {"name": f"burst {n}.bin", "content_type": "application/octet-stream", "size": SIZE, "sha256": checksum}
    return lambda: stack.api("POST", f"/workspaces/{workspace}/documents", token=token, json=document)


def test_a_burst_of_creations_never_exceeds_the_quota_and_aborts_give_it_back(local_stack: LocalStack) -> None:
    owner = local_stack.sign_in_user(local_stack.create_user())
    created = local_stack.api("POST", "/workspaces", token=owner, json={"name": "e2e quotas"})
    assert created.status_code == 201, created.text
    workspace = created.json()["id"]
    quota = FITS * SIZE + SIZE // 2
    set_quota = local_stack.api(
        "PATCH", f"/admin/workspaces/{workspace}", token=local_stack.admin_token(), json={"quota_bytes": quota}
    )
    assert set_quota.status_code == 200, set_quota.text

    answers = _together([_creation(local_stack, owner, workspace, n) for n in range(BURST)])

    statuses = sorted(a.status_code for a in answers)
    assert set(statuses) <= {201, 413, 429}, [a.text for a in answers if a.status_code not in (201, 413, 429)]
    accepted = [a.json() for a in answers if a.status_code == 201]
    refused = [a.json() for a in answers if a.status_code == 413]
    assert len(accepted) * SIZE <= quota, statuses
    assert len(accepted) == FITS or 429 in statuses, statuses  # only contention may leave room unused
    assert refused, statuses
    assert all(r["code"] == "quota_exceeded" for r in refused)
    assert all(0 <= r["details"]["remaining_bytes"] < SIZE for r in refused)
    assert _usage(local_stack, owner, workspace) == (len(accepted) * SIZE, quota)
    listed = local_stack.api("GET", f"/workspaces/{workspace}/documents", token=owner).json()["items"]
    assert len(listed) == len(accepted)

    aborts = _together(
        [lambda u=c["upload"]["upload_id"]: local_stack.api("DELETE", f"/uploads/{u}", token=owner) for c in accepted]
    )
    assert all(a.status_code == 204 for a in aborts), [a.text for a in aborts]
    assert _usage(local_stack, owner, workspace) == (0, quota)
    again = _creation(local_stack, owner, workspace, 99)()
    assert again.status_code == 201, again.text
