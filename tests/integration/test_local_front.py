"""The local HTTP front's framing and capacity, with the function behind it stubbed.

A 204 must end at its header block, or a kept-alive client reads the stray body as the start of the
next answer; and a burst of concurrent connections must all be served, not reset.
"""

from __future__ import annotations

import http.client
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from local import front as front_module
from local.front import Front, Site


@pytest.fixture
def front(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Front]:
    """The front on a free port; ``/api/health`` answers what ``answers[0]`` holds (after 50 ms)."""

    def fake_invoke(function: str, event: dict[str, Any], *, region: str) -> Any:
        time.sleep(0.05)
        return answers[0]

    answers: list[dict[str, Any]] = [{"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": "{}"}]
    monkeypatch.setattr(front_module, "invoke", fake_invoke)
    server = Front(0, log=lambda _: None)
    server.answers = answers  # type: ignore[attr-defined]
    port = server.server_address[1]
    server.configure(
        Site(
            port=port,
            web_root=tmp_path,
            web_origins=(f"http://localhost:{port}",),
            region="us-east-1",
            user_pool_id="pool",
            user_pool_client_id="client",
            cognito_endpoint="http://localhost:1",
            authorizer=None,  # type: ignore[arg-type]  (only public routes here)
        )
    )
    server.ready.set()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def test_a_204_has_no_body_and_the_connection_stays_usable(front: Front) -> None:
    front.answers[0] = {"statusCode": 204, "headers": {"Content-Type": "application/json"}, "body": "null"}  # type: ignore[attr-defined]
    connection = http.client.HTTPConnection("127.0.0.1", front.server_address[1], timeout=5)
    connection.request("GET", "/api/health")
    first = connection.getresponse()
    assert first.status == 204
    assert first.getheader("Content-Length") is None
    assert first.getheader("Content-Type") is None
    assert first.read() == b""
    front.answers[0] = {"statusCode": 200, "headers": {}, "body": '{"status":"ok"}'}  # type: ignore[attr-defined]
    connection.request("GET", "/api/health")  # same socket: the 204 must not have left anything behind
    second = connection.getresponse()
    assert (second.status, second.read()) == (200, b'{"status":"ok"}')
    connection.close()


def test_a_204_on_a_raw_socket_ends_at_the_blank_line(front: Front) -> None:
    front.answers[0] = {"statusCode": 204, "headers": {}, "body": "null"}  # type: ignore[attr-defined]
    with socket.create_connection(("127.0.0.1", front.server_address[1]), timeout=5) as sock:
        sock.sendall(b"GET /api/health HTTP/1.1\r\nHost: x\r\n\r\nGET /api/health HTTP/1.1\r\nHost: x\r\n\r\n")
        received = b""
        deadline = time.monotonic() + 5
        while received.count(b"HTTP/1.1 204") < 2 and time.monotonic() < deadline:
            chunk = sock.recv(65536)
            if not chunk:
                break
            received += chunk
    assert b"null" not in received
    assert received.count(b"HTTP/1.1 204") == 2


def test_sixty_concurrent_connections_are_all_served(front: Front) -> None:
    # Open every connection before the server can accept any of them: with socketserver's
    # backlog of 5, the surplus was refused or reset.
    port = front.server_address[1]
    sockets = []
    statuses: list[int | str] = []
    lock = threading.Lock()

    def request(sock: socket.socket) -> None:
        try:
            sock.sendall(b"GET /api/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            data = b""
            while chunk := sock.recv(65536):
                data += chunk
            outcome: int | str = int(data.split(b" ", 2)[1]) if data else "empty"
        except OSError as exc:
            outcome = type(exc).__name__
        with lock:
            statuses.append(outcome)

    blocker = threading.Lock()
    with blocker:  # hold the accept loop: the listen queue alone must take the burst
        original = front.get_request

        def slow_get_request() -> Any:
            with blocker:
                pass
            return original()

        front.get_request = slow_get_request  # type: ignore[method-assign]
        for _ in range(60):
            sockets.append(socket.create_connection(("127.0.0.1", port), timeout=10))
    threads = [threading.Thread(target=request, args=(s,)) for s in sockets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    for sock in sockets:
        sock.close()
    assert statuses == [200] * 60, statuses
