"""Browser tier: the web app in Debian's headless Chromium, driven by Playwright, against the local stack.

``.ci/run`` installs ``chromium`` with apt-get; Playwright comes from PyPI (dev dependencies) and
drives that binary, so nothing is downloaded at test time. axe-core (the accessibility engine) is
an npm dev dependency: ``npm install`` (which ``make test`` runs) puts it in ``node_modules/``,
and ``axe_violations`` injects it into a page.

Screenshots land in ``artifacts/screenshots/`` (git-ignored; CI keeps the folder): the steps a test
names with ``screenshot(page, name)``, and, without any code in the test, every page still open
when a browser test's body ends, pass or fail (``{test}--{n}.png``; a failure's also carries
``FAILED``), taken before the test's fixtures close them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, expect, sync_playwright

from tests.e2e.client import LocalStack, User
from tests.e2e.conftest import local_stack  # noqa: F401  (the same session fixture as the e2e tier)

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
# The rules axe-core runs: WCAG 2.0, 2.1 and 2.2 at levels A and AA.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]

# Assertions wait for the page up to this long (Playwright's default is 5 s): on a loaded CI
# machine an upload's hashing, polling and a retried part's back-off can take longer.
expect.set_options(timeout=20_000)


@dataclass
class ConsoleLog:
    """Every console error and uncaught exception of the pages it watches, with the page's name."""

    entries: list[tuple[str, str, str]] = field(default_factory=list)  # (page, kind, text)

    def watch(self, page: Page, name: str) -> Page:
        def on_console(message: ConsoleMessage) -> None:
            if message.type in ("error", "assert"):
                self.entries.append((name, "console", message.text))

        page.on("console", on_console)
        page.on("pageerror", lambda error: self.entries.append((name, "exception", str(error))))
        return page


def intercept_file_choosers(page: Page) -> Page:
    """Have Playwright take over ``page``'s file choosers now, before a test opens one.

    Playwright turns interception on when the first ``filechooser`` listener is added, with a
    message it does not wait for; ``expect_file_chooser`` followed at once by a key press can reach
    Chromium first, which then opens its own (headless, invisible) chooser and no event ever comes.
    On a loaded CI machine that lost the race (a keyboard test timed out waiting for the chooser).
    A standing listener keeps interception on for the page's life.
    """
    page.on("filechooser", lambda _chooser: None)
    return page


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (`.ci/run` does: apt-get install chromium)")
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    """A desktop-sized browser context (1280 by 900) that accepts downloads; a module that needs
    another size defines its own ``context``."""
    context = browser.new_context(accept_downloads=True, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(20_000)
    yield context
    context.close()


def member_with_workspace(stack: LocalStack, name: str) -> tuple[User, str]:
    """A new member of the local stack and the id of a new workspace of theirs."""
    user = stack.create_user()
    token = stack.sign_in_user(user)
    reply = stack.api("POST", "/workspaces", token=token, json={"name": name})
    assert reply.status_code == 201, reply.text
    return user, str(reply.json()["id"])


def signed_in_page(context: BrowserContext, console: ConsoleLog, stack: LocalStack, user: User, path: str) -> Page:
    """A new page of ``context``, watched by ``console``, opened at ``path`` and signed in as ``user``."""
    page = console.watch(context.new_page(), "member")
    page.goto(stack.base_url + path)
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(user.password)
    page.get_by_role("button", name="Sign in").click()
    return page


@pytest.fixture
def console() -> ConsoleLog:
    """This test's console log (each test checks only the pages it opened)."""
    return ConsoleLog()


def screenshot(page: Page, name: str) -> None:
    """Save a full-page screenshot as a test artifact (``artifacts/screenshots/{name}.png``)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's WCAG A/AA violations on the page as it is now (injected once per document).

    Injected through the DevTools protocol rather than a script tag, so the page keeps running under
    its own Content-Security-Policy, which allows no inline script.
    """
    if not page.evaluate("typeof window.axe === 'object'"):
        if not AXE.exists():
            pytest.fail(f"{AXE} is missing: run `npm install` (make test does; axe-core is a dev dependency)")
        page.evaluate(AXE.read_text(encoding="utf-8"))
    found: list[dict[str, Any]] = page.evaluate(
        """async (tags) => {
          const options = { runOnly: { type: "tag", values: tags }, resultTypes: ["violations"] };
          const result = await axe.run(document, options);
          return result.violations.map((v) => ({
            id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.slice(0, 5).map((n) => n.target.join(" ")),
          }));
        }""",
        AXE_TAGS,
    )
    return found


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-")[:150]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """After a browser test's body (before its fixtures close the pages): a screenshot of every open page."""
    outcome = yield
    browser = getattr(item, "funcargs", {}).get("browser")
    if call.when != "call" or not isinstance(browser, Browser):
        return
    failed = outcome.get_result().failed
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    n = 0
    for context in browser.contexts:
        for page in context.pages:
            if page.is_closed():
                continue
            n += 1
            name = f"{_slug(item.name)}--{n}{'-FAILED' if failed else ''}.png"
            try:
                page.screenshot(path=str(SCREENSHOTS / name), full_page=True, timeout=10_000)
            except Exception as exc:  # a crashed or navigating page must not hide the test's own result
                item.add_report_section("call", "screenshot", f"{name}: {exc}")
