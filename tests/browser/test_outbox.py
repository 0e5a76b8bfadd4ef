"""The local stack's Outbox page: an admin invites someone and the invitation shows there, newest
first, its hostile-looking content shown as text (never rendered), reachable without signing in."""

from __future__ import annotations

import time
import uuid

import pytest
from playwright.sync_api import BrowserContext, expect

from tests.browser.conftest import ConsoleLog, axe_violations, screenshot
from tests.e2e.client import LocalStack, available_document

pytestmark = pytest.mark.e2e


def _wait_for_mail(stack: LocalStack, to: str) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if any(mail["to"] == to for mail in stack.get("/_local/outbox").json()):
            return
        time.sleep(0.2)
    pytest.fail(f"no mail to {to} in the outbox")


def test_the_outbox_lists_the_mail_the_stack_sent_as_text(
    context: BrowserContext, local_stack: LocalStack, console: ConsoleLog
) -> None:
    # A download mail whose document name is markup: the page must show it, not run it.
    owner = local_stack.create_user()
    token = local_stack.sign_in_user(owner)
    document = available_document(local_stack, token, b"%PDF-1.7 page", '<img src=x onerror="window.pwned=1">.pdf')
    link = local_stack.api("POST", f"/documents/{document['id']}/shares", token=token, json={}).json()
    assert local_stack.api("POST", f"/public/shares/{link['token']}/download", json={}).status_code == 200
    _wait_for_mail(local_stack, owner.email)  # sent from the table's stream, a moment later
    invitee = f"outbox-{uuid.uuid4().hex[:8]}@example.com"
    invited = local_stack.api("POST", "/admin/users", token=local_stack.admin_token(), json={"email": invitee})
    assert invited.status_code == 201, invited.text

    page = console.watch(context.new_page(), "outbox")
    page.goto(local_stack.base_url + "/")  # signed out: the header still offers the outbox
    page.get_by_role("navigation", name="Account").get_by_role("link", name="Outbox").click()
    expect(page.get_by_role("heading", name="Outbox", level=1)).to_be_visible()
    mails = page.locator("li.mail")
    expect(mails.first.locator(".mail-to")).to_have_text(invitee)  # newest first
    expect(mails.first.get_by_role("heading", level=2)).to_have_text("Your DocuServe account")

    download = mails.filter(has=page.locator(".mail-to", has_text=owner.email)).first
    expect(download.locator(".mail-text")).to_contain_text('<img src=x onerror="window.pwned=1">.pdf')
    download.get_by_text("HTML version (source)").click()
    expect(download.locator(".mail-html")).to_contain_text("&lt;img src=x")
    assert page.evaluate("window.pwned") is None
    assert page.locator("main img").count() == 0
    screenshot(page, "80-outbox")
    assert axe_violations(page) == []

    page.reload()  # a deep link like any other page
    expect(page.get_by_role("heading", name="Outbox", level=1)).to_be_visible()
    assert console.entries == []
