"""CORS on API answers: the web app (CloudFront) and the API (API Gateway) are different origins.

API Gateway answers the preflight (OPTIONS) itself; every actual answer must then name the
requesting origin, or the browser hides the answer from the app. Only configured web origins
are named — never ``*`` — so no other site can read an API answer with a user's token.
"""

from __future__ import annotations

from typing import Any

# Error answers a browser must be able to read besides the body (lockouts say when to retry).
EXPOSED_HEADERS = "Retry-After"


def request_origin(event: dict[str, Any]) -> str | None:
    for name, value in (event.get("headers") or {}).items():
        if name.lower() == "origin" and isinstance(value, str):
            return value
    return None


def add_cors_headers(event: dict[str, Any], answer: dict[str, Any], allowed: tuple[str, ...]) -> dict[str, Any]:
    """Name the request's origin on ``answer`` if it is one of ``allowed`` web origins."""
    headers = answer.setdefault("headers", {}) or {}
    answer["headers"] = headers
    headers["Vary"] = "Origin"
    origin = request_origin(event)
    if origin and origin.rstrip("/") in allowed:
        headers["Access-Control-Allow-Origin"] = origin
        headers["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
    return answer
