"""The partner page of a recipient-restricted link: e-mail, then the code from the outbox, then the
download (with the grant in memory only); wrong codes, and the member's dialog with recipients."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.browser.conftest import ConsoleLog, axe_violations, screenshot
from tests.e2e.client import LocalStack, available_document

pytestmark = pytest.mark.e2e

_CODE = re.compile(r"^\s+([0-9]{6})\s*$", re.MULTILINE)


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context(accept_downloads=True, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(20_000)
    yield context
    context.close()


def _code(stack: LocalStack, to: str, seen: int = 0) -> str:
    """The newest code mailed to ``to`` once more than ``seen`` codes were (the outbox lists newest first)."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        mails = [m for m in stack.get("/_local/outbox").json() if m["to"] == to and "code" in m["subject"]]
        if len(mails) > seen:
            match = _CODE.search(mails[0]["text"])
            assert match, mails[0]["text"]
            return match[1]
        time.sleep(0.2)
    pytest.fail(f"no code mailed to {to}")


def _ask_code(page: Page, email: str) -> None:
    page.get_by_label("Your e-mail address").fill(email)
    page.get_by_role("button", name="Send me a code").click()
    expect(page.get_by_label("Code from the e-mail")).to_be_visible()


def test_a_partner_verifies_by_code_then_downloads(
    context: BrowserContext, local_stack: LocalStack, console: ConsoleLog
) -> None:
    owner = local_stack.create_user()
    token = local_stack.sign_in_user(owner)
    content = b"%PDF-1.7 for the recipient only"
    document = available_document(local_stack, token, content, "Recipient plan.pdf")
    partner = f"partner-{uuid.uuid4().hex[:8]}@example.org"
    link = local_stack.api(
        "POST",
        f"/documents/{document['id']}/shares",
        token=token,
        json={"recipients": [partner], "password": "open sesame 42"},
    ).json()

    page = console.watch(context.new_page(), "partner")
    page.goto(link["url"])
    expect(page.get_by_role("heading", name="Recipient plan.pdf")).to_be_visible()
    expect(page.get_by_role("button", name="Download")).to_have_count(0)  # not before the code
    screenshot(page, "90-recipient-email")
    assert axe_violations(page) == []

    _ask_code(page, partner.upper())
    code = _code(local_stack, partner)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    page.get_by_label("Code from the e-mail").fill(wrong)
    page.get_by_role("button", name="Confirm").click()
    expect(page.locator(".message")).to_contain_text("That code is not right. 4 tries left.")
    screenshot(page, "91-recipient-wrong-code")
    assert axe_violations(page) == []

    page.get_by_label("Code from the e-mail").fill(code)
    with page.expect_response(lambda r: r.url.endswith("/verify/confirm")) as confirmed:
        page.get_by_role("button", name="Confirm").click()
    grant = confirmed.value.json()["grant"]
    expect(page.locator(".verified-as")).to_have_text(f"Confirmed: {partner}.")
    page.get_by_label("Password").fill("open sesame 42")
    with page.expect_download() as started:
        page.get_by_role("button", name="Download", exact=True).click()
    path = started.value.path()
    assert path is not None
    with open(path, "rb") as handle:
        assert handle.read() == content
    # The grant lives in the page's memory only: no storage, cookie or address holds it.
    stored = page.evaluate("JSON.stringify([Object.entries(localStorage), Object.entries(sessionStorage)])")
    assert grant not in stored
    assert grant not in str(context.cookies())
    assert grant not in page.url
    screenshot(page, "92-recipient-downloaded")
    assert console.entries == [] or all(e[1] == "console" and "403" in e[2] for e in console.entries)

    # The member's link activity names the verified address (the stream writes it a moment later).
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        events = local_stack.api("GET", f"/shares/{link['id']}/activity", token=token).json()["items"]
        if any(e["action"] == "share.downloaded" for e in events):
            break
        time.sleep(0.2)
    member = context.new_page()
    member.goto(f"{local_stack.base_url}/d/{document['id']}")
    member.get_by_label("Email").fill(owner.email)
    member.get_by_label("Password").fill(owner.password)
    member.get_by_role("button", name="Sign in").click()
    member.locator(f"li[data-share-id='{link['id']}']").get_by_role("button", name="Activity").click()
    expect(member.get_by_role("dialog")).to_contain_text(f"verified as {partner}")


def test_a_stranger_is_told_the_same_and_a_used_up_code_is_explained(
    context: BrowserContext, local_stack: LocalStack
) -> None:
    owner = local_stack.create_user()
    token = local_stack.sign_in_user(owner)
    document = available_document(local_stack, token, b"%PDF-1.7 x", "Stranger.pdf")
    partner = f"partner-{uuid.uuid4().hex[:8]}@example.org"
    link = local_stack.api(
        "POST", f"/documents/{document['id']}/shares", token=token, json={"recipients": [partner]}
    ).json()
    page = context.new_page()
    page.goto(link["url"])
    stranger = f"stranger-{uuid.uuid4().hex[:8]}@example.net"
    _ask_code(page, stranger)
    expect(page.locator(".verify-code")).to_contain_text(f"If {stranger} may open this link")
    for tries_left in (4, 3, 2, 1):
        page.get_by_label("Code from the e-mail").fill("000000")
        page.get_by_role("button", name="Confirm").click()
        expect(page.locator(".message")).to_contain_text(f"{tries_left} tr")
    page.get_by_label("Code from the e-mail").fill("000000")
    page.get_by_role("button", name="Confirm").click()
    expect(page.locator(".message")).to_contain_text("Too many wrong codes. Ask for a new code")
    assert [m for m in local_stack.get("/_local/outbox").json() if m["to"] == stranger] == []

    # Three codes per quarter hour: the fourth request is told to wait.
    for _ in range(2):
        page.get_by_role("button", name="Send a new code or use another address").click()
        _ask_code(page, stranger)
    page.get_by_role("button", name="Send a new code or use another address").click()
    page.get_by_label("Your e-mail address").fill(stranger)
    page.get_by_role("button", name="Send me a code").click()
    expect(page.locator(".message")).to_contain_text("Too many codes were asked for this address. Try again in")


def test_the_share_dialog_takes_recipients_and_sends_them_the_link(
    context: BrowserContext, local_stack: LocalStack, console: ConsoleLog
) -> None:
    owner = local_stack.create_user()
    token = local_stack.sign_in_user(owner)
    document = available_document(local_stack, token, b"%PDF-1.7 y", "Dialog.pdf")
    partner = f"partner-{uuid.uuid4().hex[:8]}@example.org"
    page = console.watch(context.new_page(), "member")
    page.goto(f"{local_stack.base_url}/d/{document['id']}")
    page.get_by_label("Email").fill(owner.email)
    page.get_by_label("Password").fill(owner.password)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="New link").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Only for these e-mail addresses (optional)").fill(f" {partner.upper()} ")
    dialog.get_by_label("Send the link to the recipients by e-mail (never the password)").check()
    screenshot(page, "93-share-dialog-recipients")
    assert axe_violations(page) == []
    dialog.get_by_role("button", name="Create link").click()
    expect(dialog.locator(".recipients-note")).to_contain_text(partner)
    url = dialog.locator(".share-url").input_value()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        sent = [m for m in local_stack.get("/_local/outbox").json() if m["to"] == partner]
        if sent:
            break
        time.sleep(0.2)
    assert [m["subject"] for m in sent] == ["A document was shared with you"]
    assert url in sent[0]["text"]
    dialog.get_by_role("button", name="Done").click()
    expect(page.locator("li[data-share-id]").first).to_contain_text(f"for {partner}")
    assert console.entries == []
