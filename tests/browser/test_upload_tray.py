"""The upload tray in the browser (issue 15), against the scripted API and S3 of
``test_upload_client``: leaving asks first while uploads run, cancel, speed and time left, the
tray across pages, resuming after a reload from the parts the API says S3 holds, "new version or
keep both", and a folder that is not "empty" while files go into it. S3 requests can be held, so
an upload is caught mid-flight."""

from __future__ import annotations

import json
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, Route, expect

from tests.browser.conftest import screenshot
from tests.browser.test_upload_client import API, APP, PART, S3, FakeBackend, _b64sha, _expected_parts
from tests.browser.test_upload_client import app as app


@dataclass
class TrayBackend(FakeBackend):
    """The fake API and S3, plus: held S3 requests, cancel, parts held, existing documents."""

    hold: bool = False  # keep S3 requests waiting until ``release``
    held: list[tuple[int, Route]] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    listed: list[dict[str, Any]] = field(default_factory=list)
    versions: list[dict[str, Any]] = field(default_factory=list)
    status_asked: int = 0

    def api(self, route: Route) -> None:
        request = route.request
        path = request.url.removeprefix(API).split("?")[0]
        method = request.method
        if (method, path) == ("GET", "/workspaces/ws-1/documents"):
            return self.json(route, {"items": self.listed, "next_cursor": None})
        if (method, path) == ("DELETE", "/uploads/up-1"):
            self.deleted.append("up-1")
            return route.fulfill(status=204, headers=self.cors())
        if method == "POST" and path.endswith("/versions"):
            body = json.loads(request.post_data or "{}")
            self.versions.append({"path": path, **body})
            self.single = True
            upload = {
                "upload_id": "up-1",
                "method": "PUT",
                "url": f"{S3}/bucket/object?X-Amz-Signature=s",
                "headers": {"x-amz-checksum-sha256": body["sha256"]},
                "expires_at": "2099-01-01T00:00:00Z",
            }
            return self.json(route, upload, 201)
        resumable = not self.single and not self.completed
        if (method, path) == ("GET", "/uploads/up-1") and resumable:
            self.status_asked += 1
            held = [{"part_number": n, "etag": f'"etag-{n}"', "sha256": None} for n in sorted(self.put_bodies)]
            status = {
                "upload_id": "up-1",
                "document_id": "doc-1",
                "version_id": "v-1",
                "method": "PUT" if self.single else "MULTIPART",
                "status": "pending",
                "size": self.size,
                "created_at": "2026-01-01T00:00:00Z",
                "part_size": None if self.single else PART,
                "part_count": None if self.single else -(-self.size // PART),
                "parts": None if self.single else held,
            }
            return self.json(route, status)
        return super().api(route)

    def s3(self, route: Route) -> None:
        if self.hold and route.request.method == "PUT":
            found = route.request.url.split("partNumber=")
            self.held.append((int(found[1].split("&")[0]) if len(found) > 1 else 1, route))
            return None
        return super().s3(route)

    def release(self, page: Page, part: int | None = None) -> None:
        """Let held requests through (all, or one part's), as S3 would answer them."""
        keep = []
        for n, route in self.held:
            if part is None or n == part:
                super().s3(route)
            else:
                keep.append((n, route))
        self.held = keep
        page.wait_for_timeout(50)


def _open(app: Page, backend: TrayBackend) -> None:
    app.route(f"{API}/**", backend.api)
    app.route(f"{S3}/**", backend.s3)
    app.goto(f"{APP}/w/ws-1")
    expect(app.get_by_role("heading", name="Designs")).to_be_visible()


def _pick(app: Page, tmp_path: Path, data: bytes, name: str = "design.bin") -> Path:
    folder = tmp_path / os.urandom(4).hex()
    folder.mkdir()
    file = folder / name
    file.write_bytes(data)
    app.locator("input[type=file]").first.set_input_files(str(file))
    return file


def _wait_held(app: Page, backend: TrayBackend, count: int = 1) -> None:
    deadline = time.monotonic() + 20
    while len(backend.held) < count:
        assert time.monotonic() < deadline, f"only {len(backend.held)} S3 request(s) arrived"
        app.wait_for_timeout(50)


def _leaving_is_refused(app: Page) -> bool:
    """What the page's beforeunload handlers answer (preventDefault asks the person first)."""
    return bool(
        app.evaluate(
            """() => {
              const event = new Event('beforeunload', { cancelable: true });
              window.dispatchEvent(event);
              return event.defaultPrevented;
            }"""
        )
    )


def test_leaving_the_page_while_an_upload_runs_asks_first_and_not_once_it_is_done(app: Page, tmp_path: Path) -> None:
    backend = TrayBackend(size=2048, single=True, hold=True)
    _open(app, backend)
    assert not _leaving_is_refused(app)
    _pick(app, tmp_path, os.urandom(backend.size))
    _wait_held(app, backend)
    row = app.locator(".upload-tray .upload", has_text="design.bin")
    expect(row).to_have_attribute("data-state", "uploading")
    assert _leaving_is_refused(app)

    # The browser's own question, as closing the tab would ask it.
    app.get_by_role("heading", name="Designs").click()  # beforeunload dialogs need a user gesture
    with app.expect_event("dialog") as asked:
        app.close(run_before_unload=True)
    assert asked.value.type == "beforeunload"
    asked.value.dismiss()  # stay: the upload goes on


def test_leaving_is_not_refused_once_uploads_are_done(app: Page, tmp_path: Path) -> None:
    backend = TrayBackend(size=2048, single=True, hold=True)
    _open(app, backend)
    _pick(app, tmp_path, os.urandom(backend.size))
    _wait_held(app, backend)
    assert _leaving_is_refused(app)
    backend.release(app)
    expect(app.locator(".upload-tray .upload", has_text="design.bin")).to_have_attribute("data-state", "available")
    assert not _leaving_is_refused(app)


def test_cancel_stops_the_transfer_and_aborts_the_upload_on_the_server(app: Page, tmp_path: Path) -> None:
    backend = TrayBackend(size=3 * PART + 10, hold=True)
    _open(app, backend)
    _pick(app, tmp_path, os.urandom(backend.size))
    _wait_held(app, backend, 3)
    row = app.locator(".upload-tray .upload", has_text="design.bin")
    row.get_by_role("button", name="Cancel design.bin").click()
    expect(row).to_have_attribute("data-state", "cancelled")
    expect(row.locator(".state")).to_have_text("Cancelled")
    deadline = time.monotonic() + 10
    while not backend.deleted and time.monotonic() < deadline:
        app.wait_for_timeout(50)
    assert backend.deleted == ["up-1"]
    backend.release(app)  # S3 answers late: nothing more happens
    app.wait_for_timeout(300)
    assert backend.completed == []
    expect(row).to_have_attribute("data-state", "cancelled")
    assert not _leaving_is_refused(app)
    assert app.evaluate("sessionStorage.getItem('docuserve.uploads')") is None


def test_each_upload_shows_its_speed_and_time_left(app: Page, tmp_path: Path) -> None:
    backend = TrayBackend(size=8 * PART, hold=True)
    _open(app, backend)
    _pick(app, tmp_path, os.urandom(backend.size))
    _wait_held(app, backend, 4)
    rate = app.locator(".upload-tray .upload .rate")
    for part in (1, 2):
        app.wait_for_timeout(400)
        backend.release(app, part)
    expect(rate).to_have_text(re.compile(r"^\d+(\.\d)? (B|KB|MB)/s · about (\d+ s|\d+ min( \d+ s)?) left$"))
    screenshot(app, "v2-tray-speed")
    backend.hold = False
    backend.release(app)
    expect(app.locator(".upload-tray .upload")).to_have_attribute("data-state", "available")
    expect(rate).to_have_text("")
    durations = app.evaluate(
        """async () => {
          const { formatDuration } = await import('/js/ui.js');
          return [formatDuration(9), formatDuration(75), formatDuration(120), formatDuration(5400)];
        }"""
    )
    assert durations == ["9 s", "1 min 15 s", "2 min", "1 h 30 min"]


def test_the_tray_stays_while_the_person_moves_to_other_pages(app: Page, tmp_path: Path) -> None:
    backend = TrayBackend(size=2048, single=True, hold=True)
    _open(app, backend)
    _pick(app, tmp_path, os.urandom(backend.size))
    _wait_held(app, backend)
    app.get_by_role("navigation", name="Breadcrumb").get_by_role("link", name="Workspaces").click()
    expect(app.get_by_role("heading", name="Workspaces", level=1)).to_be_visible()
    tray = app.get_by_role("region", name="Uploads")
    row = tray.locator(".upload", has_text="design.bin")
    expect(row).to_have_attribute("data-state", "uploading")
    backend.release(app)
    expect(row).to_have_attribute("data-state", "available")
    expect(tray.locator(".tray-summary")).to_have_text("All done")
    tray.get_by_role("button", name="Clear finished").click()
    expect(tray).to_be_hidden()


def test_a_folder_with_files_on_their_way_is_not_called_empty(app: Page, tmp_path: Path) -> None:
    backend = TrayBackend(size=2048, single=True, hold=True)
    _open(app, backend)
    expect(app.get_by_text("This folder is empty.")).to_be_visible()
    _pick(app, tmp_path, os.urandom(backend.size))
    _wait_held(app, backend)
    expect(app.get_by_text("1 file is being uploaded into this folder")).to_be_visible()
    expect(app.get_by_text("This folder is empty.")).to_have_count(0)
    backend.release(app)


def test_after_a_reload_the_same_file_picked_again_resumes_from_the_parts_the_server_holds(
    app: Page, tmp_path: Path
) -> None:
    backend = TrayBackend(size=4 * PART - 7, hold=True)
    _open(app, backend)
    data = os.urandom(backend.size)
    file = _pick(app, tmp_path, data)
    _wait_held(app, backend, 4)
    backend.release(app, 1)
    backend.release(app, 2)
    expect(app.locator(".upload-tray .upload .percent")).to_have_text("50%")
    saved = json.loads(app.evaluate("sessionStorage.getItem('docuserve.uploads')"))
    assert [r["upload_id"] for r in saved] == ["up-1"]
    assert saved[0]["sha256"] == _b64sha(data)
    text = json.dumps(saved)
    assert "http" not in text  # no URL (a presigned URL is a credential)
    assert "idToken" not in text and "eyJ" not in text  # noqa: PT018  (no token of any kind)

    backend.hold = False
    backend.held = []  # the page goes away with its requests
    app.on("dialog", lambda dialog: dialog.accept())
    app.reload()
    expect(app.get_by_role("heading", name="Designs")).to_be_visible()
    row = app.locator(".upload-tray .upload", has_text="design.bin")
    expect(row).to_have_attribute("data-state", "interrupted")
    expect(row).to_contain_text("Choose the same file to continue")
    screenshot(app, "v2-tray-interrupted")

    # A different file of the same name and size is refused by its SHA-256.
    other = tmp_path / "other"
    other.mkdir()
    (other / "design.bin").write_bytes(os.urandom(backend.size))
    row.locator("input[type=file]").set_input_files(str(other / "design.bin"))
    expect(row.get_by_role("alert")).to_contain_text("SHA-256 differs")
    assert backend.status_asked == 0

    puts_before = len(backend.puts)
    row.locator("input[type=file]").set_input_files(str(file))
    expect(row).to_have_attribute("data-state", "available")
    assert sorted(backend.puts[puts_before:]) == [3, 4]  # only what S3 did not hold
    assert backend.reissued[-1] == [3, 4]
    assert backend.completed == [{"parts": _expected_parts(data)}]
    assert app.evaluate("sessionStorage.getItem('docuserve.uploads')") is None


def _existing(status: str = "available") -> dict[str, Any]:
    return {
        "id": "doc-9",
        "workspace_id": "ws-1",
        "name": "Design.bin",
        "folder": "/",
        "status": status,
        "size": 10,
        "content_type": "application/octet-stream",
        "created_at": "2026-01-01T00:00:00Z",
        "updated_at": "2026-01-01T00:00:00Z",
        "tags": [],
    }


def test_a_name_already_in_the_folder_asks_and_keep_both_uploads_a_distinct_name(app: Page, tmp_path: Path) -> None:
    backend = TrayBackend(size=2048, single=True, listed=[_existing()])
    _open(app, backend)
    _pick(app, tmp_path, os.urandom(backend.size))
    dialog = app.get_by_role("dialog", name="A file with this name exists")
    expect(dialog).to_contain_text("“design.bin” already exists in this folder")
    screenshot(app, "v2-same-name")
    dialog.get_by_role("button", name="Keep both").click()
    expect(app.locator(".upload-tray .upload", has_text="design (2).bin")).to_have_attribute("data-state", "available")
    assert [c["name"] for c in backend.created] == ["design (2).bin"]
    assert backend.versions == []


def test_a_name_already_in_the_folder_can_become_a_new_version_of_that_document(app: Page, tmp_path: Path) -> None:
    backend = TrayBackend(size=2048, single=True, listed=[_existing()])
    _open(app, backend)
    data = os.urandom(backend.size)
    _pick(app, tmp_path, data)
    app.get_by_role("dialog").get_by_role("button", name="Upload as a new version").click()
    expect(app.locator(".upload-tray .upload", has_text="Design.bin")).to_have_attribute("data-state", "available")
    assert backend.created == []
    assert backend.versions == [
        {
            "path": "/documents/doc-9/versions",
            "size": len(data),
            "sha256": _b64sha(data),
            "content_type": "application/octet-stream",
        }
    ]


def test_skipping_a_same_name_file_uploads_nothing(app: Page, tmp_path: Path) -> None:
    backend = TrayBackend(size=2048, single=True, listed=[_existing("pending")])
    _open(app, backend)
    _pick(app, tmp_path, os.urandom(backend.size))
    dialog = app.get_by_role("dialog")
    expect(dialog).to_contain_text("still being uploaded")
    expect(dialog.get_by_role("button", name="Upload as a new version")).to_have_count(0)
    dialog.get_by_role("button", name="Skip this file").click()
    expect(dialog).to_have_count(0)
    app.wait_for_timeout(300)
    assert backend.created == []
    assert backend.versions == []
