"""Quotas in the web app (issue 17), against the scripted API of ``test_upload_client``: the
workspace page shows "x of y used" with a bar, and an upload the quota refuses says so in words."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, Route, expect

from tests.browser.conftest import screenshot
from tests.browser.test_upload_client import API, APP, S3, WORKSPACE, FakeBackend
from tests.browser.test_upload_client import app as app

MIB = 1024 * 1024


class FullBackend(FakeBackend):
    """A workspace with 3 MB of 15 MB used, whose next upload the quota refuses."""

    def api(self, route: Route) -> None:
        request = route.request
        path = request.url.removeprefix(API).split("?")[0]
        if (request.method, path) == ("GET", "/workspaces/ws-1"):
            return self.json(route, WORKSPACE | {"used_bytes": 3 * MIB, "quota_bytes": 15 * MIB})
        if (request.method, path) == ("POST", "/workspaces/ws-1/documents"):
            body: dict[str, Any] = {
                "code": "quota_exceeded",
                "message": "not enough space in this workspace",
                "fields": {"size": "exceeds the bytes left in this workspace"},
                "details": {"remaining_bytes": 12 * MIB, "quota_bytes": 15 * MIB, "used_bytes": 3 * MIB},
            }
            return self.json(route, body, 413)
        return super().api(route)


def test_the_workspace_page_shows_its_usage_and_a_refused_upload_says_how_much_is_left(
    app: Page, tmp_path: Path
) -> None:
    backend = FullBackend(size=20 * MIB)
    app.route(f"{API}/**", backend.api)
    app.route(f"{S3}/**", backend.s3)
    app.goto(f"{APP}/w/ws-1")
    expect(app.get_by_role("heading", name="Designs")).to_be_visible()
    expect(app.locator(".usage")).to_have_text("3.0 MB of 15.0 MB used")
    expect(app.get_by_role("meter", name="Storage used")).to_have_attribute("value", str(3 * MIB))

    file = tmp_path / "big.bin"
    file.write_bytes(os.urandom(1024))
    app.locator("input[type=file]").first.set_input_files(str(file))

    row = app.locator(".upload-tray .upload", has_text="big.bin")
    expect(row).to_contain_text("Not enough space in this workspace: 12.0 MB left.")
    screenshot(app, "quota-exceeded")
