"""The web app end to end, in a real browser: a member signs in, creates a workspace, uploads,
downloads and shares a document; a partner opens the link on a phone, enters the password and
downloads it once; a second visit says the link is used up; no page logs an error.

The steps build on each other (one member, one document, one link) and run in order in one test.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.browser.conftest import ConsoleLog, screenshot
from tests.e2e.client import LocalStack, User

pytestmark = pytest.mark.e2e

TIMEOUT_MS = 20_000
LINK_PASSWORD = "partner-secret-42"


@dataclass
class Journey:
    stack: LocalStack
    user: User
    context: BrowserContext
    page: Page
    file: Path
    workspace: str = field(default_factory=lambda: f"Launch plans {uuid.uuid4().hex[:6]}")
    link: str | None = None


@pytest.fixture
def journey(
    browser: Browser, local_stack: LocalStack, console: ConsoleLog, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Journey]:
    user = local_stack.create_user()
    file = tmp_path_factory.mktemp("files") / "launch-plan-q3.bin"
    file.write_bytes(os.urandom(300 * 1024 + 17))
    context = browser.new_context(accept_downloads=True, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    page = console.watch(context.new_page(), "member")
    yield Journey(stack=local_stack, user=user, context=context, page=page, file=file)
    context.close()


def step_1_member_signs_in_with_the_keyboard_and_creates_a_workspace(
    journey: Journey, partner: BrowserContext, console: ConsoleLog
) -> None:
    page = journey.page
    page.goto(journey.stack.base_url + "/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.get_by_label("Email")).to_be_focused()
    screenshot(page, "01-sign-in")

    page.keyboard.type(journey.user.email)
    page.keyboard.press("Tab")
    page.keyboard.type(journey.user.password)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Workspaces")).to_be_visible()
    expect(page.get_by_text(journey.user.email)).to_be_visible()

    page.get_by_label("Name", exact=True).fill(journey.workspace)
    page.get_by_label("Description (optional)").fill("Everything for the Q3 launch")
    page.get_by_role("button", name="Create workspace").click()
    expect(page.get_by_role("heading", name=journey.workspace, level=1)).to_be_visible()
    assert re.search(r"/w/[^/]+$", page.url)
    screenshot(page, "02-workspace")


def step_2_upload_shows_progress_to_100_percent_and_becomes_available(
    journey: Journey, partner: BrowserContext, console: ConsoleLog
) -> None:
    page = journey.page
    page.locator("input[type=file]").set_input_files(str(journey.file))
    upload = page.locator(".upload", has_text=journey.file.name)
    expect(upload).to_have_attribute("data-state", "available", timeout=60_000)
    expect(upload.locator(".percent")).to_have_text("100%")
    expect(upload.locator("progress")).to_have_js_property("value", 100)
    expect(upload.locator(".state")).to_have_text("Available")
    row = page.locator("table.documents tbody tr", has_text=journey.file.name)
    expect(row.get_by_text("Available")).to_be_visible()
    screenshot(page, "03-uploaded")


def step_3_download_gives_back_the_same_bytes(journey: Journey, partner: BrowserContext, console: ConsoleLog) -> None:
    page = journey.page
    with page.expect_download() as download:
        page.get_by_role("button", name=f"Download {journey.file.name}").click()
    assert Path(download.value.path()).read_bytes() == journey.file.read_bytes()
    assert download.value.suggested_filename == journey.file.name


def step_4_member_creates_a_link_with_a_password_and_a_limit_of_one(
    journey: Journey, partner: BrowserContext, console: ConsoleLog
) -> None:
    page = journey.page
    page.get_by_role("button", name=f"Share {journey.file.name}").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_role("heading", name=re.compile("Share"))).to_be_visible()
    dialog.get_by_label("Expires in (days)").fill("3")
    dialog.get_by_label("Password (optional)").fill(LINK_PASSWORD)
    dialog.get_by_label("Download limit (optional)").fill("1")
    dialog.get_by_label("Label (optional)").fill("Acme Corp")
    screenshot(page, "04-share-dialog")
    dialog.get_by_role("button", name="Create link").click()

    link_field = dialog.get_by_label("Share link")
    expect(link_field).to_have_value(re.compile(r"/s/[A-Za-z0-9_-]{40,}$"))
    link = link_field.input_value()
    assert link.startswith(f"{journey.stack.base_url}/s/")
    expect(dialog.get_by_role("button", name="Copy link")).to_be_focused()
    expect(dialog.get_by_text("shown only this once")).to_be_visible()
    screenshot(page, "05-link-created")
    dialog.get_by_role("button", name="Done").click()
    expect(page.get_by_role("dialog")).to_have_count(0)
    journey.link = link


@pytest.fixture
def partner(browser: Browser) -> Iterator[BrowserContext]:
    """A fresh browser context on a phone: no cookies, no session, nothing of the member's."""
    context = browser.new_context(
        accept_downloads=True, viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    context.set_default_timeout(TIMEOUT_MS)
    yield context
    context.close()


def step_5_partner_enters_the_password_and_downloads(
    journey: Journey, partner: BrowserContext, console: ConsoleLog
) -> None:
    assert journey.link
    page = console.watch(partner.new_page(), "partner")
    page.goto(journey.link)
    expect(page.get_by_role("heading", name=journey.file.name)).to_be_visible()
    expect(page.get_by_text("Downloads left")).to_be_visible()
    password = page.get_by_label("Password")
    expect(password).to_be_focused()
    screenshot(page, "06-partner-page")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "the page scrolls sideways"

    password.fill(LINK_PASSWORD)
    with page.expect_download() as download:
        page.get_by_role("button", name="Download", exact=True).click()
    assert Path(download.value.path()).read_bytes() == journey.file.read_bytes()
    expect(page.get_by_text("Your download has started.")).to_be_visible()


def step_6_opening_the_link_again_says_it_is_used_up(
    journey: Journey, partner: BrowserContext, console: ConsoleLog
) -> None:
    assert journey.link
    page = console.watch(partner.new_page(), "partner-again")
    page.goto(journey.link)
    expect(page.get_by_role("heading", name="This link has been used up")).to_be_visible()
    expect(page.get_by_role("button", name="Download")).to_have_count(0)
    screenshot(page, "07-partner-used-up")


def step_7_member_sees_the_link_used_up_and_adds_a_version(
    journey: Journey, partner: BrowserContext, console: ConsoleLog
) -> None:
    page = journey.page
    page.get_by_role("link", name=journey.file.name).click()
    expect(page.get_by_role("heading", name=journey.file.name, level=1)).to_be_visible()
    link = page.locator(".links li", has_text="Acme Corp")
    expect(link.get_by_text("Used up")).to_be_visible()
    expect(link).to_contain_text("1 of 1 downloads")

    second = journey.file.with_name("launch-plan-q3-v2.bin")
    second.write_bytes(os.urandom(64 * 1024))
    page.locator("input[type=file]").set_input_files(str(second))
    # Once the version is available the page reloads the document with its new version list.
    versions = page.get_by_role("region", name="Versions")
    expect(versions.get_by_text("v2 (current)")).to_be_visible(timeout=60_000)
    expect(versions.get_by_role("row")).to_have_count(3)  # header, v2, v1
    screenshot(page, "08-document")


def step_8_a_revoked_link_tells_the_partner_it_was_withdrawn(
    journey: Journey, partner: BrowserContext, console: ConsoleLog
) -> None:
    page = journey.page
    page.get_by_role("button", name="New link").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Label (optional)").fill("Old supplier")
    dialog.get_by_role("button", name="Create link").click()
    link = dialog.get_by_label("Share link").input_value()
    dialog.get_by_role("button", name="Done").click()
    page.get_by_role("button", name="Revoke Old supplier").click()
    page.get_by_role("dialog").get_by_role("button", name="Revoke link").click()  # it asks first
    expect(page.locator(".links li", has_text="Old supplier").get_by_text("Revoked")).to_be_visible()

    visitor = console.watch(partner.new_page(), "partner-revoked")
    visitor.goto(link)
    expect(visitor.get_by_role("heading", name="This link has been withdrawn")).to_be_visible()


def step_9_no_page_logged_an_error(journey: Journey, partner: BrowserContext, console: ConsoleLog) -> None:
    # The only expected error lines: Chromium logs the API's 410 for the dead links it was asked about.
    gone = re.compile(r"Failed to load resource: the server responded with a status of 410")
    dead_links = ("partner-again", "partner-revoked")
    unexpected = [e for e in console.entries if not (e[0] in dead_links and gone.search(e[2]))]
    assert unexpected == []


STEPS = (
    step_1_member_signs_in_with_the_keyboard_and_creates_a_workspace,
    step_2_upload_shows_progress_to_100_percent_and_becomes_available,
    step_3_download_gives_back_the_same_bytes,
    step_4_member_creates_a_link_with_a_password_and_a_limit_of_one,
    step_5_partner_enters_the_password_and_downloads,
    step_6_opening_the_link_again_says_it_is_used_up,
    step_7_member_sees_the_link_used_up_and_adds_a_version,
    step_8_a_revoked_link_tells_the_partner_it_was_withdrawn,
    step_9_no_page_logged_an_error,
)


def test_member_and_partner_journey(journey: Journey, partner: BrowserContext, console: ConsoleLog) -> None:
    """Every step builds on the one before, so they run in one test: pytest-xdist may hand the
    tests of one module to different workers. A failure's traceback names its step."""
    for step in STEPS:
        step(journey, partner, console)
