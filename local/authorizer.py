"""What API Gateway's Cognito user-pool authorizer does, against the user pool moto serves.

A request reaches a protected route only with a Cognito **ID token** of this pool and app client:
RS256 signature by a key of the pool's JWKS, ``iss`` the pool, ``aud`` the app client, ``token_use``
``id``, not expired. The verified claims reach the function as strings, as the REST authorizer
passes them. Everything else is 401 before any function runs.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from datetime import UTC, datetime
from typing import Any

import jwt

ALGORITHM = "RS256"
REQUIRED_CLAIMS = ("sub", "iss", "aud", "exp", "iat", "token_use")
_REFETCH_AFTER_S = 30.0


class Rejected(Exception):
    """The token would not pass the Cognito authorizer (the caller gets 401)."""


def issuer(region: str, user_pool_id: str) -> str:
    return f"https://cognito-idp.{region}.amazonaws.com/{user_pool_id}"


def _stringify(name: str, value: Any) -> str:
    # The REST authorizer hands every claim over as a string: lists are flattened, booleans are
    # "true"/"false" and the token times read like "Wed Nov 25 21:36:43 UTC 2026".
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if name in ("exp", "iat") and isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC).strftime("%a %b %d %H:%M:%S UTC %Y")
    return str(value)


def gateway_claims(payload: dict[str, Any]) -> dict[str, str]:
    """Verified token claims in the shape ``requestContext.authorizer.claims`` carries them."""
    return {name: _stringify(name, value) for name, value in payload.items()}


class CognitoAuthorizer:
    """Verifies ``Authorization`` headers against one user pool and app client."""

    def __init__(self, *, jwks_url: str, region: str, user_pool_id: str, app_client_id: str) -> None:
        self.jwks_url = jwks_url
        self.issuer = issuer(region, user_pool_id)
        self.audience = app_client_id
        self._keys: dict[str, Any] = {}
        self._fetched_at = 0.0
        self._lock = threading.Lock()

    def load_keys(self) -> None:
        """Fetch the pool's JWKS (done at start; again when a token names an unknown key)."""
        with urllib.request.urlopen(self.jwks_url, timeout=5) as response:  # noqa: S310 (our own moto URL)
            document = json.load(response)
        keys = {}
        for entry in document.get("keys", []):
            if entry.get("kty") == "RSA" and entry.get("kid"):
                keys[entry["kid"]] = jwt.PyJWK.from_dict(entry, algorithm=ALGORITHM).key
        with self._lock:
            self._keys, self._fetched_at = keys, time.monotonic()

    def _key_for(self, kid: str) -> Any:
        with self._lock:
            key = self._keys.get(kid)
            stale = time.monotonic() - self._fetched_at > _REFETCH_AFTER_S
        if key is None and stale:
            self.load_keys()
            with self._lock:
                key = self._keys.get(kid)
        if key is None:
            raise Rejected("token signed by a key that is not in the pool's JWKS")
        return key

    def verify(self, authorization: str | None) -> dict[str, str]:
        """The claims of a valid ID token in ``authorization`` (``Bearer <jwt>`` or the bare jwt)."""
        if not authorization or not authorization.strip():
            raise Rejected("no token")
        token = authorization.strip()
        if token[:7].lower() == "bearer ":
            token = token[7:].strip()
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise Rejected("malformed token") from exc
        if header.get("alg") != ALGORITHM or not isinstance(header.get("kid"), str):
            raise Rejected("token is not RS256 with a key id")
        key = self._key_for(header["kid"])
        try:
            payload = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                audience=self.audience,
                issuer=self.issuer,
                options={"require": list(REQUIRED_CLAIMS)},
                leeway=0,
            )
        except jwt.PyJWTError as exc:
            raise Rejected(str(exc)) from exc
        if payload.get("token_use") != "id":
            raise Rejected("not an ID token")
        return gateway_claims(payload)
