"""A partner's whole journey over the local stack: open the link, give the password, download the
exact bytes, and meet the limit message after the last download; the owner sees it in the activity."""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests

from tests.e2e.client import LocalStack, available_document

pytestmark = pytest.mark.e2e

PASSWORD = "partner passphrase"


def _available_document(stack: LocalStack, token: str, body: bytes, name: str) -> dict[str, Any]:
    return available_document(stack, token, body, name)


def _partner(stack: LocalStack, method: str, path: str, **kwargs: Any) -> requests.Response:
    # No Authorization header: a partner has no account.
    return requests.request(method, f"{stack.api_url}{path}", timeout=10, **kwargs)


def test_a_partner_opens_a_password_link_downloads_the_exact_bytes_and_then_meets_the_limit(
    local_stack: LocalStack,
) -> None:
    member = local_stack.member_token()
    content = b"%PDF-1.7\n" + bytes(range(256)) * 40 + b"\n%%EOF\n"
    document = _available_document(local_stack, member, content, "Q3 launch plan.pdf")
    created = local_stack.api(
        "POST",
        f"/documents/{document['id']}/shares",
        token=member,
        json={"password": PASSWORD, "max_downloads": 1, "expires_in_days": 3, "label": "ACME"},
    )
    assert created.status_code == 201, created.text
    link = created.json()
    assert link["url"] == f"{local_stack.base_url}/s/{link['token']}"
    token = link["token"]

    page = _partner(local_stack, "GET", f"/public/shares/{token}")
    assert page.status_code == 200, page.text
    assert page.json() == {
        "name": "Q3 launch plan.pdf",
        "size": len(content),
        "content_type": "application/pdf",
        "expires_at": link["expires_at"],
        "password_required": True,
        "downloads_remaining": 1,
        "sender": "member@example.com",  # the creator's verified e-mail, frozen on the link
        "message": None,
        "verification_required": False,
    }

    asked = _partner(local_stack, "POST", f"/public/shares/{token}/download", json={})
    assert (asked.status_code, asked.json()["code"]) == (403, "password_required")
    wrong = _partner(local_stack, "POST", f"/public/shares/{token}/download", json={"password": "not it"})
    assert (wrong.status_code, wrong.json()["code"]) == (403, "password_incorrect")

    granted = _partner(local_stack, "POST", f"/public/shares/{token}/download", json={"password": PASSWORD})
    assert granted.status_code == 200, granted.text
    fetched = requests.get(granted.json()["url"], timeout=10)
    assert fetched.status_code == 200
    assert fetched.content == content

    for after in (
        _partner(local_stack, "POST", f"/public/shares/{token}/download", json={"password": PASSWORD}),
        _partner(local_stack, "GET", f"/public/shares/{token}"),
    ):
        assert after.status_code == 410
        assert after.json()["code"] == "link_exhausted"
        assert "download limit" in after.json()["message"]

    view = local_stack.api("GET", f"/shares/{link['id']}", token=member).json()
    assert (view["state"], view["download_count"], view["downloads_remaining"]) == ("used_up", 1, 0)

    # Every attempt is on the record: the missing password and the one past the limit as refusals.
    expected = [
        ("share.created", ""),
        ("share.download_refused", "link_exhausted"),
        ("share.download_refused", "password_required"),
        ("share.downloaded", ""),
        ("share.password_failed", ""),
    ]
    deadline = time.monotonic() + 15
    actions: list[tuple[str, str]] = []
    while time.monotonic() < deadline:
        activity = local_stack.api("GET", f"/shares/{link['id']}/activity", token=member).json()
        actions = sorted((e["action"], (e.get("details") or {}).get("reason", "")) for e in activity["items"])
        if len(actions) >= len(expected):
            break
        time.sleep(0.3)
    assert actions == expected, local_stack.log()[-3000:]
    assert PASSWORD not in local_stack.log()
    # SPEC promise 3: the token is never logged, not even by the local API front's access lines.
    assert token not in local_stack.log()
    assert "/api/public/shares/{token}" in local_stack.log()
