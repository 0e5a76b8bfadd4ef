"""The partner page's signed delivery manifest: it shows files, sizes, SHA-256, signer and key id,
and "Download and verify" checks the signature with Web Crypto and the files' hashes (issue 18)."""

from __future__ import annotations

import hashlib
import json

import pytest
from playwright.sync_api import BrowserContext, Route, expect

from tests.browser.conftest import ConsoleLog, member_with_workspace
from tests.e2e.client import LocalStack, available_document

pytestmark = pytest.mark.e2e

PLAN = b"%PDF-1.7 the signed plan " * 30


def _link(local_stack: LocalStack) -> dict[str, str]:
    user, workspace = member_with_workspace(local_stack, "Signed deliveries")
    token = local_stack.sign_in_user(user)
    document = available_document(local_stack, token, PLAN, "Plan.pdf", workspace_id=workspace)
    reply = local_stack.api("POST", f"/documents/{document['id']}/shares", token=token, json={})
    assert reply.status_code == 201, reply.text
    return dict(reply.json())


def test_the_partner_downloads_and_verifies_the_signed_delivery(
    context: BrowserContext, local_stack: LocalStack, console: ConsoleLog
) -> None:
    link = _link(local_stack)
    partner = console.watch(context.new_page(), "partner")
    partner.goto(link["url"])

    panel = partner.get_by_role("region", name="Signed delivery manifest")
    expect(panel).to_contain_text("Plan.pdf")
    expect(panel).to_contain_text(hashlib.sha256(PLAN).hexdigest())
    expect(panel).to_contain_text("DocuServe")
    signed = local_stack.api("GET", f"/public/shares/{link['token']}/manifest").json()
    expect(panel.locator("code.key-id")).to_have_text(signed["key_id"])

    panel.get_by_role("button", name="Download and verify").click()
    expect(panel.locator(".verify-ok")).to_contain_text("Verified", timeout=20_000)
    expect(panel.get_by_role("link", name="Save Plan.pdf")).to_be_visible()


def test_a_tampered_manifest_is_shown_as_failed(
    context: BrowserContext, local_stack: LocalStack, console: ConsoleLog
) -> None:
    link = _link(local_stack)
    partner = console.watch(context.new_page(), "partner")

    def tamper(route: Route) -> None:
        answer = route.fetch()
        body = answer.json()
        manifest = json.loads(body["manifest"])
        manifest["files"][0]["sha256"] = hashlib.sha256(b"another file").hexdigest()
        body["manifest"] = json.dumps(manifest, sort_keys=True, separators=(",", ":"))
        route.fulfill(response=answer, json=body)

    partner.route("**/manifest", tamper)
    partner.goto(link["url"])
    panel = partner.get_by_role("region", name="Signed delivery manifest")
    panel.get_by_role("button", name="Download and verify").click()
    expect(panel.locator(".verify-failed")).to_contain_text("signature does not match", timeout=20_000)
