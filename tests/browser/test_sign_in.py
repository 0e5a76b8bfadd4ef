"""Sign-in in the browser against the local stack's Cognito: an invited user's first password,
silent token refresh, wrong passwords, and sign-out."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import ConsoleLog, screenshot
from tests.e2e.client import USER_PASSWORD, LocalStack

pytestmark = pytest.mark.e2e

SESSION_KEY = "docuserve.session"


@pytest.fixture
def page(browser: Browser, console: ConsoleLog) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1024, "height": 800})
    context.set_default_timeout(20_000)
    yield console.watch(context.new_page(), "sign-in")
    context.close()


def _sign_in(page: Page, stack: LocalStack, email: str, password: str) -> None:
    page.goto(stack.base_url + "/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def _session(page: Page) -> dict[str, object]:
    raw = page.evaluate(f"sessionStorage.getItem('{SESSION_KEY}')")
    return dict(json.loads(raw)) if raw else {}


def test_an_invited_user_chooses_a_password_at_first_sign_in(page: Page, local_stack: LocalStack) -> None:
    email = f"invited-{uuid.uuid4().hex[:8]}@example.com"
    temporary = "Temp-Passw0rd!"
    local_stack.cognito.admin_create_user(
        UserPoolId=local_stack.config["user_pool_id"],
        Username=email,
        TemporaryPassword=temporary,
        UserAttributes=[{"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "true"}],
        MessageAction="SUPPRESS",
    )
    _sign_in(page, local_stack, email, temporary)
    expect(page.get_by_role("heading", name="Choose your password")).to_be_visible()
    expect(page.get_by_label("New password", exact=True)).to_be_focused()
    screenshot(page, "09-new-password")

    page.get_by_label("New password", exact=True).fill("Chosen-Passw0rd!")
    page.get_by_label("Repeat the new password").fill("Chosen-Passw0rd!")
    page.get_by_role("button", name="Set password and sign in").click()
    expect(page.get_by_role("heading", name="Workspaces")).to_be_visible()
    expect(page.get_by_text(email)).to_be_visible()
    # The new password is the one that works from now on.
    assert local_stack.sign_in(email, "Chosen-Passw0rd!")


def test_a_wrong_password_gets_a_plain_message_and_no_session(page: Page, local_stack: LocalStack) -> None:
    user = local_stack.create_user()
    _sign_in(page, local_stack, user.email, "not-the-password")
    expect(page.get_by_role("alert")).to_have_text("The email or password is not right.")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert _session(page) == {}


def test_an_expiring_token_is_refreshed_silently(page: Page, local_stack: LocalStack) -> None:
    user = local_stack.create_user()
    _sign_in(page, local_stack, user.email, USER_PASSWORD)
    expect(page.get_by_role("heading", name="Workspaces")).to_be_visible()
    before = _session(page)
    assert before["refreshToken"]

    # Pretend the ID token expires in a minute: the next API call refreshes it first.
    page.evaluate(
        """key => {
          const s = JSON.parse(sessionStorage.getItem(key));
          s.expiresAt = Date.now() + 60_000;
          sessionStorage.setItem(key, JSON.stringify(s));
        }""",
        SESSION_KEY,
    )
    page.reload()
    expect(page.get_by_role("heading", name="Workspaces")).to_be_visible()
    expect(page.get_by_text("You are not in any workspace yet")).to_be_visible()
    after = _session(page)
    assert after["idToken"] != before["idToken"]
    assert float(str(after["expiresAt"])) > page.evaluate("Date.now()") + 10 * 60_000
    assert after["refreshToken"] == before["refreshToken"]


def test_sign_out_forgets_the_tokens(page: Page, local_stack: LocalStack) -> None:
    user = local_stack.create_user()
    _sign_in(page, local_stack, user.email, USER_PASSWORD)
    expect(page.get_by_role("heading", name="Workspaces")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert _session(page) == {}
    page.reload()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    # Nothing secret is left in the page's address or storage.
    assert "token" not in page.url.lower()
    assert page.evaluate("Object.keys(localStorage).length") == 0
