"""Link passwords: scrypt (memory-hard, OWASP parameters), self-describing, verified in constant time.

Stored format: ``scrypt$N$r$p$salt_b64$hash_b64``. Verification reads the parameters from the
stored value, so raising the cost later keeps old hashes verifiable. Passwords are never stored,
logged or echoed in clear.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass

SCHEME = "scrypt"


@dataclass(frozen=True)
class ScryptParams:
    n: int = 2**17  # OWASP Password Storage Cheat Sheet: N=2^17, r=8, p=1 (128 MiB)
    r: int = 8
    p: int = 1
    salt_bytes: int = 16
    key_bytes: int = 32

    @property
    def maxmem(self) -> int:
        # scrypt needs 128 * r * N bytes (plus a little); OpenSSL's default cap is 32 MiB.
        return 128 * self.r * (self.n + self.p + 2) + 1024 * 1024


PARAMS = ScryptParams()
# Bounds on what a stored hash may ask for, so a corrupt value cannot exhaust the function.
_MAX_N, _MAX_R, _MAX_P = 2**20, 32, 16


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _derive(password: str, salt: bytes, params: ScryptParams) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8"),
        salt=salt,
        n=params.n,
        r=params.r,
        p=params.p,
        maxmem=params.maxmem,
        dklen=params.key_bytes,
    )


def hash_password(password: str, params: ScryptParams | None = None) -> str:
    """A new salted hash of ``password`` in the stored format."""
    params = params or PARAMS
    salt = secrets.token_bytes(params.salt_bytes)
    key = _derive(password, salt, params)
    return f"{SCHEME}${params.n}${params.r}${params.p}${_b64(salt)}${_b64(key)}"


def verify_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches ``stored``; constant-time comparison, False on any malformed value."""
    try:
        scheme, n, r, p, salt_b64, key_b64 = stored.split("$")
        params = ScryptParams(n=int(n), r=int(r), p=int(p))
        salt, expected = _unb64(salt_b64), _unb64(key_b64)
    except ValueError:
        return False
    if (
        scheme != SCHEME
        or not (1 < params.n <= _MAX_N and params.n & (params.n - 1) == 0)
        or not (0 < params.r <= _MAX_R and 0 < params.p <= _MAX_P)
        or not 16 <= len(expected) <= 64
    ):
        return False
    params = ScryptParams(n=params.n, r=params.r, p=params.p, key_bytes=len(expected))
    return hmac.compare_digest(_derive(password, salt, params), expected)
