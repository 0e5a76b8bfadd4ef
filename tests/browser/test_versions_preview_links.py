"""Issue 15, in a real browser against the local stack: "Restore this version" (asks first, then the
old bytes become the newest version), the preview of images (on the page, from the documents
bucket only, as the Content-Security-Policy allows) and PDFs (a tab of their own at the bucket),
and editing a link's message after creation."""

from __future__ import annotations

import base64
import hashlib
import struct
import time
import uuid
import zlib
from dataclasses import dataclass
from typing import Any

import pytest
import requests
from playwright.sync_api import BrowserContext, Page, expect

from tests.browser.conftest import ConsoleLog, screenshot
from tests.e2e.client import LocalStack, User, available_document

pytestmark = pytest.mark.e2e

PDF_V1 = b"%PDF-1.4\n% version one\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PDF_V2 = b"%PDF-1.4\n% version two, a little longer\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def png(width: int = 3, height: int = 2) -> bytes:
    """A small valid RGB PNG (so the browser really decodes it)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\xcc\x33\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def b64sha(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


@dataclass
class Member:
    user: User
    token: str
    workspace_id: str

    def api(self, stack: LocalStack, method: str, path: str, **kwargs: Any) -> Any:
        reply = stack.api(method, path, token=self.token, **kwargs)
        assert reply.status_code < 300, reply.text
        return reply.json() if reply.content else None


@pytest.fixture
def member(local_stack: LocalStack) -> Member:
    user = local_stack.create_user()
    token = local_stack.sign_in_user(user)
    workspace = local_stack.api(
        "POST", "/workspaces", token=token, json={"name": f"Versions {uuid.uuid4().hex[:6]}"}
    ).json()
    return Member(user=user, token=token, workspace_id=workspace["id"])


def sign_in(page: Page, stack: LocalStack, user: User, path: str) -> None:
    page.goto(stack.base_url + path)
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(user.password)
    page.get_by_role("button", name="Sign in").click()


def new_version(stack: LocalStack, member: Member, document_id: str, body: bytes) -> None:
    instructions = member.api(
        stack, "POST", f"/documents/{document_id}/versions", json={"size": len(body), "sha256": b64sha(body)}
    )
    assert requests.put(instructions["url"], data=body, headers=instructions["headers"], timeout=10).ok
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if member.api(stack, "GET", f"/documents/{document_id}")["version_count"] == 2:
            versions = member.api(stack, "GET", f"/documents/{document_id}")["versions"]
            if all(v["status"] == "available" for v in versions):
                return
        time.sleep(0.2)
    pytest.fail("the second version never landed")


# --- restore this version ---


def test_restore_this_version_asks_first_then_the_old_bytes_become_the_newest_version(
    context: BrowserContext, local_stack: LocalStack, member: Member, console: ConsoleLog
) -> None:
    doc = available_document(local_stack, member.token, PDF_V1, "Offer.pdf", workspace_id=member.workspace_id)
    new_version(local_stack, member, doc["id"], PDF_V2)
    page = console.watch(context.new_page(), "editor")
    sign_in(page, local_stack, member.user, f"/d/{doc['id']}")
    expect(page.get_by_role("heading", name="Offer.pdf", level=1)).to_be_visible()
    versions = page.get_by_role("region", name="Versions")
    expect(versions.get_by_role("button", name="Restore this version (v1)")).to_be_visible()
    # The current version has nothing to restore.
    expect(versions.get_by_role("button", name="Restore this version (v2)")).to_have_count(0)

    versions.get_by_role("button", name="Restore this version (v1)").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_role("heading", name="Restore version 1?")).to_be_visible()
    expect(dialog).to_contain_text("becomes version 3")
    screenshot(page, "v2-10-restore-version-asks")
    dialog.get_by_role("button", name="Cancel").click()
    expect(page.get_by_role("dialog")).to_have_count(0)
    assert member.api(local_stack, "GET", f"/documents/{doc['id']}")["version_count"] == 2

    versions.get_by_role("button", name="Restore this version (v1)").click()
    page.get_by_role("dialog").get_by_role("button", name="Restore this version").click()
    expect(versions.locator("tr", has_text="v3 (current)")).to_be_visible()
    expect(versions.get_by_role("button", name="Restore this version (v2)")).to_be_visible()
    detail = member.api(local_stack, "GET", f"/documents/{doc['id']}")
    assert detail["sha256"] == b64sha(PDF_V1)
    assert sorted((v["number"], v["status"]) for v in detail["versions"]) == [
        (1, "available"),
        (2, "available"),
        (3, "available"),
    ]
    expect(page.locator("table.audit")).to_contain_text("version restored")
    screenshot(page, "v2-11-version-restored")
    assert console.entries == []


def test_a_viewer_sees_no_restore_button(
    context: BrowserContext, local_stack: LocalStack, member: Member, console: ConsoleLog
) -> None:
    doc = available_document(local_stack, member.token, PDF_V1, "Offer.pdf", workspace_id=member.workspace_id)
    new_version(local_stack, member, doc["id"], PDF_V2)
    viewer = local_stack.create_user()
    member.api(
        local_stack,
        "POST",
        f"/workspaces/{member.workspace_id}/members",
        json={"email": viewer.email, "role": "viewer"},
    )
    page = console.watch(context.new_page(), "viewer")
    sign_in(page, local_stack, viewer, f"/d/{doc['id']}")
    versions = page.get_by_role("region", name="Versions")
    expect(versions.get_by_role("button", name="Download version 1")).to_be_visible()
    expect(versions.get_by_role("button", name="Restore this version (v1)")).to_have_count(0)
    assert console.entries == []


# --- preview ---


def test_a_pdf_preview_opens_in_a_tab_of_its_own_at_the_bucket_cut_off_from_the_app(
    context: BrowserContext, local_stack: LocalStack, member: Member, console: ConsoleLog
) -> None:
    doc = available_document(local_stack, member.token, PDF_V1, "Terms.pdf", workspace_id=member.workspace_id)
    page = console.watch(context.new_page(), "pdf-preview")
    sign_in(page, local_stack, member.user, f"/d/{doc['id']}")
    preview = page.get_by_role("region", name="Preview")
    expect(preview.locator("iframe")).to_have_count(0)  # Chromium shows no PDF in a sandboxed frame
    with context.expect_page() as opened:
        preview.get_by_role("button", name="Open preview in a new tab").click()
    tab = opened.value
    tab.wait_for_url(lambda url: url.startswith(local_stack.moto_url + "/"))  # the bucket, not the app
    assert "response-content-disposition=inline" in tab.url
    assert tab.evaluate("window.opener") is None
    screenshot(page, "v2-12-pdf-preview-button")
    audit = member.api(local_stack, "GET", f"/documents/{doc['id']}/audit")["items"]
    assert any(e["details"].get("disposition") == "inline" for e in audit if e["action"] == "document.downloaded")
    assert console.entries == []


def test_an_image_previews_as_an_image_that_the_policy_lets_load(
    context: BrowserContext, local_stack: LocalStack, member: Member, console: ConsoleLog
) -> None:
    doc = available_document(
        local_stack, member.token, png(), "Logo.png", workspace_id=member.workspace_id, content_type="image/png"
    )
    page = console.watch(context.new_page(), "image-preview")
    sign_in(page, local_stack, member.user, f"/d/{doc['id']}")
    page.get_by_role("region", name="Preview").get_by_role("button", name="Show preview").click()
    image = page.get_by_role("img", name="Preview of Logo.png")
    expect(image).to_be_visible()
    page.wait_for_function("(img) => img.complete && img.naturalWidth === 3", arg=image.element_handle())
    assert console.entries == []


@pytest.mark.parametrize(
    ("name", "content_type"), [("Notes.txt", "text/plain"), ("Deck.pptx", "application/vnd.ms-powerpoint")]
)
def test_other_types_get_no_preview(
    context: BrowserContext, local_stack: LocalStack, member: Member, console: ConsoleLog, name: str, content_type: str
) -> None:
    doc = available_document(
        local_stack, member.token, b"plain words", name, workspace_id=member.workspace_id, content_type=content_type
    )
    page = console.watch(context.new_page(), "no-preview")
    sign_in(page, local_stack, member.user, f"/d/{doc['id']}")
    expect(page.get_by_role("heading", name=name, level=1)).to_be_visible()
    expect(page.get_by_role("region", name="Versions")).to_be_visible()
    expect(page.get_by_role("region", name="Preview")).to_have_count(0)
    expect(page.locator("iframe, img")).to_have_count(0)
    assert console.entries == []


def test_the_app_policy_shows_images_from_the_bucket_only_and_frames_nothing(
    context: BrowserContext, local_stack: LocalStack
) -> None:
    page = context.new_page()
    response = page.goto(local_stack.base_url + "/")
    assert response is not None
    policy = {d.split(" ", 1)[0]: d.split(" ")[1:] for d in response.headers["content-security-policy"].split("; ")}
    assert policy["img-src"] == ["'self'", "data:", local_stack.moto_url]
    assert policy["frame-src"] == ["'none'"]
    assert policy["default-src"] == ["'none'"]
    assert policy["object-src"] == ["'none'"]
    # The browser enforces it: an image from the bucket loads, from anywhere else it does not;
    # nothing can be framed, not even the bucket.
    refused = page.evaluate(
        """async ([bucket]) => {
          const seen = [];
          document.addEventListener('securitypolicyviolation',
            (e) => seen.push(e.effectiveDirective + ' ' + e.blockedURI));
          for (const src of ['https://example.com/x.pdf', bucket + '/probe']) {
            const frame = document.createElement('iframe');
            frame.setAttribute('sandbox', '');
            frame.src = src;
            document.body.append(frame);
          }
          for (const src of ['https://example.com/x.png', bucket + '/probe.png']) {
            const img = document.createElement('img');
            img.src = src;
            document.body.append(img);
          }
          await new Promise((resolve) => setTimeout(resolve, 1000));
          return seen;
        }""",
        [local_stack.moto_url],
    )
    # (a refused frame reports only its origin)
    assert sorted(refused) == sorted(
        ["frame-src https://example.com", f"frame-src {local_stack.moto_url}", "img-src https://example.com/x.png"]
    )


# --- a link's message, edited after creation ---


def test_editing_a_links_message_changes_what_the_partner_page_shows(
    context: BrowserContext, local_stack: LocalStack, member: Member, console: ConsoleLog
) -> None:
    doc = available_document(local_stack, member.token, PDF_V1, "Offer.pdf", workspace_id=member.workspace_id)
    share = member.api(
        local_stack, "POST", f"/documents/{doc['id']}/shares", json={"label": "Acme", "message": "Draft terms"}
    )
    page = console.watch(context.new_page(), "editor")
    sign_in(page, local_stack, member.user, f"/d/{doc['id']}")
    page.get_by_role("button", name="Edit Acme").click()
    dialog = page.get_by_role("dialog")
    note = dialog.get_by_label("Message to the recipient (optional)")
    expect(note).to_have_value("Draft terms")
    note.fill("Final terms, signed.\nCall me with questions.")
    screenshot(page, "v2-13-edit-link-message")
    dialog.get_by_role("button", name="Save").click()
    expect(page.get_by_role("dialog")).to_have_count(0)
    public = local_stack.api("GET", f"/public/shares/{share['token']}").json()
    assert public["message"] == "Final terms, signed.\nCall me with questions."

    page.get_by_role("button", name="Edit Acme").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Message to the recipient (optional)").fill("")
    dialog.get_by_role("button", name="Save").click()
    expect(page.get_by_role("dialog")).to_have_count(0)
    assert local_stack.api("GET", f"/public/shares/{share['token']}").json()["message"] is None
    assert console.entries == []
