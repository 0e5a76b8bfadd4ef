"""``notify.threat_found``: the workspace's owners and the deployment's admins, each once, as each prefers."""

from __future__ import annotations

from typing import Any

import pytest

from docuserve import notify
from tests.support.documents import add_member, create_workspace, make_user
from tests.support.gateway import call
from tests.support.outbox import sent


def test_owners_and_admins_are_each_mailed_once_as_they_prefer(aws: Any) -> None:
    owner = make_user(aws, "owner@example.com", admin=True)  # an owner who is an admin too
    co_owner = make_user(aws, "co-owner@example.com")
    quiet_owner = make_user(aws, "quiet@example.com")
    viewer = make_user(aws, "viewer@example.com")
    make_user(aws, "admin@example.com", admin=True)
    make_user(aws, "unverified-admin@example.com", admin=True, verified=False)
    other = make_user(aws, "other-owner@example.com")
    ws = create_workspace(owner, name="Finance <Q3>")
    for user, role in ((co_owner, "owner"), (quiet_owner, "owner"), (viewer, "viewer")):
        add_member(owner, ws, user, role)
    create_workspace(other)  # owners of another workspace are not told
    off = call("PUT", "/me/notifications", claims=quiet_owner.claims, body={"threat_found": False})
    assert off.status == 200, off.text

    count = notify.threat_found(ws, f"{ws}.doc1", "invoice<script>.pdf", 3, ["EICAR-Test-File", "Trojan\r\nBcc: x"])

    mails = sent()
    assert count == 3
    assert sorted(m.to for m in mails) == ["admin@example.com", "co-owner@example.com", "owner@example.com"]
    for mail in mails:
        assert mail.subject == "A threat was found in an upload"
        assert "Version 3 of invoice<script>.pdf in the workspace Finance <Q3>" in mail.text
        assert "invoice&lt;script&gt;.pdf" in mail.html
        assert "<script>" not in mail.html
        assert "EICAR-Test-File" in mail.text
        assert "Trojan Bcc: x" in mail.text
        assert "\nBcc:" not in mail.raw.split("\r\n\r\n", 1)[0]  # headers: no injected one
        assert f"/d/{ws}.doc1" in mail.text


def test_a_mail_failure_does_not_stop_the_others_or_raise(aws: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    owner = make_user(aws, "owner@example.com")
    second = make_user(aws, "second@example.com")
    ws = create_workspace(owner)
    add_member(owner, ws, second, "owner")
    from docuserve.adapters import mail

    real = mail.send

    def failing_for_owner(to: str, *args: Any) -> str | None:
        if to == "owner@example.com":
            raise ConnectionError("SES is unreachable")
        return real(to, *args)

    monkeypatch.setattr(mail, "send", failing_for_owner)
    assert notify.threat_found(ws, f"{ws}.doc", "a.pdf", 1, ["EICAR-Test-File"]) == 1
    assert [m.to for m in sent()] == ["second@example.com"]
