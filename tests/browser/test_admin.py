"""The admin area: an administrator invites a user, finds them in the paged list, disables them
(after a confirmation) and enables them again; the invited user's mail reaches the local console.
Members see no admin link, and /admin tells them it is for administrators."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import BrowserContext, Locator, Page, expect

from tests.browser.conftest import ConsoleLog, screenshot
from tests.e2e.client import LocalStack, User

pytestmark = pytest.mark.e2e

PAGE_SIZE = 50  # web/js/views/admin.js


def _sign_in(page: Page, stack: LocalStack, user: User, path: str = "/") -> None:
    page.goto(stack.base_url + path)
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(user.password)
    page.get_by_role("button", name="Sign in").click()


def _row(page: Page, email: str) -> Locator:
    """The list row of ``email``, paging forward until it shows (other tests add users too)."""
    row = page.locator(f'tr[data-email="{email}"]')
    for _ in range(50):
        expect(page.get_by_role("table").or_(page.get_by_text("No users on this page."))).to_be_visible()
        try:  # the list may still be the one drawn before the invitation: give its redraw a moment
            expect(row).to_be_visible(timeout=3_000)
            return row
        except AssertionError:
            pass
        following = page.get_by_role("button", name="Next page")
        if following.is_disabled():
            break
        current = page.locator(".pager .muted").inner_text()
        following.click()
        expect(page.locator(".pager .muted")).not_to_have_text(current)
    pytest.fail(f"{email} is not in the user list")


def test_an_admin_invites_lists_disables_and_enables_a_user(
    context: BrowserContext, local_stack: LocalStack, console: ConsoleLog
) -> None:
    admin = local_stack.create_user(groups=("admins",))
    page = console.watch(context.new_page(), "admin")
    _sign_in(page, local_stack, admin)
    expect(page.get_by_role("heading", name="Workspaces")).to_be_visible()
    page.get_by_role("navigation", name="Account").get_by_role("link", name="Admin").click()
    expect(page.get_by_role("heading", name="Users", level=1)).to_be_visible()
    assert page.url == f"{local_stack.base_url}/admin"

    invitee = f"invitee-{uuid.uuid4().hex[:8]}@example.com"
    page.get_by_label("Email").fill(invitee)
    page.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_role("status").filter(has_text=f"Invitation sent to {invitee}.").first).to_be_visible()
    # The local stack prints the invitation mail, with a temporary password and where to sign in.
    assert f"to                  {invitee}" in local_stack.log()

    row = _row(page, invitee)
    expect(row).to_contain_text("Invited, has not signed in")
    expect(row).to_contain_text("Enabled")
    screenshot(page, "44-admin-users")

    # Disable asks first; Cancel changes nothing.
    row.get_by_role("button", name=f"Disable {invitee}").click()
    dialog = page.get_by_role("dialog", name=f"Disable {invitee}?")
    expect(dialog).to_be_visible()
    screenshot(page, "45-admin-disable-confirmation")
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    expect(row).to_contain_text("Enabled")

    row.get_by_role("button", name=f"Disable {invitee}").click()
    page.get_by_role("dialog").get_by_role("button", name="Disable user").click()
    row = page.locator(f'tr[data-email="{invitee}"]')
    expect(row).to_contain_text("Disabled")
    expect(row.get_by_role("button", name=f"Enable {invitee}")).to_be_visible()

    row.get_by_role("button", name=f"Enable {invitee}").click()
    expect(row).to_contain_text("Enabled")
    expect(row.get_by_role("button", name=f"Disable {invitee}")).to_be_visible()

    # A reload of the admin page keeps it (a deep link like any other).
    page.reload()
    expect(page.get_by_role("heading", name="Users", level=1)).to_be_visible()
    assert console.entries == []


def test_members_get_no_admin_link_and_no_admin_page(
    context: BrowserContext, local_stack: LocalStack, console: ConsoleLog
) -> None:
    member = local_stack.create_user()
    page = console.watch(context.new_page(), "member")
    _sign_in(page, local_stack, member, "/admin")
    expect(page.get_by_role("heading", name="Admin", level=1)).to_be_visible()
    expect(page.get_by_text("Only administrators can open this page.")).to_be_visible()
    expect(page.get_by_role("navigation", name="Account").get_by_role("link", name="Admin")).to_have_count(0)
    assert console.entries == []


def test_the_user_list_pages_forward_and_back(
    context: BrowserContext, local_stack: LocalStack, console: ConsoleLog
) -> None:
    pool = local_stack.config["user_pool_id"]
    existing = 0
    pages = local_stack.cognito.get_paginator("list_users").paginate(UserPoolId=pool)
    for page_of_users in pages:
        existing += len(page_of_users["Users"])
    for _ in range(max(0, PAGE_SIZE + 1 - existing)):
        email = f"filler-{uuid.uuid4().hex[:8]}@example.com"
        local_stack.cognito.admin_create_user(
            UserPoolId=pool,
            Username=email,
            UserAttributes=[{"Name": "email", "Value": email}],
            MessageAction="SUPPRESS",
        )
    admin = local_stack.create_user(groups=("admins",))
    page = console.watch(context.new_page(), "admin-pages")
    _sign_in(page, local_stack, admin, "/admin")
    expect(page.get_by_role("heading", name="Users", level=1)).to_be_visible()
    rows = page.locator("table.users tbody tr")
    expect(rows).to_have_count(PAGE_SIZE)
    first_page = rows.all_inner_texts()
    expect(page.get_by_role("button", name="Previous page")).to_be_disabled()

    page.get_by_role("button", name="Next page").click()
    expect(page.locator(".pager")).to_contain_text("Page 2")
    expect(page.get_by_role("button", name="Previous page")).to_be_enabled()
    assert not set(rows.all_inner_texts()) & set(first_page)

    page.get_by_role("button", name="Previous page").click()
    expect(page.locator(".pager")).to_contain_text("Page 1")
    assert rows.all_inner_texts() == first_page
    assert console.entries == []
