"""Upload requests over the running local stack (issue 17): the budgets hold under concurrent
partner uploads, a partner's files become available only after their scan, and the admins'
switch stops every open request on its next call."""

from __future__ import annotations

import base64
import hashlib
import threading
import time
from collections import Counter
from typing import Any

import pytest
import requests

from tests.e2e.client import LocalStack

pytestmark = pytest.mark.e2e


def _partner(stack: LocalStack, method: str, path: str, **kwargs: Any) -> requests.Response:
    # No Authorization header: a partner has no account.
    return requests.request(method, f"{stack.api_url}{path}", timeout=30, **kwargs)


def _file(data: bytes, name: str) -> dict[str, Any]:
    digest = base64.b64encode(hashlib.sha256(data).digest()).decode()
    return {"name": name, "content_type": "application/pdf", "size": len(data), "sha256": digest}


def _request(stack: LocalStack, token: str, **terms: Any) -> dict[str, Any]:
    workspace = stack.api("POST", "/workspaces", token=token, json={"name": "e2e requests"}).json()["id"]
    body = {"folder": "/from-partners", "max_files": 5, "max_bytes": 1_000_000} | terms
    created = stack.api("POST", f"/workspaces/{workspace}/requests", token=token, json=body)
    assert created.status_code == 201, created.text
    return dict(created.json())


def test_twelve_concurrent_partner_uploads_against_five_files_accept_exactly_five(local_stack: LocalStack) -> None:
    member = local_stack.member_token()
    created = _request(local_stack, member, max_files=5)
    answers: list[requests.Response | None] = [None] * 12
    barrier = threading.Barrier(12)

    def one(i: int) -> None:
        barrier.wait()
        body = _file(f"file {i}".encode(), f"f{i}.pdf")
        answers[i] = _partner(local_stack, "POST", f"/public/requests/{created['token']}/uploads", json=body)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    statuses = Counter(a.status_code for a in answers if a is not None)
    assert statuses == {201: 5, 409: 7}, ([a.text for a in answers if a is not None], local_stack.log()[-2000:])
    found = local_stack.api("GET", f"/requests/{created['id']}", token=member).json()
    assert (found["files_used"], found["files_remaining"]) == (5, 0)


def test_a_partner_file_is_available_only_after_its_scan(local_stack: LocalStack) -> None:
    member = local_stack.member_token()
    created = _request(local_stack, member)
    data = b"%PDF-1.7\n" + bytes(range(256)) * 4 + b"\n%%EOF\n"
    started = _partner(
        local_stack, "POST", f"/public/requests/{created['token']}/uploads", json=_file(data, "signed.pdf")
    )
    assert started.status_code == 201, started.text
    instructions = started.json()
    assert requests.put(instructions["url"], data=data, headers=instructions["headers"], timeout=10).status_code == 200
    status_path = f"/public/requests/{created['token']}/uploads/{instructions['upload_id']}"
    seen: set[str] = set()
    deadline = time.monotonic() + 60  # verification, then the malware scan: queue hops on a loaded machine
    while time.monotonic() < deadline:
        status = _partner(local_stack, "GET", status_path).json()["status"]
        seen.add(status)
        if status == "completed":
            break
        time.sleep(0.2)
    assert "completed" in seen, local_stack.log()[-3000:]
    workspace = created["workspace_id"]
    listed = local_stack.api(
        "GET", f"/workspaces/{workspace}/documents", token=member, params={"folder": "/from-partners"}
    ).json()["items"]
    (doc,) = listed
    assert (doc["status"], doc["scan_status"], doc["request_id"]) == ("available", "clean", created["id"])


def test_the_switch_stops_every_open_request_on_the_next_call(local_stack: LocalStack) -> None:
    member, admin = local_stack.member_token(), local_stack.admin_token()
    first, second = _request(local_stack, member), _request(local_stack, member)
    assert _partner(local_stack, "GET", f"/public/requests/{first['token']}").status_code == 200
    off = local_stack.api("PUT", "/admin/settings", token=admin, json={"upload_requests": False})
    assert off.status_code == 200, off.text
    try:
        for created in (first, second):
            page = _partner(local_stack, "GET", f"/public/requests/{created['token']}")
            assert (page.status_code, page.json()["code"]) == (403, "upload_requests_disabled")
            body = _file(b"abc", "x.pdf")
            refused = _partner(local_stack, "POST", f"/public/requests/{created['token']}/uploads", json=body)
            assert refused.status_code == 403
        inventory = local_stack.api("GET", "/admin/requests", token=admin, params={"limit": "200"}).json()
        assert {first["id"], second["id"]} <= {r["id"] for r in inventory["items"]}
    finally:
        local_stack.api("PUT", "/admin/settings", token=admin, json={"upload_requests": True})
    assert _partner(local_stack, "GET", f"/public/requests/{first['token']}").status_code == 200
