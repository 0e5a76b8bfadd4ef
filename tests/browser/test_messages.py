"""Messages people read instead of codes: Cognito errors in plain sentences (never Cognito's own
text), a password hint that states the pool's real rule, and an unknown member's e-mail."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from docuserve.schema import PASSWORD_POLICY
from tests.browser.conftest import ConsoleLog, screenshot
from tests.e2e.client import LocalStack

pytestmark = pytest.mark.e2e

# The policy as a sentence, built the way auth.js builds it from config.json.
POLICY_TEXT = (
    f"At least {PASSWORD_POLICY.min_length} characters, with a lower-case letter, an upper-case letter, "
    "a digit and a symbol such as ! or -."
)


@pytest.fixture
def page(browser: Browser, console: ConsoleLog) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1024, "height": 800})
    context.set_default_timeout(20_000)
    yield console.watch(context.new_page(), "messages")
    context.close()


def test_the_new_password_hint_is_the_pools_rule_and_a_weak_password_says_what_it_lacks(
    page: Page, local_stack: LocalStack, console: ConsoleLog
) -> None:
    email = f"invited-{uuid.uuid4().hex[:8]}@example.com"
    local_stack.cognito.admin_create_user(
        UserPoolId=local_stack.config["user_pool_id"],
        Username=email,
        TemporaryPassword="Temp-Passw0rd!",
        UserAttributes=[{"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "true"}],
        MessageAction="SUPPRESS",
    )
    page.goto(local_stack.base_url + "/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill("Temp-Passw0rd!")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Choose your password")).to_be_visible()
    new_password = page.get_by_label("New password", exact=True)
    expect(new_password).to_have_accessible_description(POLICY_TEXT)
    assert new_password.get_attribute("minlength") == str(PASSWORD_POLICY.min_length)

    new_password.fill("Short-1!")  # 8 characters: long enough for Cognito's default, not for this pool
    page.get_by_label("Repeat the new password").fill("Short-1!")
    page.get_by_role("button", name="Set password and sign in").click()
    alert = page.get_by_role("alert")
    expect(alert).to_have_text(f"That password needs at least {PASSWORD_POLICY.min_length} characters. {POLICY_TEXT}")
    screenshot(page, "42-weak-password")
    assert console.entries == []


def test_cognito_errors_become_sentences_and_never_cognitos_own_text(page: Page, local_stack: LocalStack) -> None:
    page.goto(local_stack.base_url + "/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    cases = {
        # moto's and Cognito's text, typo included: "does not confirm to the configured password policy"
        "InvalidPasswordException": "The provided password does not confirm to the configured password policy",
        "InvalidParameterException": "1 validation error detected: Value at 'password' failed to satisfy constraint",
        "NotAuthorizedException": "Incorrect username or password.",
        "UserNotFoundException": "User does not exist.",
        "CodeMismatchException": "Invalid code provided, please request a code again.",
        "ExpiredCodeException": "Invalid code provided",
        "LimitExceededException": "Attempt limit exceeded, please try after some time.",
        "TooManyRequestsException": "Rate exceeded",
        "SomethingNewException": "internal detail",
    }
    answers: dict[str, str] = page.evaluate(
        """async (cases) => {
          const { friendlyMessage } = await import('/js/auth.js');
          return Object.fromEntries(Object.entries(cases).map(([code, text]) => [code, friendlyMessage(code, text)]));
        }""",
        cases,
    )
    for code, text in cases.items():
        assert text not in answers[code]
        assert code not in answers[code]
    assert answers["InvalidPasswordException"] == f"That password does not meet the rules. {POLICY_TEXT}"
    assert answers["InvalidParameterException"] == answers["InvalidPasswordException"]
    assert answers["NotAuthorizedException"] == "The email or password is not right."
    assert answers["UserNotFoundException"] == "The email or password is not right."
    assert answers["LimitExceededException"] == "Too many attempts. Wait a minute and try again."
    disabled = page.evaluate(
        "async () => (await import('/js/auth.js')).friendlyMessage('NotAuthorizedException', 'User is disabled.')"
    )
    assert disabled == "This account is disabled. Ask an administrator to enable it."


def test_adding_an_unknown_email_as_member_answers_in_a_sentence(
    page: Page, local_stack: LocalStack, console: ConsoleLog
) -> None:
    user = local_stack.create_user()
    token = local_stack.sign_in_user(user)
    workspace = local_stack.api("POST", "/workspaces", token=token, json={"name": "Messages"}).json()
    page.goto(f"{local_stack.base_url}/w/{workspace['id']}?tab=members")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(user.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Add a member")).to_be_visible()

    page.get_by_label("Email").fill(f"nobody-{uuid.uuid4().hex[:6]}@example.com")
    page.get_by_role("button", name="Add member").click()
    alert = page.get_by_role("alert")
    expect(alert).to_have_text("No user has this email; an admin can invite them.")
    screenshot(page, "43-unknown-member")
    # The browser logs the 422 itself; the page throws nothing.
    assert [entry for entry in console.entries if "status of 422" not in entry[2]] == []
