"""Folders in the web app (issue 15), in a real browser against the local stack: a new folder exists
on the server while empty and can be deleted, "Move" picks a folder in a dialog (with "New folder
here"), a folder's worth of files uploads into the same subfolders (chosen or dropped), restoring
from the Trash tab asks about the links, and tags say they are kept in lower case."""

from __future__ import annotations

import re
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.browser.conftest import ConsoleLog, axe_violations, intercept_file_choosers, screenshot
from tests.e2e.client import LocalStack, User, available_document

pytestmark = pytest.mark.e2e

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


class Owner:
    def __init__(self, stack: LocalStack) -> None:
        self.stack = stack
        self.user: User = stack.create_user()
        self.token = stack.sign_in_user(self.user)
        self.ws = self.api("POST", "/workspaces", json={"name": f"Folders {uuid.uuid4().hex[:6]}"})["id"]

    def api(self, method: str, path: str, **kwargs: Any) -> Any:
        reply = self.stack.api(method, path, token=self.token, **kwargs)
        assert reply.status_code < 300, reply.text
        return reply.json() if reply.content else None

    def folders(self) -> list[str]:
        return [f["path"] for f in self.api("GET", f"/workspaces/{self.ws}/folders")["items"]]

    def documents(self, **query: str) -> list[dict[str, Any]]:
        return list(self.api("GET", f"/workspaces/{self.ws}/documents", params=query)["items"])

    def document(self, name: str, folder: str = "/") -> dict[str, Any]:
        doc = available_document(self.stack, self.token, PDF, name, workspace_id=self.ws)
        if folder != "/":
            self.api("PATCH", f"/documents/{doc['id']}", json={"folder": folder})
        return doc


@pytest.fixture
def owner(local_stack: LocalStack) -> Owner:
    return Owner(local_stack)


def sign_in(context: BrowserContext, console: ConsoleLog, owner: Owner, path: str) -> Page:
    page = intercept_file_choosers(console.watch(context.new_page(), "member"))
    page.goto(owner.stack.base_url + path)
    page.get_by_label("Email").fill(owner.user.email)
    page.get_by_label("Password").fill(owner.user.password)
    page.get_by_role("button", name="Sign in").click()
    return page


def folder_row(page: Page, name: str) -> Any:
    return page.locator("table.documents tr.folder", has=page.get_by_role("link", name=name, exact=True))


# --- 1. empty folders ---


def test_a_new_folder_is_made_on_the_server_stays_while_empty_and_can_be_deleted(
    context: BrowserContext, owner: Owner, console: ConsoleLog
) -> None:
    page = sign_in(context, console, owner, f"/w/{owner.ws}")
    expect(page.get_by_text("This folder is empty.")).to_be_visible()
    page.get_by_role("button", name="New folder").click()
    dialog = page.get_by_role("dialog")
    name = dialog.get_by_label("Folder name")
    name.fill("Q3/plans")
    # The app's own sentence, under the field and as the field's validation message.
    expect(dialog.get_by_role("alert")).to_contain_text("A folder name cannot contain “/”")
    assert "cannot contain “/”" in name.evaluate("(input) => input.validationMessage")
    dialog.get_by_role("button", name="Create and open folder").click()
    expect(page.get_by_role("dialog")).to_be_visible()
    assert owner.folders() == []

    name.fill("Launch plans")
    dialog.get_by_role("button", name="Create and open folder").click()
    expect(page).to_have_url(re.compile(r"folder=%2FLaunch%20plans$|folder=%2FLaunch\+plans$"))
    expect(page.get_by_text("This folder is empty.")).to_be_visible()
    assert owner.folders() == ["/Launch plans"]
    screenshot(page, "folders-01-empty-folder")
    assert axe_violations(page) == []

    # It exists on its own: after a reload, and from the top level.
    page.reload()
    expect(page.get_by_text("This folder is empty.")).to_be_visible()
    page.get_by_role("navigation", name="Folder").get_by_role("link", name="All files").click()
    expect(folder_row(page, "Launch plans")).to_have_count(1)
    expect(page.get_by_text("This folder is empty.")).to_have_count(0)

    folder_row(page, "Launch plans").get_by_role("link", name="Launch plans").click()
    page.get_by_role("button", name="Delete this folder").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete folder").click()
    expect(page).to_have_url(re.compile(rf"/w/{owner.ws}$"))
    expect(folder_row(page, "Launch plans")).to_have_count(0)
    expect(page.get_by_text("This folder is empty.")).to_be_visible()
    assert owner.folders() == []
    assert console.entries == []


def test_the_workspace_merges_explicit_folders_with_those_documents_imply(
    context: BrowserContext, owner: Owner, console: ConsoleLog
) -> None:
    owner.api("POST", f"/workspaces/{owner.ws}/folders", json={"path": "/Empty/Inner"})
    owner.document("Budget.pdf", "/Finance/2026")
    page = sign_in(context, console, owner, f"/w/{owner.ws}")
    expect(folder_row(page, "Empty")).to_have_count(1)
    expect(folder_row(page, "Finance")).to_have_count(1)
    folder_row(page, "Empty").get_by_role("link", name="Empty").click()
    expect(folder_row(page, "Inner")).to_have_count(1)
    # A folder with a subfolder is not empty, so it offers no delete.
    expect(page.get_by_role("button", name="Delete this folder")).to_have_count(0)
    page.goto(f"{owner.stack.base_url}/w/{owner.ws}?folder=%2FFinance")
    expect(folder_row(page, "2026")).to_have_count(1)
    # A folder only documents imply is not an explicit one: nothing to delete there either.
    page.goto(f"{owner.stack.base_url}/w/{owner.ws}?folder=%2FFinance%2F2026")
    expect(page.locator("table.documents")).to_contain_text("Budget.pdf")
    expect(page.get_by_role("button", name="Delete this folder")).to_have_count(0)
    assert console.entries == []


def test_deleting_a_folder_whose_document_is_in_the_trash_says_why_not(
    context: BrowserContext, owner: Owner, console: ConsoleLog
) -> None:
    owner.api("POST", f"/workspaces/{owner.ws}/folders", json={"path": "/Old"})
    doc = owner.document("Old.pdf", "/Old")
    owner.api("DELETE", f"/documents/{doc['id']}")
    page = sign_in(context, console, owner, f"/w/{owner.ws}?folder=%2FOld")
    expect(page.get_by_text("This folder is empty.")).to_be_visible()
    page.get_by_role("button", name="Delete this folder").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete folder").click()
    expect(page.get_by_role("alert")).to_contain_text("documents in the trash count too")
    assert owner.folders() == ["/Old"]
    assert [e for e in console.entries if "409" not in e[2]] == []  # Chromium logs the refused DELETE


# --- 2. the folder picker ---


def test_move_picks_a_folder_in_a_dialog_and_can_make_a_new_one_there(
    context: BrowserContext, owner: Owner, console: ConsoleLog
) -> None:
    doc = owner.document("Term sheet.pdf")
    owner.api("POST", f"/workspaces/{owner.ws}/folders", json={"path": "/Contracts"})
    owner.document("Report.pdf", "/Archive/2025")
    page = sign_in(context, console, owner, f"/d/{doc['id']}")
    expect(page.get_by_role("heading", name="Term sheet.pdf", level=1)).to_be_visible()
    page.get_by_text("Edit details").click()
    expect(page.locator("details.edit").get_by_label("Folder")).to_have_count(0)  # no path to type
    page.get_by_role("button", name="Move…").click()
    dialog = page.get_by_role("dialog")
    choices = dialog.get_by_role("radiogroup", name="Folders")
    expect(choices.get_by_role("radio")).to_have_count(4)  # the top level, Archive, 2025, Contracts
    expect(choices.get_by_label("All files (top level) (current)")).to_be_checked()
    expect(choices.get_by_label("2025")).to_be_visible()  # implied by a document
    choices.get_by_label("Contracts").check()

    new = dialog.get_by_label("New folder here")
    new.fill("Signed/2026")
    expect(dialog.get_by_role("alert")).to_contain_text("A folder name cannot contain “/”")
    new.fill("Signed")
    dialog.get_by_role("button", name="Create folder").click()
    expect(choices.get_by_label("Signed")).to_be_checked()
    screenshot(page, "folders-02-move-picker")
    assert axe_violations(page) == []
    dialog.get_by_role("button", name="Move here").click()

    expect(page.locator("dl.details dd.folder-cell")).to_contain_text("/Contracts/Signed")
    assert owner.api("GET", f"/documents/{doc['id']}")["folder"] == "/Contracts/Signed"
    assert owner.folders() == ["/Contracts", "/Contracts/Signed"]
    crumbs = page.get_by_role("navigation", name="Breadcrumb")
    expect(crumbs.get_by_role("link", name="Signed")).to_be_visible()
    assert console.entries == []


# --- 3. a folder's worth of files ---


def _tree(root: Path) -> Path:
    top = root / "Designs"
    (top / "Drafts" / "old").mkdir(parents=True)
    (top / "cover.txt").write_bytes(b"cover")
    (top / "Drafts" / "a.txt").write_bytes(b"draft a")
    (top / "Drafts" / "old" / "b.txt").write_bytes(b"draft b, older")
    return top


def _wait_available(owner: Owner, count: int) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 60
    while True:
        docs = owner.documents()
        if len(docs) == count and all(d["status"] == "available" for d in docs):
            return docs
        assert time.monotonic() < deadline, docs
        time.sleep(0.3)


def test_choosing_a_folder_uploads_every_file_into_the_same_subfolders(
    context: BrowserContext, owner: Owner, console: ConsoleLog, tmp_path: Path
) -> None:
    owner.api("POST", f"/workspaces/{owner.ws}/folders", json={"path": "/Inbox"})
    page = sign_in(context, console, owner, f"/w/{owner.ws}?folder=%2FInbox")
    expect(page.get_by_text("This folder is empty.")).to_be_visible()
    with page.expect_file_chooser() as chooser:
        page.get_by_role("button", name="Upload a folder").click()
    assert chooser.value.element.get_attribute("webkitdirectory") is not None
    chooser.value.set_files(str(_tree(tmp_path)))

    tray = page.locator(".upload-tray")
    expect(tray.locator(".upload[data-state=available]")).to_have_count(3, timeout=60_000)
    expect(tray).to_contain_text("into /Inbox/Designs/Drafts/old")
    docs = _wait_available(owner, 3)
    assert sorted((d["folder"], d["name"]) for d in docs) == [
        ("/Inbox/Designs", "cover.txt"),
        ("/Inbox/Designs/Drafts", "a.txt"),
        ("/Inbox/Designs/Drafts/old", "b.txt"),
    ]
    assert "/Inbox/Designs/Drafts/old" in owner.folders()
    expect(folder_row(page, "Designs")).to_have_count(1)
    screenshot(page, "folders-03-folder-uploaded")
    assert console.entries == []


def test_dropping_a_folder_reads_its_entries_and_keeps_the_tree_empty_folders_included(
    context: BrowserContext, owner: Owner, console: ConsoleLog
) -> None:
    page = sign_in(context, console, owner, f"/w/{owner.ws}")
    expect(page.get_by_text("This folder is empty.")).to_be_visible()
    # What Chromium hands a drop of a folder: DataTransferItems whose entries are walked with
    # createReader().readEntries() (answering in batches, then an empty one) and file().
    page.evaluate(
        """() => {
          const file = (path, text) => ({
            isFile: true, isDirectory: false, fullPath: path,
            file: (ok) => ok(new File([text], path.split('/').pop(), { type: 'text/plain' })),
          });
          const dir = (path, children) => ({
            isFile: false, isDirectory: true, fullPath: path,
            createReader: () => {
              const batches = [children.slice(0, 1), children.slice(1), []];
              return { readEntries: (ok) => ok(batches.shift() || []) };
            },
          });
          const tree = dir('/Photos', [
            file('/Photos/one.txt', 'one'),
            dir('/Photos/2026', [file('/Photos/2026/two.txt', 'two two')]),
            dir('/Photos/Empty', []),
          ]);
          const zone = document.querySelector('.dropzone');
          const drop = new Event('drop', { bubbles: true, cancelable: true });
          drop.dataTransfer = { files: [], items: [{ kind: 'file', webkitGetAsEntry: () => tree }] };
          zone.dispatchEvent(drop);
        }"""
    )
    docs = _wait_available(owner, 2)
    assert sorted((d["folder"], d["name"]) for d in docs) == [("/Photos", "one.txt"), ("/Photos/2026", "two.txt")]
    assert set(owner.folders()) == {"/Photos", "/Photos/2026", "/Photos/Empty"}
    folder_row(page, "Photos").get_by_role("link", name="Photos").click()
    expect(folder_row(page, "Empty")).to_have_count(1)
    expect(folder_row(page, "2026")).to_have_count(1)
    assert console.entries == []


# --- 4. restore from the Trash tab, and tags ---


def test_restoring_from_the_trash_tab_asks_whether_to_resume_the_links(
    context: BrowserContext, owner: Owner, console: ConsoleLog
) -> None:
    doc = owner.document("Deck.pdf", "/Sales")
    share = owner.api("POST", f"/documents/{doc['id']}/shares", json={"label": "Partner"})
    owner.api("DELETE", f"/documents/{doc['id']}")
    page = sign_in(context, console, owner, f"/w/{owner.ws}?tab=trash")
    page.get_by_role("button", name="Restore… Deck.pdf").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("It goes back to /Sales")
    resume = dialog.get_by_label("Also turn its share links back on")
    expect(resume).not_to_be_checked()
    screenshot(page, "folders-04-trash-restore-asks")
    dialog.get_by_role("button", name="Cancel").click()
    assert owner.api("GET", f"/documents/{doc['id']}")["status"] == "deleted"

    page.get_by_role("button", name="Restore… Deck.pdf").click()
    page.get_by_role("dialog").get_by_label("Also turn its share links back on").check()
    page.get_by_role("dialog").get_by_role("button", name="Restore", exact=True).click()
    expect(page.get_by_text("The trash is empty.")).to_be_visible()
    expect(page.locator("#status")).to_contain_text("1 link(s) active again")
    assert owner.api("GET", f"/documents/{doc['id']}")["status"] == "available"
    assert owner.api("GET", f"/shares/{share['id']}")["state"] == "active"
    assert console.entries == []


def test_tags_typed_in_capitals_are_saved_and_the_page_says_they_are_kept_in_lower_case(
    context: BrowserContext, owner: Owner, console: ConsoleLog
) -> None:
    doc = owner.document("Plan.pdf")
    page = sign_in(context, console, owner, f"/d/{doc['id']}")
    page.get_by_text("Edit details").click()
    page.get_by_label("Tags").fill("Q3, Legal")
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator("#status")).to_contain_text("Tags are kept in lower case: q3, legal")
    expect(page.locator("dl.details .tags")).to_have_text(re.compile("q3\\s*legal"))
    assert owner.api("GET", f"/documents/{doc['id']}")["tags"] == ["q3", "legal"]
    assert console.entries == []
