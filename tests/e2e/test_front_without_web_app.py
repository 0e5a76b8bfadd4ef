"""The front when ``web/`` has no app yet: a page that says so, and the API still answers."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from local.authorizer import CognitoAuthorizer
from local.front import Front, Site
from tests.e2e.client import free_port

pytestmark = pytest.mark.e2e


@pytest.fixture
def front_without_web_app(tmp_path: Path) -> Iterator[str]:
    port = free_port()
    front = Front(port, log=lambda _: None)
    front.configure(
        Site(
            port=port,
            web_root=tmp_path / "web",
            web_origins=(f"http://localhost:{port}",),
            region="us-east-1",
            user_pool_id="us-east-1_x",
            user_pool_client_id="client",
            cognito_endpoint="http://127.0.0.1:1",
            authorizer=CognitoAuthorizer(
                jwks_url="http://127.0.0.1:1/jwks.json", region="us-east-1", user_pool_id="x", app_client_id="c"
            ),
        )
    )
    front.ready.set()
    thread = threading.Thread(target=front.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    front.shutdown()
    front.server_close()


def test_a_missing_web_app_gets_a_page_that_says_so(front_without_web_app: str) -> None:
    for path in ("/", "/s/some-token"):
        reply = requests.get(f"{front_without_web_app}{path}", timeout=10)

        assert reply.status_code == 200
        assert "web/index.html" in reply.text
        assert reply.headers["Referrer-Policy"] == "no-referrer"


def test_config_json_is_503_until_the_stack_is_ready() -> None:
    port = free_port()
    front = Front(port, log=lambda _: None)
    thread = threading.Thread(target=front.serve_forever, daemon=True)
    thread.start()
    try:
        reply = requests.get(f"http://127.0.0.1:{port}/config.json", timeout=10)
    finally:
        front.shutdown()
        front.server_close()

    assert reply.status_code == 503
