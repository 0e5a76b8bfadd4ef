"""Every route of the web app, at a desktop width and on a 390 px phone: it survives a reload and
axe-core (WCAG 2.x A/AA, vendored from npm) finds no violation; and a keyboard-only journey
reaches upload, share and download without a mouse.

Routes: sign-in, workspaces, a workspace (documents, share links, members, trash, activity), a
document (and its share dialog), admin, the partner page (with a password) and its dead ends
(revoked, used up, unknown link)."""

from __future__ import annotations

import base64
import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import ConsoleLog, axe_violations, intercept_file_choosers, screenshot
from tests.e2e.client import LocalStack, User, available_document

pytestmark = pytest.mark.e2e

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
WIDTHS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


@dataclass
class Site:
    admin: User
    workspace: dict[str, str]
    document: dict[str, str]
    tokens: dict[str, str]  # partner pages by kind


@pytest.fixture(scope="module")
def site(local_stack: LocalStack) -> Site:
    """An administrator who owns a workspace with a document, and links in each partner state."""
    admin = local_stack.create_user(groups=("admins",))
    token = local_stack.sign_in_user(admin)

    def api(method: str, path: str, **kwargs: object) -> dict[str, str]:
        reply = local_stack.api(method, path, token=token, **kwargs)  # type: ignore[arg-type]
        assert reply.status_code < 300, reply.text
        return dict(reply.json()) if reply.content else {}

    workspace = api("POST", "/workspaces", json={"name": f"Access {uuid.uuid4().hex[:6]}"})
    document = available_document(local_stack, token, PDF, "Launch plan.pdf", workspace_id=workspace["id"])
    shares = f"/documents/{document['id']}/shares"
    protected = api("POST", shares, json={"label": "Acme", "password": "partner-secret-42", "message": "Hi"})
    revoked = api("POST", shares, json={"label": "Old"})
    api("DELETE", f"/shares/{revoked['id']}")
    used = api("POST", shares, json={"label": "Once", "max_downloads": 1})
    assert local_stack.api("POST", f"/public/shares/{used['token']}/download", json={}).status_code == 200
    api(
        "DELETE",
        f"/documents/{available_document(local_stack, token, PDF, 'Old.pdf', workspace_id=workspace['id'])['id']}",
    )
    tokens = {"password": protected["token"], "revoked": revoked["token"], "used_up": used["token"]}
    return Site(admin=admin, workspace=workspace, document=document, tokens=tokens | {"unknown": "x" * 43})


def _routes(site: Site) -> list[tuple[str, str, str]]:
    """(name, path, the level-1 heading it shows) for every signed-in route."""
    ws, doc = site.workspace, site.document
    base = f"/w/{ws['id']}"
    return [
        ("workspaces", "/", "Workspaces"),
        ("workspace", base, ws["name"]),
        ("workspace-links", f"{base}?tab=links", ws["name"]),
        ("workspace-members", f"{base}?tab=members", ws["name"]),
        ("workspace-trash", f"{base}?tab=trash", ws["name"]),
        ("workspace-activity", f"{base}?tab=activity", ws["name"]),
        ("document", f"/d/{doc['id']}", doc["name"]),
        ("admin", "/admin", "Users"),
    ]


PARTNER_PAGES: dict[str, str] = {
    "password": "Launch plan.pdf",
    "revoked": "This link has been withdrawn",
    "used_up": "This link has been used up",
    "unknown": "This link does not work",
}


def _check(page: Page, name: str, heading: str, width: str) -> list[str]:
    """The page's heading after a reload, and axe's findings as readable lines."""
    expect(page.get_by_role("heading", name=heading, level=1)).to_be_visible()
    page.reload()
    expect(page.get_by_role("heading", name=heading, level=1)).to_be_visible()
    page.wait_for_load_state("networkidle")
    screenshot(page, f"a11y-{width}-{name}")
    return [f"{name}: {v['id']} ({v['impact']}) {v['help']} at {v['nodes']}" for v in axe_violations(page)]


@pytest.mark.parametrize("width", list(WIDTHS))
def test_every_route_survives_a_reload_and_has_no_axe_violation(
    browser: Browser, local_stack: LocalStack, site: Site, console: ConsoleLog, width: str
) -> None:
    context = browser.new_context(viewport=WIDTHS[width], is_mobile=width == "phone", has_touch=width == "phone")
    context.set_default_timeout(20_000)
    try:
        page = console.watch(context.new_page(), f"member-{width}")
        page.goto(local_stack.base_url + "/")
        found = _check(page, "sign-in", "Sign in", width)
        page.get_by_label("Email").fill(site.admin.email)
        page.get_by_label("Password").fill(site.admin.password)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", name="Workspaces", level=1)).to_be_visible()
        for name, path, heading in _routes(site):
            page.goto(local_stack.base_url + path)
            found += _check(page, name, heading, width)
            assert page.url == local_stack.base_url + path, f"{name}: the reload moved to {page.url}"

        # The share dialog, over the document page.
        page.goto(local_stack.base_url + f"/d/{site.document['id']}")
        page.get_by_role("button", name="New link").click()
        expect(page.get_by_role("dialog")).to_be_visible()
        found += [f"share dialog: {v['id']} {v['help']} at {v['nodes']}" for v in axe_violations(page)]

        partner = console.watch(context.new_page(), f"partner-{width}")
        for kind, heading in PARTNER_PAGES.items():
            partner.goto(f"{local_stack.base_url}/s/{site.tokens[kind]}")
            found += _check(partner, f"partner-{kind}", heading, width)
        assert found == [], "\n".join(found)
        # The dead ends' 410s and the unknown link's 404 are the only errors a browser logs here.
        assert [e for e in console.entries if not any(code in e[2] for code in ("404", "410"))] == []
    finally:
        context.close()


def _tab_to(page: Page, matches: Callable[[Page], bool], what: str, limit: int = 60) -> None:
    """Press Tab until the focused element matches (or fail naming what was never reached)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if matches(page):
            return
    pytest.fail(f"Tab never reached {what}")


def _focused_name(page: Page) -> str:
    return str(page.evaluate("document.activeElement && document.activeElement.textContent.trim()"))


def test_a_keyboard_alone_uploads_a_version_shares_and_downloads(
    browser: Browser, local_stack: LocalStack, console: ConsoleLog, tmp_path: Path
) -> None:
    user = local_stack.create_user()
    token = local_stack.sign_in_user(user)
    workspace = local_stack.api("POST", "/workspaces", token=token, json={"name": "Keys"}).json()
    document = available_document(local_stack, token, PDF, "Plan.pdf", workspace_id=workspace["id"])
    context = browser.new_context(accept_downloads=True, viewport=WIDTHS["desktop"])
    context.set_default_timeout(20_000)
    try:
        page = intercept_file_choosers(console.watch(context.new_page(), "keyboard"))
        page.goto(f"{local_stack.base_url}/d/{document['id']}")
        expect(page.get_by_label("Email")).to_be_focused()
        page.keyboard.type(user.email)
        page.keyboard.press("Tab")
        page.keyboard.type(user.password)
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", name="Plan.pdf", level=1)).to_be_visible()

        # Download: Tab to it, Enter.
        _tab_to(page, lambda p: _focused_name(p) == "Download latest", "Download latest")
        with page.expect_download() as downloaded:
            page.keyboard.press("Enter")
        assert downloaded.value.suggested_filename == "Plan.pdf"

        # Upload a new version: Tab to the picker, Enter opens the file chooser.
        second = tmp_path / "Plan.pdf"
        second.write_bytes(PDF + b"% second\n")
        _tab_to(page, lambda p: _focused_name(p).startswith("Upload a new version"), "Upload a new version")
        with page.expect_file_chooser() as chooser:
            page.keyboard.press("Enter")
        chooser.value.set_files(str(second))
        expect(page.locator("tr", has_text="v2 (current)")).to_be_visible()
        expected = base64.b64encode(hashlib.sha256(second.read_bytes()).digest()).decode()
        detail = local_stack.api("GET", f"/documents/{document['id']}", token=token).json()
        assert detail["sha256"] == expected

        # Share: Tab to New link, fill the dialog with keys only, create, copy is focused.
        _tab_to(page, lambda p: _focused_name(p) == "New link", "New link")
        page.keyboard.press("Enter")
        dialog = page.get_by_role("dialog")
        expect(dialog).to_be_visible()
        _tab_to(
            page,
            lambda p: (
                p.evaluate("document.activeElement.closest('.field')?.textContent") is not None
                and "Label" in str(p.evaluate("document.activeElement.closest('.field').textContent"))
            ),
            "the label",
        )
        page.keyboard.type("Keyboard partner")
        _tab_to(page, lambda p: _focused_name(p) == "Create link", "Create link")
        page.keyboard.press("Enter")
        expect(dialog.get_by_role("button", name="Copy link")).to_be_focused()
        screenshot(page, "keyboard-share-created")
        page.keyboard.press("Escape")
        expect(page.get_by_role("dialog")).to_have_count(0)
        expect(page.locator(".links li", has_text="Keyboard partner")).to_be_visible()
        assert console.entries == []
    finally:
        context.close()
