"""Web app v2 (issue 15), in a real browser against the local stack: the partner page (sender,
message, downloads left, the limit), unsafe actions that ask first, and the pages built on the new
routes. Each test sets its data up through the API and drives only the screen it is about."""

from __future__ import annotations

import hashlib
import re
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.browser.conftest import ConsoleLog, screenshot
from tests.e2e.client import LocalStack, User, available_document

pytestmark = pytest.mark.e2e

TIMEOUT_MS = 20_000
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@dataclass
class Member:
    user: User
    token: str
    workspace_id: str
    document: dict[str, Any]

    def api(self, stack: LocalStack, method: str, path: str, **kwargs: Any) -> Any:
        reply = stack.api(method, path, token=self.token, **kwargs)
        assert reply.status_code < 300, reply.text
        return reply.json() if reply.content else None


@pytest.fixture
def member(local_stack: LocalStack) -> Member:
    user = local_stack.create_user()
    token = local_stack.sign_in_user(user)
    workspace = local_stack.api(
        "POST", "/workspaces", token=token, json={"name": f"Deals {uuid.uuid4().hex[:6]}"}
    ).json()
    document = available_document(local_stack, token, PDF, "Term sheet.pdf", workspace_id=workspace["id"])
    return Member(user=user, token=token, workspace_id=workspace["id"], document=document)


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context(accept_downloads=True, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    yield context
    context.close()


@pytest.fixture
def phone(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context(
        accept_downloads=True, viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    context.set_default_timeout(TIMEOUT_MS)
    yield context
    context.close()


def sign_in(page: Page, stack: LocalStack, user: User, path: str) -> None:
    page.goto(stack.base_url + path)
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(user.password)
    page.get_by_role("button", name="Sign in").click()


def open_document(page: Page, stack: LocalStack, member: Member) -> None:
    sign_in(page, stack, member.user, f"/d/{member.document['id']}")
    expect(page.get_by_role("heading", name=member.document["name"], level=1)).to_be_visible()


# --- 1. the partner page ---


def test_the_partner_page_names_the_sender_shows_the_message_as_text_and_counts_down_to_the_limit(
    context: BrowserContext, phone: BrowserContext, local_stack: LocalStack, member: Member, console: ConsoleLog
) -> None:
    page = console.watch(context.new_page(), "member")
    open_document(page, local_stack, member)
    page.get_by_role("button", name="New link").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Download limit (optional)").fill("2")
    note = "Hi Bob,\nthe <b>signed</b> copy & the numbers.\n<img src=x onerror=alert(1)>"
    dialog.get_by_label("Message to the recipient (optional)").fill(note)
    dialog.get_by_role("button", name="Create link").click()
    link = dialog.get_by_label("Share link").input_value()
    dialog.get_by_role("button", name="Done").click()

    partner = console.watch(phone.new_page(), "partner")
    partner.goto(link)
    expect(partner.get_by_role("heading", name="Term sheet.pdf")).to_be_visible()
    facts = partner.locator("dl.details")
    expect(facts.locator("dt", has_text="Sent by")).to_be_visible()
    expect(partner.locator("dd.sender")).to_have_text(member.user.email)
    quote = partner.locator(".partner-message blockquote")
    expect(quote).to_have_text(note)  # the text itself, line breaks and angle brackets included
    assert quote.locator("b, img").count() == 0, "the message was parsed as HTML"
    expect(partner.get_by_text("valid for one minute")).to_have_count(0)
    expect(partner.locator(".link-terms")).to_contain_text("This link works until the date above")
    expect(facts.locator("dt", has_text="Link valid until")).to_be_visible()
    left = partner.locator("dd.downloads-left")
    expect(left).to_have_text("2")
    assert partner.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    screenshot(partner, "v2-01-partner-sender-message")

    button = partner.get_by_role("button", name="Download", exact=True)
    with partner.expect_download():
        button.click()
    expect(left).to_have_text("1")
    expect(partner.get_by_text("Your download has started.")).to_be_visible()
    expect(button).to_be_enabled()
    with partner.expect_download():
        button.click()
    expect(left).to_have_text("0")
    expect(button).to_be_disabled()
    expect(partner.get_by_text("That was the last download this link allows.")).to_be_visible()
    screenshot(partner, "v2-02-partner-limit-reached")
    assert console.entries == []


# --- 2. unsafe actions ask first ---


def _link(stack: LocalStack, member: Member, label: str) -> dict[str, Any]:
    return dict(member.api(stack, "POST", f"/documents/{member.document['id']}/shares", json={"label": label}))


def test_revoke_asks_first_and_the_activity_shows_it_without_a_reload(
    context: BrowserContext, local_stack: LocalStack, member: Member, console: ConsoleLog
) -> None:
    share = _link(local_stack, member, "Acme legal")
    page = console.watch(context.new_page(), "member")
    open_document(page, local_stack, member)
    row = page.locator(".links li", has_text="Acme legal")
    expect(row.get_by_text("Active")).to_be_visible()
    activity = page.locator("table.audit")
    expect(activity).to_contain_text("share created")
    expect(activity).not_to_contain_text("share revoked")

    page.get_by_role("button", name="Revoke Acme legal").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_role("heading", name="Revoke “Acme legal”?")).to_be_visible()
    screenshot(page, "v2-03-revoke-asks")
    dialog.get_by_role("button", name="Cancel").click()
    expect(page.get_by_role("dialog")).to_have_count(0)
    assert member.api(local_stack, "GET", f"/shares/{share['id']}")["state"] == "active"

    page.get_by_role("button", name="Revoke Acme legal").click()
    page.get_by_role("dialog").get_by_role("button", name="Revoke link").click()
    expect(row.get_by_text("Revoked")).to_be_visible()
    expect(page.locator("table.audit")).to_contain_text("share revoked")  # refreshed, no reload
    assert console.entries == []


def test_restoring_a_document_asks_whether_to_resume_its_links(
    context: BrowserContext, local_stack: LocalStack, member: Member, console: ConsoleLog
) -> None:
    share = _link(local_stack, member, "Auditor")
    member.api(local_stack, "DELETE", f"/documents/{member.document['id']}")
    page = console.watch(context.new_page(), "member")
    open_document(page, local_stack, member)
    page.get_by_role("button", name="Restore…").click()
    dialog = page.get_by_role("dialog")
    resume = dialog.get_by_label("Also turn its share links back on")
    expect(resume).not_to_be_checked()
    screenshot(page, "v2-04-restore-asks")
    resume.check()
    dialog.get_by_role("button", name="Restore", exact=True).click()
    expect(page.locator("dl.details")).to_contain_text("Available")
    assert member.api(local_stack, "GET", f"/shares/{share['id']}")["state"] == "active"
    assert console.entries == []


def test_removing_yourself_asks_and_a_refused_role_change_shows_the_stored_role(
    context: BrowserContext, local_stack: LocalStack, member: Member, console: ConsoleLog
) -> None:
    other = local_stack.create_user()
    member.api(
        local_stack, "POST", f"/workspaces/{member.workspace_id}/members", json={"email": other.email, "role": "viewer"}
    )
    page = console.watch(context.new_page(), "owner")
    sign_in(page, local_stack, member.user, f"/w/{member.workspace_id}?tab=members")
    mine = page.get_by_label(f"Role of {member.user.email}")
    expect(mine).to_have_value("owner")

    # The only owner cannot step down: the API refuses (409) and the dropdown shows "owner" again.
    mine.select_option("viewer")
    expect(page.get_by_role("alert")).to_contain_text("at least one owner")
    expect(mine).to_have_value("owner")

    page.get_by_role("button", name=f"Remove {member.user.email}").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_role("heading", name="Leave this workspace?")).to_be_visible()
    dialog.get_by_role("button", name="Cancel").click()
    members = member.api(local_stack, "GET", f"/workspaces/{member.workspace_id}/members")["items"]
    assert {m["email"] for m in members} == {member.user.email, other.email}

    page.get_by_role("button", name=f"Remove {other.email}").click()
    page.get_by_role("dialog").get_by_role("button", name="Remove member").click()
    expect(page.locator("ul.rows li", has_text=other.email)).to_have_count(0)
    expect(page.locator("ul.rows li", has_text=member.user.email)).to_have_count(1)
    # Chromium logs the refused PUT's 409 once; nothing else.
    assert [e for e in console.entries if "409" not in e[2]] == []


# --- 4. the workspace's share links, and readable activity ---

CHROME_ON_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
)


def test_the_share_links_page_lists_every_link_with_its_state_and_activity_reads_as_names(
    context: BrowserContext, local_stack: LocalStack, member: Member, console: ConsoleLog
) -> None:
    budget = available_document(local_stack, member.token, PDF, "Budget.pdf", workspace_id=member.workspace_id)
    used = dict(
        member.api(
            local_stack,
            "POST",
            f"/documents/{member.document['id']}/shares",
            json={"label": "Acme", "max_downloads": 3},
        )
    )
    revoked = dict(member.api(local_stack, "POST", f"/documents/{budget['id']}/shares", json={"label": "Bank"}))
    member.api(local_stack, "DELETE", f"/shares/{revoked['id']}")
    download = local_stack.api(
        "POST", f"/public/shares/{used['token']}/download", json={}, headers={"User-Agent": CHROME_ON_WINDOWS}
    )
    assert download.status_code == 200, download.text
    deadline = time.monotonic() + 20  # the stack's stream poller materialises the partner's event
    while time.monotonic() < deadline:
        events = member.api(local_stack, "GET", f"/shares/{used['id']}/activity")["items"]
        if any(e["action"] == "share.downloaded" for e in events):
            break
        time.sleep(0.3)

    page = console.watch(context.new_page(), "member")
    sign_in(page, local_stack, member.user, f"/w/{member.workspace_id}")
    page.get_by_role("navigation", name="Workspace sections").get_by_role("link", name="Share links").click()
    expect(page.get_by_role("heading", name="Share links")).to_be_visible()
    table = page.locator("table.workspace-links")
    acme = table.locator(f'tr[data-share-id="{used["id"]}"]')
    expect(acme).to_contain_text("Term sheet.pdf")
    expect(acme).to_contain_text("Acme")
    expect(acme).to_contain_text("Active")
    expect(acme).to_contain_text("1 of 3")
    expect(acme.locator("td").nth(5)).not_to_have_text("Never")
    bank = table.locator(f'tr[data-share-id="{revoked["id"]}"]')
    expect(bank).to_contain_text("Budget.pdf")
    expect(bank).to_contain_text("Revoked")
    expect(bank.locator("td").nth(5)).to_have_text("Never")
    screenshot(page, "v2-05-workspace-links")

    page.get_by_label("State").select_option("revoked")
    page.get_by_role("button", name="Show").click()
    expect(table.locator("tbody tr")).to_have_count(1)
    expect(table).to_contain_text("Bank")
    assert page.url.endswith("tab=links&state=revoked")

    page.get_by_role("link", name="Activity").click()
    activity = page.locator("table.audit")
    downloaded = activity.locator("tr", has_text="share downloaded")
    expect(downloaded).to_contain_text("“Term sheet.pdf”")
    expect(downloaded).to_contain_text("link “Acme”")
    expect(downloaded).to_contain_text("Chrome 120 on Windows")
    expect(activity).not_to_contain_text("Mozilla/5.0")
    expect(activity.locator("tr", has_text="share revoked")).to_contain_text("link “Bank”")
    screenshot(page, "v2-06-readable-activity")
    assert console.entries == []


def test_readable_agent_names_common_browsers_and_systems(context: BrowserContext, local_stack: LocalStack) -> None:
    page = context.new_page()
    page.goto(local_stack.base_url + "/")
    cases = {
        CHROME_ON_WINDOWS: "Chrome 120 on Windows",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/17.2 Mobile/15E148 Safari/604.1": "Safari 17 on iOS",
        "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0": "Firefox 121 on Linux",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.91": "Edge 120 on macOS",
        "curl/8.5.0": "curl 8.5.0",
    }
    answers = page.evaluate(
        """async (cases) => {
          const { readableAgent } = await import('/js/views/common.js');
          return Object.fromEntries(Object.keys(cases).map((ua) => [ua, readableAgent(ua)]));
        }""",
        cases,
    )
    assert answers == cases


# --- 3 and 5: folders in the breadcrumb, the folder rule, conventions ---


def test_the_document_page_shows_its_folder_hex_sha256_with_copy_and_says_tags_are_lower_case(
    browser: Browser, local_stack: LocalStack, member: Member, console: ConsoleLog
) -> None:
    member.api(local_stack, "PATCH", f"/documents/{member.document['id']}", json={"folder": "/contracts/2026"})
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    try:
        page = console.watch(context.new_page(), "member")
        open_document(page, local_stack, member)
        crumbs = page.get_by_role("navigation", name="Breadcrumb")
        expect(crumbs.get_by_role("link", name="contracts")).to_have_attribute(
            "href", re.compile(r"folder=%2Fcontracts$")
        )
        expect(crumbs.get_by_role("link", name="2026")).to_have_attribute(
            "href", re.compile(r"folder=%2Fcontracts%2F2026$")
        )
        digest = hashlib.sha256(PDF).hexdigest()  # as `sha256sum` prints it
        expect(page.locator("code.sha-hex")).to_have_text(digest)
        page.get_by_role("button", name="Copy SHA-256").click()
        expect(page.get_by_text("Copied.")).to_be_visible()
        assert page.evaluate("navigator.clipboard.readText()") == digest
        page.get_by_text("Edit details").click()
        expect(page.get_by_label("Tags")).to_have_accessible_description(re.compile("saved in lower case"))
        assert console.entries == []
    finally:
        context.close()


def test_folders_have_an_svg_icon_and_a_slash_in_a_new_folder_name_names_the_rule(
    context: BrowserContext, local_stack: LocalStack, member: Member, console: ConsoleLog
) -> None:
    member.api(local_stack, "PATCH", f"/documents/{member.document['id']}", json={"folder": "/contracts"})
    page = console.watch(context.new_page(), "member")
    sign_in(page, local_stack, member.user, f"/w/{member.workspace_id}")
    row = page.locator("table.documents tr.folder", has_text="contracts")
    expect(row.locator("svg.folder-icon")).to_have_count(1)
    expect(row).not_to_contain_text("📁")
    page.get_by_role("button", name="New folder").click()
    name = page.get_by_role("dialog").get_by_label("Folder name")
    name.fill("2026/q1")
    page.get_by_role("dialog").get_by_role("button", name="Open folder").click()
    message = name.evaluate("(input) => input.validationMessage")
    assert "cannot contain “/”" in message
    expect(page.get_by_role("dialog")).to_be_visible()  # nothing was opened
    assert console.entries == []


def test_the_members_document_page_fits_a_390_px_phone(
    phone: BrowserContext, local_stack: LocalStack, member: Member, console: ConsoleLog
) -> None:
    _link(local_stack, member, "A rather long label for a partner at a company")
    page = console.watch(phone.new_page(), "member-phone")
    open_document(page, local_stack, member)
    expect(page.locator("table.audit")).to_be_visible()
    screenshot(page, "v2-07-document-on-a-phone")
    width = page.evaluate("document.documentElement.scrollWidth")
    wide = page.evaluate(
        """() => [...document.querySelectorAll('body *')].filter((e) => e.getBoundingClientRect().right > 392)
          .filter((e) => !e.closest('.table-wrap')).map((e) => e.tagName + '.' + e.className).slice(0, 10)"""
    )
    assert width <= 390, f"the document page is {width} px wide on a 390 px phone: {wide}"
