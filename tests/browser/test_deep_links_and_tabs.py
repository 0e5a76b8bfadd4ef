"""Deep links and tabs: every app route survives a reload (document ids carry a dot), a new tab at
a deep link is already signed in (tokens handed over by an open tab, never put in localStorage),
and signing out in one tab signs out all of them."""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from collections.abc import Iterator

import pytest
from botocore.exceptions import ClientError
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.browser.conftest import ConsoleLog, screenshot
from tests.e2e.client import LocalStack, User

pytestmark = pytest.mark.e2e

SESSION_KEY = "docuserve.session"
HELLO_SHA256 = base64.b64encode(hashlib.sha256(b"hello").digest()).decode()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context(viewport={"width": 1024, "height": 800})
    context.set_default_timeout(20_000)
    yield context
    context.close()


def _sign_in(page: Page, stack: LocalStack, user: User, path: str = "/") -> None:
    page.goto(stack.base_url + path)
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(user.password)
    page.get_by_role("button", name="Sign in").click()


def _document(stack: LocalStack, user: User) -> tuple[dict[str, str], dict[str, str]]:
    """A workspace and a document in it (created, not uploaded: the page shows it either way)."""
    token = stack.sign_in_user(user)
    workspace = stack.api("POST", "/workspaces", token=token, json={"name": f"Deep {uuid.uuid4().hex[:6]}"}).json()
    created = stack.api(
        "POST",
        f"/workspaces/{workspace['id']}/documents",
        token=token,
        json={"name": "Deep link plan.pdf", "content_type": "application/pdf", "size": 5, "sha256": HELLO_SHA256},
    )
    assert created.status_code == 201, created.text
    return workspace, created.json()["document"]


def test_reloading_a_document_page_keeps_the_page(
    context: BrowserContext, local_stack: LocalStack, console: ConsoleLog
) -> None:
    user = local_stack.create_user()
    workspace, document = _document(local_stack, user)
    assert "." in document["id"]
    page = console.watch(context.new_page(), "deep-links")
    _sign_in(page, local_stack, user)
    expect(page.get_by_role("heading", name="Workspaces")).to_be_visible()

    for path, heading in (
        (f"/d/{document['id']}", "Deep link plan.pdf"),
        (f"/w/{workspace['id']}", workspace["name"]),
    ):
        response = page.goto(local_stack.base_url + path)
        assert response is not None
        assert response.status == 200
        assert response.headers["content-type"].startswith("text/html")
        expect(page.get_by_role("heading", name=heading, level=1)).to_be_visible()
        page.reload()
        expect(page.get_by_role("heading", name=heading, level=1)).to_be_visible()
        assert page.url == local_stack.base_url + path
    screenshot(page, "40-deep-link-document")
    assert console.entries == []


def test_a_new_tab_at_a_deep_link_is_signed_in_and_sign_out_reaches_every_tab(
    context: BrowserContext, local_stack: LocalStack, console: ConsoleLog
) -> None:
    user = local_stack.create_user()
    _, document = _document(local_stack, user)
    first = console.watch(context.new_page(), "first-tab")
    _sign_in(first, local_stack, user)
    expect(first.get_by_role("heading", name="Workspaces")).to_be_visible()

    # A new tab (same browser profile) opened at a deep link: an open tab hands it the session.
    second = console.watch(context.new_page(), "second-tab")
    second.goto(f"{local_stack.base_url}/d/{document['id']}")
    expect(second.get_by_role("heading", name="Deep link plan.pdf", level=1)).to_be_visible()
    expect(second.get_by_role("navigation", name="Account").get_by_text(user.email)).to_be_visible()
    for page in (first, second):
        assert page.evaluate("Object.keys(localStorage).length") == 0
    screenshot(second, "41-second-tab-signed-in")

    # Signing out in the second tab signs the first one out too, and forgets its tokens.
    handed_over = json.loads(second.evaluate(f"sessionStorage.getItem('{SESSION_KEY}')"))["refreshToken"]
    second.get_by_role("button", name="Sign out").click()
    expect(second.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(first.get_by_role("heading", name="Sign in")).to_be_visible()
    assert first.evaluate("sessionStorage.length") == 0
    # The shared refresh token is revoked: no tab can get new ID tokens with it.
    with pytest.raises(ClientError):
        local_stack.cognito.initiate_auth(
            ClientId=local_stack.config["user_pool_client_id"],
            AuthFlow="REFRESH_TOKEN_AUTH",
            AuthParameters={"REFRESH_TOKEN": handed_over},
        )
    # A third tab now finds nobody to hand it a session.
    third = console.watch(context.new_page(), "third-tab")
    third.goto(f"{local_stack.base_url}/d/{document['id']}")
    expect(third.get_by_role("heading", name="Sign in")).to_be_visible()
    assert console.entries == []


def test_without_an_open_tab_a_deep_link_asks_to_sign_in_and_then_opens_the_page(
    context: BrowserContext, local_stack: LocalStack, console: ConsoleLog
) -> None:
    user = local_stack.create_user()
    _, document = _document(local_stack, user)
    page = console.watch(context.new_page(), "alone")
    _sign_in(page, local_stack, user, f"/d/{document['id']}")
    expect(page.get_by_role("heading", name="Deep link plan.pdf", level=1)).to_be_visible()
    assert console.entries == []
