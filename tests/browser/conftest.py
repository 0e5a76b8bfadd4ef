"""Browser tier: the web app in Debian's headless Chromium, driven by Playwright, against the local stack.

``.ci/run`` installs ``chromium`` with apt-get; Playwright comes from PyPI (dev dependencies) and
drives that binary, so nothing is downloaded at test time.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, expect, sync_playwright

from tests.e2e.conftest import local_stack  # noqa: F401  (the same session fixture as the e2e tier)

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"

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


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (`.ci/run` does: apt-get install chromium)")
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def console() -> ConsoleLog:
    """This test's console log (each test checks only the pages it opened)."""
    return ConsoleLog()


def screenshot(page: Page, name: str) -> None:
    """Save a full-page screenshot as a test artifact (``artifacts/screenshots/{name}.png``)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
