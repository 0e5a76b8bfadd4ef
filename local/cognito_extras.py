"""What the local stack adds to moto's Cognito user-pool API so that it behaves as the real one.

- ``RevokeToken`` (sign-out): moto does not implement it; here it revokes the refresh token in
  moto's user pool, so a signed-out session cannot be refreshed, as in AWS.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from moto.cognitoidp.models import CognitoIdpUserPool, cognitoidp_backends

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

TARGET_PREFIX = "AWSCognitoIdentityProviderService."
JSON_TYPE = "application/x-amz-json-1.1"


def _pools() -> Iterator[CognitoIdpUserPool]:
    for regions in cognitoidp_backends.values():
        for backend in regions.values():
            yield from backend.user_pools.values()


def revoke_refresh_token(token: str) -> bool:
    """Revoke ``token`` in whichever pool issued it; False when no pool knows it."""
    for pool in _pools():
        if pool.refresh_tokens.get(token) is not None:
            pool.refresh_tokens[token] = None  # moto's own mark for a signed-out token
            return True
    return False


def _read_json(environ: dict[str, Any]) -> dict[str, Any]:
    """The request's JSON body; the stream is replaced so that moto can read it again."""
    length = int(environ.get("CONTENT_LENGTH") or 0)
    raw = environ["wsgi.input"].read(length) if length else b""
    environ["wsgi.input"] = io.BytesIO(raw)
    try:
        body = json.loads(raw or b"{}")
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _answer(start_response: StartResponse, payload: dict[str, Any]) -> list[bytes]:
    body = json.dumps(payload).encode()
    start_response("200 OK", [("Content-Type", JSON_TYPE), ("Content-Length", str(len(body)))])
    return [body]


def cognito_extras(app: WSGIApp) -> WSGIApp:
    """Wrap moto's WSGI app with the Cognito operations above."""

    def wrapped(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if target == TARGET_PREFIX + "RevokeToken":
            token = str(_read_json(environ).get("Token") or "")
            revoke_refresh_token(token)  # Cognito answers 200 for a token it does not know as well
            return _answer(start_response, {})
        return app(environ, start_response)

    return wrapped
