"""The web app's upload client in the browser, against a scripted API and S3 (Playwright routes).

The local stack switches to multipart only above 100 MiB; here the API answers with small parts so
that multipart, a retried part, and resuming after a part that keeps failing can be watched
request by request. Like the real API, the fake grants a part URL only for a declared SHA-256 and
refuses (as S3 does) a part whose bytes do not match the checksum its URL signs; completion
answers 202 and the upload lands while the app polls. The files are served from ``web/`` as they are.
"""

from __future__ import annotations

import base64
import hashlib
import json
import mimetypes
import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, Route, expect

from infra.web import content_security_policy
from tests.browser.conftest import ROOT, ConsoleLog, screenshot

APP = "http://app.localhost"  # a *.localhost page is a secure context, as Web Crypto needs
API = "http://api.localhost/api"
S3 = "http://s3.localhost"
PART = 1024 * 1024
WEB = ROOT / "web"
WORKSPACE = {"id": "ws-1", "name": "Designs", "description": "", "my_role": "owner"}
# The CSP CloudFront sends (infra/web.py), pointed at the fake hosts, which speak plain http.
CSP = (
    content_security_policy(api_origin="http://api.localhost", region="eu-west-1")
    .replace("; upgrade-insecure-requests", "")
    .replace("connect-src 'self'", f"connect-src 'self' {S3}")
)


def _fake_jwt() -> str:
    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    claims = {"sub": "u-1", "email": "ana@example.com", "exp": int(time.time()) + 3600}
    return f"{part({'alg': 'none'})}.{part(claims)}.sig"


@dataclass
class FakeBackend:
    """Answers the API and S3 requests one upload needs, and records what the app sent."""

    size: int
    single: bool = False  # one presigned PUT instead of a multipart upload
    fail_part: dict[int, int] = field(default_factory=dict)  # part_number -> failures still to give
    created: list[dict[str, Any]] = field(default_factory=list)
    puts: list[int] = field(default_factory=list)  # part numbers, in the order they arrived
    put_bodies: dict[int, bytes] = field(default_factory=dict)
    put_headers: list[dict[str, str]] = field(default_factory=list)
    reissued: list[list[int]] = field(default_factory=list)  # part numbers of each URL request
    signed: dict[int, str] = field(default_factory=dict)  # part_number -> SHA-256 its URL signs
    completed: list[dict[str, Any]] = field(default_factory=list)

    def part_url(self, n: int, generation: int = 0) -> str:
        return f"{S3}/bucket/object?partNumber={n}&uploadId=up-1&gen={generation}"

    def api(self, route: Route) -> None:
        request = route.request
        path = request.url.removeprefix(API).split("?")[0]
        method = request.method
        if method == "OPTIONS":
            route.fulfill(status=204, headers=self.cors())
            return
        if (method, path) == ("GET", "/workspaces"):
            return self.json(route, {"items": [WORKSPACE], "next_cursor": None})
        if (method, path) == ("GET", "/workspaces/ws-1"):
            return self.json(route, WORKSPACE)
        if (method, path) == ("GET", "/workspaces/ws-1/documents"):
            return self.json(route, {"items": [], "next_cursor": None})
        if (method, path) == ("POST", "/workspaces/ws-1/documents"):
            body = json.loads(request.post_data or "{}")
            self.created.append(body)
            if self.single:
                headers = {
                    "Content-Type": body["content_type"],
                    "x-amz-checksum-sha256": body["sha256"],
                    "x-amz-server-side-encryption": "aws:kms",
                    "x-amz-server-side-encryption-aws-kms-key-id": "arn:aws:kms:eu-west-1:1:key/k",
                }
                upload = {
                    "upload_id": "up-1",
                    "method": "PUT",
                    "url": f"{S3}/bucket/object?X-Amz-Signature=s",
                    "headers": headers,
                    "expires_at": "2099-01-01T00:00:00Z",
                }
                return self.json(route, {"document": {"id": "doc-1", "name": body["name"]}, "upload": upload}, 201)
            count = -(-self.size // PART)
            upload = {
                "upload_id": "up-1",
                "method": "MULTIPART",
                "part_size": PART,
                "part_count": count,
                "expires_at": "2099-01-01T00:00:00Z",
            }
            return self.json(route, {"document": {"id": "doc-1", "name": body["name"]}, "upload": upload}, 201)
        if (method, path) == ("POST", "/uploads/up-1/parts"):
            declared = json.loads(request.post_data or "{}")["parts"]
            self.reissued.append([p["part_number"] for p in declared])
            self.signed.update({p["part_number"]: p["sha256"] for p in declared})
            parts = [
                {
                    "part_number": p["part_number"],
                    "url": self.part_url(p["part_number"], len(self.reissued)),
                    "headers": {"x-amz-checksum-sha256": p["sha256"]},
                }
                for p in declared
            ]
            return self.json(route, {"parts": parts, "expires_at": "2099-01-01T00:00:00Z"})
        if (method, path) == ("POST", "/uploads/up-1/complete"):
            self.completed.append(json.loads(request.post_data or "{}"))
            return self.json(route, {"upload_id": "up-1", "status": "completing"}, 202)
        if (method, path) == ("GET", "/uploads/up-1"):
            landed = self.completed or (self.single and self.put_bodies)
            return self.json(route, {"upload_id": "up-1", "status": "completed" if landed else "pending"})
        return self.json(route, {"code": "not_found", "message": f"no fake for {method} {path}"}, 404)

    def s3(self, route: Route) -> None:
        request = route.request
        if request.method == "OPTIONS":
            route.fulfill(status=200, headers=self.cors())
            return
        found = re.search(r"partNumber=(\d+)", request.url)
        n = int(found.group(1)) if found else 1
        self.put_headers.append(request.headers)
        self.puts.append(n)
        if self.fail_part.get(n, 0) > 0:
            self.fail_part[n] -= 1
            route.fulfill(status=500, headers=self.cors(), body="InternalError")
            return
        body = request.post_data_buffer or b""
        if found and request.headers.get("x-amz-checksum-sha256") != _b64sha(body):
            route.fulfill(status=400, headers=self.cors(), body="BadDigest")  # what S3 answers
            return
        self.put_bodies[n] = body
        route.fulfill(status=200, headers={**self.cors(), "ETag": f'"etag-{n}"'}, body="")

    @staticmethod
    def cors() -> dict[str, str]:
        return {
            "Access-Control-Allow-Origin": APP,
            "Access-Control-Allow-Methods": "GET,PUT,POST,PATCH,DELETE",
            "Access-Control-Allow-Headers": "authorization,content-type,x-amz-checksum-sha256",
            "Access-Control-Expose-Headers": "ETag",
        }

    def json(self, route: Route, body: Any, status: int = 200) -> None:
        route.fulfill(status=status, headers={**self.cors(), "Content-Type": "application/json"}, body=json.dumps(body))


def serve_web(route: Route) -> None:
    path = route.request.url.removeprefix(APP).split("?")[0]
    if path == "/config.json":
        config = {"api_url": API, "region": "eu-west-1", "user_pool_id": "pool", "user_pool_client_id": "client"}
        route.fulfill(status=200, content_type="application/json", body=json.dumps(config))
        return
    file = (WEB / path.lstrip("/")).resolve()
    if not file.is_file() or WEB not in file.parents:
        file = WEB / "index.html"
    route.fulfill(
        status=200,
        headers={"Content-Security-Policy": CSP, "Referrer-Policy": "no-referrer"},
        content_type=mimetypes.guess_type(file.name)[0] or "text/plain",
        body=file.read_bytes(),
    )


@pytest.fixture
def app(browser: Browser, console: ConsoleLog) -> Iterator[Page]:
    """A signed-in member's page on the fake origin (the session is put where the app keeps it)."""
    context = browser.new_context(viewport={"width": 1024, "height": 800})
    context.set_default_timeout(20_000)
    expires_ms = (time.time() + 3600) * 1000
    session = {"idToken": _fake_jwt(), "accessToken": "a", "refreshToken": "r", "expiresAt": expires_ms}
    context.add_init_script(f"sessionStorage.setItem('docuserve.session', {json.dumps(json.dumps(session))});")
    context.route(f"{APP}/**", serve_web)
    page = console.watch(context.new_page(), "upload-client")
    yield page
    context.close()
    # The app runs under the deployed Content-Security-Policy without a single violation.
    assert [e for e in console.entries if "Content Security Policy" in e[2]] == []


def _start(app: Page, backend: FakeBackend, tmp_path: Path) -> bytes:
    app.route(f"{API}/**", backend.api)
    app.route(f"{S3}/**", backend.s3)
    data = os.urandom(backend.size)
    file = tmp_path / "design.bin"
    file.write_bytes(data)
    app.goto(f"{APP}/w/ws-1")
    expect(app.get_by_role("heading", name="Designs")).to_be_visible()
    app.locator("input[type=file]").set_input_files(str(file))
    return data


def _b64sha(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def _expected_parts(data: bytes) -> list[dict[str, Any]]:
    chunks = [data[i : i + PART] for i in range(0, len(data), PART)]
    return [{"part_number": n, "etag": f'"etag-{n}"', "sha256": _b64sha(c)} for n, c in enumerate(chunks, start=1)]


def test_a_large_file_goes_up_in_parts_with_a_declared_sha256(app: Page, tmp_path: Path) -> None:
    backend = FakeBackend(size=3 * PART + 1234)
    data = _start(app, backend, tmp_path)
    upload = app.locator(".upload", has_text="design.bin")
    expect(upload).to_have_attribute("data-state", "available")
    expect(upload.locator(".percent")).to_have_text("100%")

    (declared,) = backend.created
    assert declared["size"] == len(data)
    assert declared["sha256"] == base64.b64encode(hashlib.sha256(data).digest()).decode()
    assert declared["content_type"] == "application/octet-stream"
    assert sorted(backend.puts) == [1, 2, 3, 4]
    assert b"".join(backend.put_bodies[n] for n in (1, 2, 3, 4)) == data
    # Each part's URL was asked for with that part's SHA-256 (all four in one call), and the part
    # sent it, signed.
    assert backend.reissued == [[1, 2, 3, 4]]
    assert backend.completed == [{"parts": _expected_parts(data)}]


def test_a_failed_part_is_retried_with_a_fresh_url(app: Page, tmp_path: Path) -> None:
    backend = FakeBackend(size=3 * PART + 10, fail_part={2: 1})
    data = _start(app, backend, tmp_path)
    expect(app.locator(".upload", has_text="design.bin")).to_have_attribute("data-state", "available")
    assert backend.puts.count(2) == 2
    assert backend.reissued == [[1, 2, 3, 4], [2]]  # the first URLs, then a fresh one for part 2
    assert backend.completed == [{"parts": _expected_parts(data)}]


def test_a_part_that_keeps_failing_pauses_the_upload_and_resume_sends_only_what_is_missing(
    app: Page, tmp_path: Path
) -> None:
    backend = FakeBackend(size=3 * PART + 10, fail_part={3: 3})
    data = _start(app, backend, tmp_path)
    upload = app.locator(".upload", has_text="design.bin")
    expect(upload).to_have_attribute("data-state", "paused")
    expect(upload.locator(".state")).to_have_text("Paused")
    assert backend.completed == []
    screenshot(app, "08-upload-paused")

    sent_before = list(backend.puts)
    upload.get_by_role("button", name="Resume upload").click()
    expect(upload).to_have_attribute("data-state", "available")
    assert backend.puts[len(sent_before) :] == [3]
    assert backend.reissued[-1] == [3]
    assert backend.completed == [{"parts": _expected_parts(data)}]
    assert backend.put_bodies[3] == data[2 * PART : 3 * PART]


def test_incremental_sha256_matches_web_crypto_and_hashlib(app: Page) -> None:
    app.goto(f"{APP}/")
    expect(app.get_by_role("heading", name="Workspaces")).to_be_visible()
    result = app.evaluate(
        """async () => {
          const { Sha256, toBase64 } = await import('/js/sha256.js');
          const data = new Uint8Array(1_000_003);
          for (let i = 0; i < data.length; i++) data[i] = (i * 2654435761) >>> 24;
          const hash = new Sha256();
          for (let i = 0, step = 1; i < data.length; i += step, step = (step * 7) % 65_537 + 1) {
            hash.update(data.subarray(i, i + step));
          }
          const web = new Uint8Array(await crypto.subtle.digest('SHA-256', data));
          return { incremental: toBase64(hash.digest()), webCrypto: toBase64(web),
                   empty: toBase64(new Sha256().digest()) };
        }"""
    )
    data = bytes((i * 2654435761) % 2**32 >> 24 for i in range(1_000_003))
    expected = base64.b64encode(hashlib.sha256(data).digest()).decode()
    assert result["webCrypto"] == expected
    assert result["incremental"] == expected
    assert result["empty"] == base64.b64encode(hashlib.sha256(b"").digest()).decode()


def test_a_dropped_file_is_put_with_exactly_the_signed_headers(app: Page, tmp_path: Path) -> None:
    backend = FakeBackend(size=2048, single=True)
    app.route(f"{API}/**", backend.api)
    app.route(f"{S3}/**", backend.s3)
    app.goto(f"{APP}/w/ws-1")
    expect(app.get_by_role("heading", name="Designs")).to_be_visible()
    data = os.urandom(backend.size)
    transfer = app.evaluate_handle(
        """bytes => {
          const transfer = new DataTransfer();
          transfer.items.add(new File([new Uint8Array(bytes)], 'brief.pdf', { type: 'application/pdf' }));
          return transfer;
        }""",
        list(data),
    )
    app.dispatch_event(".dropzone", "dragover", {"dataTransfer": transfer})
    app.dispatch_event(".dropzone", "drop", {"dataTransfer": transfer})

    expect(app.locator(".upload", has_text="brief.pdf")).to_have_attribute("data-state", "available")
    (declared,) = backend.created
    assert declared == {
        "name": "brief.pdf",
        "folder": "/",
        "size": len(data),
        "sha256": base64.b64encode(hashlib.sha256(data).digest()).decode(),
        "content_type": "application/pdf",
    }
    (sent,) = backend.put_headers
    assert sent["content-type"] == "application/pdf"
    assert sent["x-amz-checksum-sha256"] == declared["sha256"]
    assert sent["x-amz-server-side-encryption"] == "aws:kms"
    assert sent["x-amz-server-side-encryption-aws-kms-key-id"] == "arn:aws:kms:eu-west-1:1:key/k"
    assert backend.put_bodies[1] == data
    assert backend.completed == []  # a single PUT needs no completion call


def test_the_deployed_csp_refuses_inline_script(app: Page, console: ConsoleLog) -> None:
    app.goto(f"{APP}/")
    expect(app.get_by_role("heading", name="Workspaces")).to_be_visible()
    app.evaluate(
        """() => {
          const script = document.createElement('script');
          script.textContent = 'window.injected = true';
          document.body.append(script);
        }"""
    )
    assert app.evaluate("window.injected === undefined")
    refused = [e for e in console.entries if "Content Security Policy" in e[2]]
    assert refused, "the browser did not enforce the CSP"
    console.entries.clear()  # expected here; the fixture checks that nothing else was refused
