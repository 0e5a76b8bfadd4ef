"""Share-link tokens: 256 random bits, URL-safe; only their SHA-256 is ever stored.

A token is a bearer secret. It leaves the server once (the creation response) and is never
logged, stored or put in an exception message; everything after creation works on its hash.
"""

from __future__ import annotations

import hashlib
import re
import secrets

TOKEN_BYTES = 32  # 256 bits
# token_urlsafe(32) is 43 characters of the URL-safe base64 alphabet, without padding.
_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{43}$")


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def is_well_formed(token: str) -> bool:
    """Whether ``token`` could have been issued; anything else is a 404 without a database call."""
    return bool(_TOKEN_RE.fullmatch(token))


def token_hash(token: str) -> str:
    """The lookup key of a link: hex SHA-256 of the token (a 256-bit secret needs no salt or stretching)."""
    return hashlib.sha256(token.encode("ascii")).hexdigest()
