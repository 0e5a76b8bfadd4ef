"""Quotas in the web app (issue 17), against the scripted API of ``test_upload_client``: the
workspace page shows "x of y used" with a bar, and an upload the quota refuses says so in words."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page, Route, expect

from tests.browser.conftest import ConsoleLog, screenshot
from tests.browser.test_admin import _sign_in
from tests.browser.test_upload_client import API, APP, S3, WORKSPACE, FakeBackend
from tests.browser.test_upload_client import app as app
from tests.e2e.client import LocalStack

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


@pytest.mark.e2e
def test_an_admin_sets_a_workspace_quota_and_its_members_see_it(
    context: BrowserContext, local_stack: LocalStack, console: ConsoleLog
) -> None:
    owner = local_stack.create_user()
    created = local_stack.api("POST", "/workspaces", token=local_stack.sign_in_user(owner), json={"name": "Quota"})
    assert created.status_code == 201, created.text
    workspace = created.json()["id"]
    admin = local_stack.create_user(groups=("admins",))
    page = console.watch(context.new_page(), "admin quota")
    _sign_in(page, local_stack, admin, "/admin")
    expect(page.get_by_role("heading", name="Users", level=1)).to_be_visible()

    page.get_by_label("Workspace id").fill(workspace)
    page.get_by_label("Quota in GiB").fill("2")
    page.get_by_role("button", name="Set quota").click()
    expect(page.get_by_role("status").filter(has_text="Quota: 0 B of 2.0 GB used.").first).to_be_visible()
    page.get_by_label("Workspace id").fill("nosuchworkspace1")
    page.get_by_role("button", name="Set quota").click()
    expect(page.get_by_text("No workspace has this id.")).to_be_visible()
    screenshot(page, "admin-quota")

    seen = local_stack.api("GET", f"/workspaces/{workspace}", token=local_stack.sign_in_user(owner)).json()
    assert (seen["used_bytes"], seen["quota_bytes"]) == (0, 2 * 1024**3)
