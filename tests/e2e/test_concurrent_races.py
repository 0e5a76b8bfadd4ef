"""Races at the documents/sharing seam, driven concurrently over HTTP against the local stack.

The local stack runs each request in its own invocation, at the same time, with every moto call
atomic (README, "Local stack"), so two requests released together interleave their AWS calls as
they would in AWS. Whatever the interleaving, the life-cycle promises of SPEC's Amendments hold.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
import requests

from tests.e2e.client import LocalStack, available_document

pytestmark = pytest.mark.e2e

ROUNDS = 4
BODY = b"%PDF-1.7\nrace\n%%EOF\n"


def _together(*calls: Callable[[], requests.Response]) -> list[requests.Response]:
    """Release every call at once (a barrier), and return their answers in order."""
    barrier = threading.Barrier(len(calls))
    answers: list[Any] = [None] * len(calls)

    def run(i: int, call: Callable[[], requests.Response]) -> None:
        barrier.wait()
        answers[i] = call()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return answers


def _workspace(stack: LocalStack, token: str) -> str:
    created = stack.api("POST", "/workspaces", token=token, json={"name": "e2e races"})
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


def _available(stack: LocalStack, token: str, workspace: str, name: str) -> str:
    return str(available_document(stack, token, BODY, name, workspace_id=workspace)["id"])


def _object_versions(stack: LocalStack, workspace: str, document: str) -> list[dict[str, Any]]:
    s3 = stack.aws("s3")
    bucket = next(b["Name"] for b in s3.list_buckets()["Buckets"] if b["Name"].endswith("-documents"))
    listed = s3.list_object_versions(Bucket=bucket, Prefix=f"documents/{workspace}/{document}/")
    return [*listed.get("Versions", []), *listed.get("DeleteMarkers", [])]


def test_purge_racing_restore_leaves_either_a_whole_document_or_nothing(local_stack: LocalStack) -> None:
    owner = local_stack.member_token()
    workspace = _workspace(local_stack, owner)
    outcomes: list[tuple[int, int]] = []
    for round_ in range(ROUNDS):
        document = _available(local_stack, owner, workspace, f"race {round_}.pdf")
        trashed = local_stack.api("DELETE", f"/documents/{document}", token=owner)
        assert trashed.status_code in (200, 204), trashed.text

        purge, restore = _together(
            lambda d=document: local_stack.api("DELETE", f"/documents/{d}?purge=true", token=owner),
            lambda d=document: local_stack.api("POST", f"/documents/{d}/restore", token=owner, json={}),
        )
        outcomes.append((purge.status_code, restore.status_code))
        assert purge.status_code < 500, purge.text
        assert restore.status_code < 500, restore.text
        purged, restored = purge.status_code in (200, 204), restore.status_code == 200
        assert purged != restored, (purge.text, restore.text)  # exactly one of them wins

        seen = local_stack.api("GET", f"/documents/{document}", token=owner)
        if restored:
            assert seen.json()["status"] == "available"
            download = local_stack.api("GET", f"/documents/{document}/download", token=owner)
            assert download.status_code == 200, download.text
            assert requests.get(download.json()["url"], timeout=10).content == BODY  # the bytes are there
        else:
            assert seen.status_code == 404
            assert _object_versions(local_stack, workspace, document) == []  # nothing left behind
    print(f"purge/restore outcomes over {ROUNDS} rounds: {outcomes}")


def test_trash_racing_share_creation_never_leaves_a_link_that_serves_a_trashed_document(
    local_stack: LocalStack,
) -> None:
    owner = local_stack.member_token()
    workspace = _workspace(local_stack, owner)
    outcomes: list[tuple[int, int]] = []
    for round_ in range(ROUNDS):
        document = _available(local_stack, owner, workspace, f"share race {round_}.pdf")
        trash, share = _together(
            lambda d=document: local_stack.api("DELETE", f"/documents/{d}", token=owner),
            lambda d=document: local_stack.api(
                "POST", f"/documents/{d}/shares", token=owner, json={"expires_in_days": 1}
            ),
        )
        outcomes.append((trash.status_code, share.status_code))
        assert trash.status_code in (200, 204), trash.text  # trashing an available document always works
        assert share.status_code in (201, 409), share.text
        if share.status_code == 201:
            token = share.json()["token"]
            page = requests.get(f"{local_stack.api_url}/public/shares/{token}", timeout=10)
            download = requests.post(f"{local_stack.api_url}/public/shares/{token}/download", json={}, timeout=10)
            assert page.status_code != 200, page.text
            assert download.status_code != 200, download.text
            view = local_stack.api("GET", f"/shares/{share.json()['id']}", token=owner).json()
            assert view["state"] == "unavailable", view  # the link follows its trashed document
    print(f"trash/share outcomes over {ROUNDS} rounds: {outcomes}")
