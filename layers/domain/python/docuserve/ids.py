"""Opaque ids. Clients must treat them as opaque; internally a child id starts with its
workspace id, so one BatchGetItem fetches an object together with the caller's membership.
"""

from __future__ import annotations

import base64
import re
import secrets

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford-ish base32, lower case, no i/l/o/u
# RFC 4648 base32 spelled in our alphabet: 5 random bits per character, as secrets.choice gives,
# in one C call instead of one Python call per character.
_TO_OURS = bytes.maketrans(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", _ALPHABET.encode())
_SEP = "."
ID_PATTERN = r"^[0-9a-z]{16}(\.[0-9a-z]{16})?$"
_ID_RE = re.compile(ID_PATTERN)


def _random(n: int = 16) -> str:
    """``n`` (a multiple of 8) random characters of ``_ALPHABET``: ``5 * n`` bits from the OS CSPRNG."""
    return base64.b32encode(secrets.token_bytes(n * 5 // 8)).translate(_TO_OURS).decode()


def new_workspace_id() -> str:
    return _random()


def new_child_id(workspace_id: str) -> str:
    """An id for a document, upload, share or version that lives in ``workspace_id``."""
    return f"{workspace_id}{_SEP}{_random()}"


def new_event_id() -> str:
    return _random()


def is_valid(value: str) -> bool:
    return bool(_ID_RE.match(value))


def workspace_of(child_id: str) -> str | None:
    """The workspace an id belongs to, or None if the id is malformed."""
    if not _ID_RE.match(child_id) or _SEP not in child_id:
        return None
    return child_id.split(_SEP, 1)[0]
