"""Bundles in the browser: a member ticks documents and shares the selection; the partner page lists
names, sizes and SHA-256, downloads one file, then 'Download all' waits out the 202s and saves the ZIP
(issue 17)."""

from __future__ import annotations

import base64
import hashlib
import io
import zipfile

import pytest
from playwright.sync_api import BrowserContext, expect

from tests.browser.conftest import ConsoleLog, axe_violations, member_with_workspace, screenshot, signed_in_page
from tests.e2e.client import LocalStack, available_document

pytestmark = pytest.mark.e2e

FILES = {"Alpha.pdf": b"%PDF-1.7 alpha " * 40, "Beta.pdf": b"%PDF-1.7 beta " * 60, "Gamma.pdf": b"%PDF gamma " * 9}


def test_a_member_shares_a_selection_and_the_partner_downloads_a_file_and_all(
    context: BrowserContext, local_stack: LocalStack, console: ConsoleLog
) -> None:
    user, workspace = member_with_workspace(local_stack, "Bundle room")
    token = local_stack.sign_in_user(user)
    documents = {
        name: available_document(local_stack, token, body, name, workspace_id=workspace)["id"]
        for name, body in FILES.items()
    }

    member = signed_in_page(context, console, local_stack, user, f"/w/{workspace}")
    for name in ("Alpha.pdf", "Gamma.pdf"):
        member.get_by_label(f"Select {name}").check()
    member.get_by_role("button", name="Share selection").click()
    dialog = member.get_by_role("dialog")
    expect(dialog).to_contain_text("Share 2 documents")
    with member.expect_response(lambda r: r.url.endswith(f"/workspaces/{workspace}/shares")) as created:
        dialog.get_by_role("button", name="Create link").click()
    link = created.value.json()
    assert [f["name"] for f in link["files"]] == ["Alpha.pdf", "Gamma.pdf"]
    screenshot(member, "bundle-01-member-shared-selection")

    partner = console.watch(context.new_page(), "partner")
    partner.goto(link["url"])
    expect(partner.get_by_role("heading", name="2 documents")).to_be_visible()
    rows = partner.locator("tr.bundle-file")
    expect(rows).to_have_count(2)
    alpha_sha = base64.b64encode(hashlib.sha256(FILES["Alpha.pdf"]).digest()).decode()
    expect(rows.nth(0)).to_contain_text(alpha_sha)
    screenshot(partner, "bundle-02-partner-page")
    assert axe_violations(partner) == []

    with partner.expect_download() as one:
        partner.get_by_role("button", name="Download Gamma.pdf").click()
    gamma = one.value.path()
    assert gamma is not None
    assert gamma.read_bytes() == FILES["Gamma.pdf"]

    with partner.expect_download(timeout=60_000) as everything:
        partner.get_by_role("button", name="Download all (ZIP)").click()
    path = everything.value.path()
    assert path is not None
    with zipfile.ZipFile(io.BytesIO(path.read_bytes())) as zipped:
        assert {i.filename: zipped.read(i) for i in zipped.infolist()} == {
            n: FILES[n] for n in ("Alpha.pdf", "Gamma.pdf")
        }
    screenshot(partner, "bundle-03-partner-downloaded-all")

    # A document's own page lists the bundles it is in, with their counts, and can revoke one.
    member.goto(f"{local_stack.base_url}/d/{documents['Alpha.pdf']}")
    row = member.locator(f"li[data-share-id='{link['id']}']")
    expect(row).to_contain_text("bundle of 2 documents")
    expect(row).to_contain_text("2 downloads")
    member.goto(f"{local_stack.base_url}/d/{documents['Beta.pdf']}")
    expect(member.get_by_text("No links yet.")).to_be_visible()
    assert console.entries == []
