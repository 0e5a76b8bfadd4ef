"""A recipient-restricted link over the local stack: the link mailed to its recipient, the code
read from the local outbox, the grant, the exact bytes, and the owner's activity naming the address."""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

import pytest
import requests

from tests.e2e.client import LocalStack, available_document

pytestmark = pytest.mark.e2e

_CODE = re.compile(r"^\s+([0-9]{6})\s*$", re.MULTILINE)


def _partner(stack: LocalStack, method: str, path: str, **kwargs: Any) -> requests.Response:
    # No Authorization header: a partner has no account.
    return requests.request(method, f"{stack.api_url}{path}", timeout=10, **kwargs)


def _mails(stack: LocalStack, to: str, subject: str, count: int = 1) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        found = [m for m in stack.get("/_local/outbox").json() if m["to"] == to and m["subject"] == subject]
        if len(found) >= count:
            return found
        time.sleep(0.2)
    pytest.fail(f"no mail {subject!r} to {to}")


def test_a_recipient_gets_the_link_verifies_by_code_and_downloads(local_stack: LocalStack) -> None:
    member = local_stack.member_token()
    content = b"%PDF-1.7\n" + bytes(range(256)) * 8 + b"\n%%EOF\n"
    document = available_document(local_stack, member, content, "Board pack.pdf")
    partner = f"partner-{uuid.uuid4().hex[:8]}@example.org"
    stranger = f"stranger-{uuid.uuid4().hex[:8]}@example.net"
    created = local_stack.api(
        "POST",
        f"/documents/{document['id']}/shares",
        token=member,
        json={"recipients": [partner], "notify_recipients": True},
    )
    assert created.status_code == 201, created.text
    link = created.json()
    [sent] = _mails(local_stack, partner, "A document was shared with you")
    assert link["url"] in sent["text"]
    token = link["token"]

    page = _partner(local_stack, "GET", f"/public/shares/{token}").json()
    assert page["verification_required"] is True
    assert partner not in str(page)
    refused = _partner(local_stack, "POST", f"/public/shares/{token}/download", json={})
    assert (refused.status_code, refused.json()["code"]) == (403, "verification_required")

    for_stranger = _partner(local_stack, "POST", f"/public/shares/{token}/verify", json={"email": stranger})
    for_partner = _partner(local_stack, "POST", f"/public/shares/{token}/verify", json={"email": partner})
    assert (for_stranger.status_code, for_partner.status_code) == (202, 202)
    assert for_stranger.text == for_partner.text
    [mail] = _mails(local_stack, partner, "Your DocuServe verification code")
    match = _CODE.search(mail["text"])
    assert match, mail["text"]
    confirmed = _partner(
        local_stack, "POST", f"/public/shares/{token}/verify/confirm", json={"email": partner, "code": match[1]}
    )
    assert confirmed.status_code == 200, confirmed.text
    grant = confirmed.json()["grant"]

    got = _partner(local_stack, "POST", f"/public/shares/{token}/download", json={"grant": grant})
    assert got.status_code == 200, got.text
    assert requests.get(got.json()["url"], timeout=10).content == content
    assert not [m for m in local_stack.get("/_local/outbox").json() if m["to"] == stranger]

    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        items = local_stack.api("GET", f"/shares/{link['id']}/activity", token=member).json()["items"]
        downloads = [e for e in items if e["action"] == "share.downloaded"]
        if downloads:
            assert downloads[0]["details"]["recipient"] == partner
            return
        time.sleep(0.2)
    pytest.fail("the download never reached the link's activity")
