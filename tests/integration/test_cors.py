"""Browsers on the web origin can read API answers (success and error); other sites cannot."""

from __future__ import annotations

import pytest

from docuserve.adapters import aws as adapters
from tests.support.gateway import call, claims_for

pytestmark = pytest.mark.usefixtures("aws")

WEB = "https://d111111abcdef8.cloudfront.net"


@pytest.fixture(autouse=True)
def _origins(aws: object, monkeypatch: pytest.MonkeyPatch) -> None:
    """After the stack's own environment (which names only the local web origin)."""
    monkeypatch.setenv("CORS_ORIGINS", f"{WEB},http://localhost:8000")
    adapters.reset()


@pytest.mark.parametrize(
    ("method", "path", "signed_in"),
    [
        ("GET", "/me", True),  # members' API, success
        ("GET", "/workspaces/0000000000000000", True),  # members' API, 404 error answer
        ("GET", "/public/shares/not-a-token", False),  # partner API (lean resolver), error answer
        ("GET", "/health", False),
    ],
)
def test_answers_name_an_allowed_origin(method: str, path: str, signed_in: bool) -> None:
    claims = claims_for("u1", "u1@example.com") if signed_in else None
    reply = call(method, path, claims=claims, headers={"origin": WEB})
    assert reply.headers["access-control-allow-origin"] == WEB
    assert "Origin" in reply.headers["vary"]


def test_answers_never_name_another_origin_or_a_wildcard() -> None:
    reply = call("GET", "/me", claims=claims_for("u1", "u1@example.com"), headers={"origin": "https://evil.example"})
    assert "access-control-allow-origin" not in reply.headers


def test_lockout_retry_after_is_readable_cross_origin() -> None:
    reply = call("GET", "/health", headers={"origin": WEB})
    assert "Retry-After" in reply.headers["access-control-expose-headers"]
