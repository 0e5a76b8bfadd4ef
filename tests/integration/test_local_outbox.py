"""The local outbox (``local.outbox``) and the local stack's invitation mail."""

from __future__ import annotations

from typing import Any

from docuserve import clock
from docuserve.adapters import mail
from local.outbox import outbox
from tests.support.documents import make_user, ok
from tests.support.gateway import call


def test_the_outbox_lists_every_mail_newest_first_with_text_html_and_time(aws: Any) -> None:
    before = clock.iso(clock.now().replace(microsecond=0))
    mail.send("first@example.com", "One", "first text", "<p>first <b>html</b></p>")
    mail.send("second@example.com", "Twö", "second text ✓", "<p>second</p>")
    entries = outbox(aws.region)
    assert [e["to"] for e in entries] == ["second@example.com", "first@example.com"]
    assert entries[0]["subject"] == "Twö"
    assert entries[0]["text"].strip() == "second text ✓"
    assert entries[1]["html"].strip() == "<p>first <b>html</b></p>"
    assert all(e["at"] >= before for e in entries)
    assert set(entries[0]) == {"to", "subject", "text", "html", "at"}


def test_a_local_invitation_lands_in_the_outbox_without_a_password(aws: Any) -> None:
    admin = make_user(aws, "root@example.com", admin=True)
    ok(call("POST", "/admin/users", claims=admin.claims, body={"email": "New.Person@Example.com"}), 201)
    (invite,) = outbox(aws.region)
    assert invite["to"] == "new.person@example.com"
    assert invite["subject"] == "Your DocuServe account"
    assert "http://localhost:8000/" in invite["text"]
    assert "temporary password" in invite["text"]
    # Cognito (moto) made the user with no temporary password here; the real local stack's console
    # prints the one it makes up. No password-shaped value is in the mail.
    assert "Password:" not in invite["text"]
    assert "password" not in invite["subject"].lower()
