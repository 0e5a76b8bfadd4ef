"""The upload tray against the real local stack: an empty file uploads (it used to fail with
"invalid request: size"), and a cancelled upload leaves no "Uploading" document behind."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Route, expect

from tests.browser.conftest import ConsoleLog, member_with_workspace, screenshot, signed_in_page
from tests.e2e.client import LocalStack

pytestmark = pytest.mark.e2e


def test_an_empty_file_uploads_and_is_listed_with_zero_bytes(
    context: BrowserContext, local_stack: LocalStack, console: ConsoleLog, tmp_path: Path
) -> None:
    user, ws = member_with_workspace(local_stack, f"Empty {uuid.uuid4().hex[:6]}")
    page = signed_in_page(context, console, local_stack, user, f"/w/{ws}")
    expect(page.get_by_text("This folder is empty.")).to_be_visible()
    empty = tmp_path / "notes.txt"
    empty.write_bytes(b"")
    page.locator("input[type=file]").first.set_input_files(str(empty))

    row = page.locator(".upload-tray .upload", has_text="notes.txt")
    expect(row).to_have_attribute("data-state", "available", timeout=60_000)
    expect(row.get_by_role("alert")).to_have_count(0)
    listed = page.locator("table.documents tr", has_text="notes.txt")
    expect(listed).to_contain_text("Available")
    expect(listed).to_contain_text("0 B")
    screenshot(page, "v2-empty-file")


def test_a_cancelled_upload_leaves_no_uploading_document_in_the_list(
    context: BrowserContext, local_stack: LocalStack, console: ConsoleLog, tmp_path: Path
) -> None:
    user, ws = member_with_workspace(local_stack, f"Empty {uuid.uuid4().hex[:6]}")
    page = signed_in_page(context, console, local_stack, user, f"/w/{ws}")
    expect(page.get_by_text("This folder is empty.")).to_be_visible()
    held: list[Route] = []

    def hold_puts(route: Route) -> None:
        if route.request.method == "PUT":
            held.append(route)  # S3 never answers while the person watches
        else:
            route.continue_()

    page.route(f"{local_stack.moto_url}/**", hold_puts)
    file = tmp_path / "draft.pdf"
    file.write_bytes(b"%PDF-1.4\n" + b"x" * 4096)
    page.locator("input[type=file]").first.set_input_files(str(file))

    listed = page.locator("table.documents tr", has_text="draft.pdf")
    expect(listed).to_contain_text("Uploading")  # the document exists while its bytes travel
    row = page.locator(".upload-tray .upload", has_text="draft.pdf")
    row.get_by_role("button", name="Cancel draft.pdf").click()
    expect(row).to_have_attribute("data-state", "cancelled")
    expect(listed).to_have_count(0)
    expect(page.get_by_text("This folder is empty.")).to_be_visible()

    token = local_stack.sign_in_user(user)
    documents = local_stack.api("GET", f"/workspaces/{ws}/documents", token=token).json()["items"]
    assert documents == []
    for route in held:
        route.abort()
