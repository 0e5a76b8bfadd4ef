"""The local HTTP front: API Gateway REST under ``/api``, ``/config.json``, and the web app.

``/api/...`` behaves like the deployed ``api`` stage: the route comes from the route table (read
per request), protected routes pass the Cognito authorizer first, the function gets the REST proxy
event Lambda would get, and its answer is mapped back. Unknown routes get API Gateway's 403.
``/_local/outbox`` lists the mail the functions sent (``local.outbox``: the local stack only; in
AWS SES delivers it). Everything else is the web app from ``web/`` (single-page routing: unknown
pages get index.html).
"""

from __future__ import annotations

import base64
import json
import mimetypes
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from docuserve import routes, web_policy
from docuserve.schema import PASSWORD_POLICY
from local.authorizer import CognitoAuthorizer, Rejected
from local.events import rest_event
from local.invoke import invoke

API_PREFIX = "/api"
OUTBOX_PATH = "/_local/outbox"
MAX_PAYLOAD = 10 * 1024 * 1024  # API Gateway's request payload limit
NO_BODY_STATUSES = frozenset({204, 304})
# Pending connections the kernel queues before accept(): socketserver's default of 5 resets
# clients under a burst of a few dozen (a browser opening its sockets, a concurrency test).
LISTEN_BACKLOG = 1024
# What the stack's CORS preflight (``default_cors_preflight_options`` in infra/api.py) allows.
PREFLIGHT_METHODS = "GET,POST,PUT,PATCH,DELETE"
PREFLIGHT_HEADERS = "Authorization,Content-Type"
WEB_HEADERS = {
    # Share links carry their token in the page URL: never leak it to other sites.
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-cache",
}
PLACEHOLDER_PAGE = b"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>DocuServe (local)</title></head>
<body><h1>DocuServe local stack</h1>
<p>The web app is not here yet: <code>web/index.html</code> does not exist.</p>
<p>The API is at <a href="/api/health">/api/health</a>; its settings are at
<a href="/config.json">/config.json</a>.</p></body></html>
"""


@dataclass(frozen=True)
class Site:
    """What the front needs to know about the running stack."""

    port: int
    web_root: Path
    web_origins: tuple[str, ...]
    region: str
    user_pool_id: str
    user_pool_client_id: str
    cognito_endpoint: str
    authorizer: CognitoAuthorizer
    # Where presigned document URLs point (moto): the only origin previews may load from.
    storage_origin: str = ""

    def page_headers(self) -> list[tuple[str, str]]:
        """The web app's headers: CloudFront's CSP (``docuserve.web_policy``) pointed at moto, over http."""
        documents = [self.storage_origin] if self.storage_origin else []
        policy = web_policy.content_security_policy(
            connect=[self.cognito_endpoint], documents=documents, upgrade_insecure=False
        )
        return [*WEB_HEADERS.items(), ("Content-Security-Policy", policy)]

    def config(self, host: str | None) -> dict[str, Any]:
        """``/config.json``: where the web app (or any client) finds the API and the user pool."""
        origin = f"http://{host}" if host and f"http://{host}" in self.web_origins else self.web_origins[0]
        return {
            "api_url": f"{origin}{API_PREFIX}",
            "region": self.region,
            "user_pool_id": self.user_pool_id,
            "user_pool_client_id": self.user_pool_client_id,
            "cognito_endpoint": self.cognito_endpoint,
            "password_policy": PASSWORD_POLICY.as_web_config(),
            # The web app shows its Outbox page (the mail in ``/_local/outbox``) only when this is set.
            "local": True,
        }


@dataclass
class Answer:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


def _json_answer(status: int, payload: Any, extra: list[tuple[str, str]] | None = None) -> Answer:
    headers = [("Content-Type", "application/json"), *(extra or [])]
    return Answer(status, headers, json.dumps(payload).encode())


def missing_token() -> Answer:
    """API Gateway's answer for a method/resource that is not in the API."""
    return _json_answer(
        403,
        {"message": "Missing Authentication Token"},
        [("x-amzn-ErrorType", "MissingAuthenticationTokenException")],
    )


def unauthorized() -> Answer:
    return _json_answer(401, {"message": "Unauthorized"}, [("x-amzn-ErrorType", "UnauthorizedException")])


def lambda_answer(result: Any) -> Answer:
    """Map a proxy-integration result back to HTTP; a malformed one is API Gateway's 502."""
    if not isinstance(result, dict) or not isinstance(result.get("statusCode"), int):
        return _json_answer(502, {"message": "Internal server error"})
    headers: list[tuple[str, str]] = []
    multi = result.get("multiValueHeaders") or {}
    for name, value in (result.get("headers") or {}).items():
        if name not in multi:
            headers.append((name, str(value)))
    for name, values in multi.items():
        headers.extend((name, str(v)) for v in values)
    body = result.get("body") or ""
    raw = base64.b64decode(body) if result.get("isBase64Encoded") else str(body).encode()
    return Answer(result["statusCode"], headers, raw)


def _loggable(method: str, raw_path: str) -> str:
    """The path to print: a route template, never a share token (SPEC: tokens are never logged)."""
    if raw_path == API_PREFIX or raw_path.startswith(API_PREFIX + "/"):
        found = routes.match(method, raw_path[len(API_PREFIX) :] or "/")
        return API_PREFIX + found[0].path if found else API_PREFIX + "/<unrouted>"
    if raw_path.startswith("/s/"):
        return "/s/{token}"
    if raw_path.startswith("/r/"):  # an upload request's page: its token, as secret as a share's
        return "/r/{token}"
    return raw_path


class FrontHandler(BaseHTTPRequestHandler):
    """One HTTP request: API, configuration or web file."""

    protocol_version = "HTTP/1.1"
    server_version = "DocuServeLocal"
    sys_version = ""
    server: Front

    # -- dispatch -----------------------------------------------------------------------------
    def _handle(self) -> None:
        started = time.monotonic()
        split = urlsplit(self.path)
        raw_path = split.path or "/"
        body = self._read_body()
        try:
            if body is None:
                self.close_connection = True  # the unread body would be taken for the next request
                answer, log = _json_answer(413, {"message": "Request Too Long"}), True
            elif raw_path == API_PREFIX or raw_path.startswith(API_PREFIX + "/"):
                answer = self._api(raw_path[len(API_PREFIX) :] or "/", split.query, body)
                log = True
            elif raw_path == "/config.json" and self.command in ("GET", "HEAD"):
                answer, log = self._config(), False
            elif raw_path == OUTBOX_PATH:
                answer, log = self._outbox(), False
            else:
                answer = self._web(raw_path)
                log = answer.status >= 400
        except Exception:
            traceback.print_exc()
            answer, log = _json_answer(502, {"message": "Internal server error"}), True
        if log:
            elapsed = (time.monotonic() - started) * 1000
            self.server.log(f"{self.command} {_loggable(self.command, raw_path)} -> {answer.status} ({elapsed:.0f} ms)")
        self._send(answer)

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = _handle

    def _send(self, answer: Answer) -> None:
        # A 204 or 304 ends at its header block (RFC 9110 §6.4.1): no body, no Content-Length.
        # Writing one (say the ``null`` a resolver serialised) would be read on a kept-alive
        # connection as the start of the next answer.
        bodiless = answer.status in NO_BODY_STATUSES
        self.send_response(answer.status)
        for name, value in answer.headers:
            skipped = ("content-length", "connection", "transfer-encoding") + (("content-type",) if bodiless else ())
            if name.lower() not in skipped:
                self.send_header(name, value)
        if not bodiless:
            self.send_header("Content-Length", str(len(answer.body)))
        self.end_headers()
        if self.command != "HEAD" and not bodiless:
            self.wfile.write(answer.body)

    def _read_body(self) -> bytes | None:
        """The request body; None when it is over API Gateway's limit or not length-delimited."""
        if self.headers.get("Transfer-Encoding"):
            return None
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            return None
        if length < 0 or length > MAX_PAYLOAD:
            return None
        return self.rfile.read(length) if length else b""

    def _config(self) -> Answer:
        # Clients (and the e2e fixture) take a 200 here to mean "ready": demo data included.
        if not self.server.ready.is_set():
            return _json_answer(503, {"message": "the local stack is starting"}, [("Retry-After", "1")])
        return _json_answer(200, self.server.site.config(self.headers.get("Host")), list(WEB_HEADERS.items()))

    def _outbox(self) -> Answer:
        """The mail sent so far, newest first (no sign-in: the local stack is one developer's)."""
        if self.command not in ("GET", "HEAD"):
            return Answer(405, [("Allow", "GET, HEAD"), *WEB_HEADERS.items()], b"")
        from local.outbox import outbox

        headers = [(k, v) for k, v in WEB_HEADERS.items() if k != "Cache-Control"] + [("Cache-Control", "no-store")]
        return _json_answer(200, outbox(self.server.site.region), headers)

    # -- API Gateway --------------------------------------------------------------------------
    def _api(self, resource_path: str, query: str, body: bytes) -> Answer:
        site = self.server.site
        if self.command == "OPTIONS":
            return self._preflight(resource_path)
        found = routes.match(self.command, resource_path)
        if found is None:
            return missing_token()
        route, params = found
        claims = None
        if not route.public:
            try:
                claims = site.authorizer.verify(self.headers.get("Authorization"))
            except Rejected as exc:
                self.server.log(f"authorizer: 401 for {self.command} {resource_path}: {exc}")
                return unauthorized()
        client_ip = self.client_address[0]
        headers: dict[str, list[str]] = {}
        for name, value in self.headers.items():
            headers.setdefault(name, []).append(value)
        forwarded = {"X-Forwarded-For": client_ip, "X-Forwarded-Proto": "http", "X-Forwarded-Port": str(site.port)}
        headers |= {name: [value] for name, value in forwarded.items()}
        request_id = str(uuid.uuid4())
        event = rest_event(
            self.command,
            route.path,
            unquote(resource_path),
            path_parameters={k: unquote(v) for k, v in params.items()},
            query=parse_qs(query, keep_blank_values=True),
            multi_headers=headers,
            body=body,
            claims=claims,
            source_ip=client_ip,
            request_id=request_id,
        )
        try:
            result = invoke(route.function.value, event, region=site.region)
        except Exception:
            # An unhandled error in the function: API Gateway answers 502 and the log has the trace.
            traceback.print_exc()
            result = None
        answer = lambda_answer(result)
        answer.headers.append(("x-amzn-RequestId", request_id))
        return answer

    def _preflight(self, resource_path: str) -> Answer:
        """The stack's CORS mock integration: every API resource answers OPTIONS without auth."""
        if not routes.path_exists(resource_path):
            return missing_token()
        origins = self.server.site.web_origins
        origin = self.headers.get("Origin")
        allowed = origin if origin in origins else origins[0]
        headers = [
            ("Access-Control-Allow-Origin", allowed),
            ("Vary", "Origin"),
            ("Access-Control-Allow-Methods", PREFLIGHT_METHODS),
            ("Access-Control-Allow-Headers", PREFLIGHT_HEADERS),
        ]
        return Answer(204, headers, b"")

    # -- web app ------------------------------------------------------------------------------
    def _web(self, raw_path: str) -> Answer:
        if self.command not in ("GET", "HEAD"):
            return Answer(405, [("Allow", "GET, HEAD"), *WEB_HEADERS.items()], b"")
        root = self.server.site.web_root
        path = unquote(raw_path)
        file = root / "index.html" if is_app_page(path) else _static_file(root, path)
        if file is None or not file.is_file():
            if file == root / "index.html":
                html = [("Content-Type", "text/html; charset=utf-8"), *WEB_HEADERS.items()]
                return Answer(200, html, PLACEHOLDER_PAGE)
            return Answer(404, [("Content-Type", "text/plain"), *WEB_HEADERS.items()], b"not found\n")
        content_type = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        if content_type.startswith("text/") or content_type in ("application/javascript", "application/json"):
            content_type += "; charset=utf-8"
        return Answer(200, [("Content-Type", content_type), *self.server.site.page_headers()], file.read_bytes())

    def log_message(self, format: str, *args: Any) -> None:
        """Access lines come from ``_handle`` (API calls and failures only)."""


# Which paths are pages of the app (index.html) and which are files. The CloudFront function in
# infra/web.py (SPA_ROUTER) applies the same rule; tests/infra/test_web.py runs both over one table.
# App routes come first, so an id with a dot (/d/<workspace>.<document>) can never look like a file.
APP_ROUTE_PREFIXES = ("/s/", "/r/", "/w/", "/d/", "/admin/")
APP_ROUTES = ("/", "/admin")
STATIC_PREFIXES = ("/js/",)
STATIC_EXTENSIONS = frozenset(
    {"css", "html", "ico", "jpg", "js", "json", "map", "mjs", "png", "svg", "txt", "webmanifest", "webp", "woff2"}
)


def is_app_page(path: str) -> bool:
    """True when ``path`` (decoded) is a page of the single-page app, False when it names a file."""
    if path in APP_ROUTES or path.startswith(APP_ROUTE_PREFIXES):
        return True
    if any(part.startswith(".") for part in path.split("/")):
        return False  # dot segments and hidden names: never a page, and never served
    if path.startswith(STATIC_PREFIXES):
        return False
    last = path.rsplit("/", 1)[-1]
    return not ("." in last and last.rsplit(".", 1)[-1].lower() in STATIC_EXTENSIONS)


def _static_file(root: Path, path: str) -> Path | None:
    """The file under ``root`` that ``path`` names, or None (never a file outside ``root``)."""
    parts = [p for p in path.split("/") if p]
    if any(p.startswith(".") or "\\" in p or "\x00" in p for p in parts):
        return None
    candidate = root.joinpath(*parts) if parts else root
    try:
        resolved = candidate.resolve()
        base = root.resolve()
    except (OSError, RuntimeError):
        return None
    if not resolved.is_relative_to(base):
        return None
    if resolved.is_dir():
        resolved = resolved / "index.html"
    return resolved if resolved.is_file() else None


class Front(ThreadingHTTPServer):
    """The HTTP server; binds at construction (so a taken port fails before anything starts)."""

    daemon_threads = True
    request_queue_size = LISTEN_BACKLOG

    def __init__(self, port: int, log: Callable[[str], None]) -> None:
        self.log = log
        self._site: Site | None = None
        self.ready = threading.Event()
        super().__init__(("127.0.0.1", port), FrontHandler)

    @property
    def site(self) -> Site:
        assert self._site is not None, "serve() only after configure()"
        return self._site

    def configure(self, site: Site) -> None:
        self._site = site
