"""Upload requests in the web app (issue 17): a member asks for files and gets the one-time link;
the partner page /r/{token} takes two dropped files, shows each one's progress and status until
received, and the member sees them on the request's page."""

from __future__ import annotations

import pytest
from playwright.sync_api import BrowserContext, expect

from tests.browser.conftest import ConsoleLog, axe_violations, member_with_workspace, screenshot, signed_in_page
from tests.e2e.client import LocalStack

pytestmark = pytest.mark.e2e


def test_a_member_asks_for_files_and_a_partner_drops_two(
    context: BrowserContext, local_stack: LocalStack, console: ConsoleLog
) -> None:
    member, workspace = member_with_workspace(local_stack, "Requests")
    page = signed_in_page(context, console, local_stack, member, f"/w/{workspace}?tab=requests")
    expect(page.get_by_role("heading", name="Upload requests")).to_be_visible()
    page.get_by_label("Folder the files go to").fill("/from-partner")
    page.get_by_label("Most files").fill("5")
    page.get_by_label("Message to the partner (optional)").fill("The signed contracts, please")
    page.get_by_label("Label (optional, only you see it)").fill("Contracts")
    page.get_by_role("button", name="Create request link").click()
    link = page.get_by_label("Request link")
    expect(link).to_be_visible()
    url = link.input_value()
    assert "/r/" in url
    expect(page.locator("table.requests")).to_contain_text("Contracts")

    partner = console.watch(context.new_page(), "partner")
    partner.goto(url)
    expect(partner.get_by_role("heading", name="Send files")).to_be_visible()
    expect(partner.get_by_text("The signed contracts, please")).to_be_visible()
    expect(partner.locator(".allowance")).to_contain_text("5 more files")
    assert axe_violations(partner) == []
    drop = partner.evaluate_handle(
        """() => {
          const transfer = new DataTransfer();
          transfer.items.add(new File(["%PDF-1.7 first"], "first.pdf", { type: "application/pdf" }));
          transfer.items.add(new File(["%PDF-1.7 second"], "second.pdf", { type: "application/pdf" }));
          return transfer;
        }"""
    )
    partner.locator(".dropzone").dispatch_event("drop", {"dataTransfer": drop})
    rows = partner.locator("ul.request-uploads li")
    expect(rows).to_have_count(2)
    expect(partner.locator('li[data-name="first.pdf"] .status')).to_have_text("Received", timeout=60_000)
    expect(partner.locator('li[data-name="second.pdf"] .status')).to_have_text("Received", timeout=60_000)
    expect(partner.locator(".allowance")).to_contain_text("3 more files")
    screenshot(partner, "upload-request-partner")

    page.get_by_role("link", name="Contracts").click()
    expect(page.locator("ul.request-files")).to_contain_text("first.pdf")
    expect(page.locator("ul.request-files")).to_contain_text("second.pdf")
    expect(page.locator("table.audit")).to_contain_text("upload")
    page.get_by_role("button", name="Close request").click()
    page.get_by_role("dialog").get_by_role("button", name="Close request").click()
    partner.reload()
    expect(partner.get_by_role("heading", name="This request is closed")).to_be_visible()
    assert console.entries == [] or all("410" in text for _, _, text in console.entries), console.entries


def test_a_recipient_confirms_the_mailed_code_then_sends_a_file(
    context: BrowserContext, local_stack: LocalStack, console: ConsoleLog
) -> None:
    import re
    import time
    import uuid

    member, workspace = member_with_workspace(local_stack, "Restricted requests")
    partner_email = f"partner-{uuid.uuid4().hex[:8]}@example.org"
    created = local_stack.api(
        "POST",
        f"/workspaces/{workspace}/requests",
        token=local_stack.sign_in_user(member),
        json={"folder": "/in", "max_files": 2, "max_bytes": 10_000, "recipients": [partner_email]},
    )
    assert created.status_code == 201, created.text
    partner = console.watch(context.new_page(), "partner")
    partner.goto(created.json()["url"])
    expect(partner.get_by_role("heading", name="Send files")).to_be_visible()
    expect(partner.locator(".drop-slot")).to_be_hidden()
    partner.locator(".verify-email").get_by_label("Your e-mail address").fill(partner_email)
    partner.get_by_role("button", name="Send me a code").click()
    expect(partner.get_by_label("Code from the e-mail")).to_be_visible()
    code = None
    deadline = time.monotonic() + 20
    while code is None and time.monotonic() < deadline:
        mails = [m for m in local_stack.get("/_local/outbox").json() if m["to"] == partner_email]
        found = re.search(r"^\s+([0-9]{6})\s*$", mails[0]["text"], re.MULTILINE) if mails else None
        code = found[1] if found else None
        time.sleep(0.2)
    assert code, "no code was mailed"
    partner.get_by_label("Code from the e-mail").fill(code)
    partner.get_by_role("button", name="Confirm").click()
    expect(partner.get_by_text("You can send files now")).to_be_visible()
    partner.locator(".dropzone input[type=file]").set_input_files(
        files=[{"name": "proof.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.7 proof"}]
    )
    expect(partner.locator('li[data-name="proof.pdf"] .status')).to_have_text("Received", timeout=60_000)
    assert console.entries == [], console.entries
