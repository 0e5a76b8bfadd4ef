"""Input rules from SPEC "Limits": names, folders, tags, checksums, emails. Pure functions.

Each returns the normalised value or raises ``ValueError`` with a message for the client; the
request models turn that into a 422 naming the field.
"""

from __future__ import annotations

import base64
import binascii
import re
import unicodedata

from docuserve import media_types

NAME_MAX = 255
FOLDER_MAX = 1024
TAGS_MAX = 20
TAG_MAX = 64
DESCRIPTION_MAX = 4000
CONTENT_TYPE_MAX = 255
EMAIL_MAX = 254

_EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9-]{1,63})+$"
)


def _has_control(value: str) -> bool:
    return any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in value)


def name(value: str) -> str:
    """A document name: 1 to 255 characters, no control characters, no ``/``."""
    if not 1 <= len(value) <= NAME_MAX:
        raise ValueError(f"must be 1 to {NAME_MAX} characters")
    if _has_control(value):
        raise ValueError("must not contain control characters")
    if "/" in value:
        raise ValueError("must not contain '/'")
    if not value.strip() or value in (".", ".."):
        raise ValueError("must not be blank, '.' or '..'")
    return value


def workspace_name(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank")
    if len(value) > NAME_MAX:
        raise ValueError(f"must be at most {NAME_MAX} characters")
    if _has_control(value):
        raise ValueError("must not contain control characters")
    return value


def label(value: str) -> str:
    """A link label: trimmed, at most 200 characters, no control, format (bidi) or separator characters."""
    text = value.strip()
    if _has_control(text):
        raise ValueError("must not contain control characters")
    return text


MESSAGE_MAX = 1000


def message(value: str) -> str:
    """A link's message to the partner: the label rules, line by line (line breaks are kept).

    Trimmed; ``\r\n`` becomes ``\n``; no other control, format (bidi) or separator characters.
    """
    text = value.replace("\r\n", "\n").strip()
    if len(text) > MESSAGE_MAX:
        raise ValueError(f"must be at most {MESSAGE_MAX} characters")
    if any(_has_control(line) for line in text.split("\n")):
        raise ValueError("must not contain control characters (line breaks are fine)")
    return text


def folder(value: str) -> str:
    """A folder path normalised to ``/a/b`` (``/`` is the root); ≤ 1,024 characters."""
    if _has_control(value):
        raise ValueError("must not contain control characters")
    parts = [p for p in value.split("/") if p]
    for part in parts:
        if part in (".", "..") or not part.strip():
            raise ValueError("segments must not be blank, '.' or '..'")
    normalised = "/" + "/".join(parts)
    if len(normalised) > FOLDER_MAX:
        raise ValueError(f"must be at most {FOLDER_MAX} characters")
    return normalised


def tags(values: list[str]) -> list[str]:
    """At most 20 distinct tags of 1 to 64 characters, lower-cased, in first-seen order."""
    seen: list[str] = []
    for raw in values:
        tag = raw.strip().lower()
        if not 1 <= len(tag) <= TAG_MAX:
            raise ValueError(f"each tag must be 1 to {TAG_MAX} characters")
        if _has_control(tag) or "#" in tag:
            raise ValueError("tags must not contain control characters or '#'")
        if tag not in seen:
            seen.append(tag)
    if len(seen) > TAGS_MAX:
        raise ValueError(f"at most {TAGS_MAX} tags")
    return seen


def description(value: str) -> str:
    if len(value) > DESCRIPTION_MAX:
        raise ValueError(f"must be at most {DESCRIPTION_MAX} characters")
    if any(unicodedata.category(ch) == "Cc" and ch not in "\n\t" for ch in value):
        raise ValueError("must not contain control characters")
    return value


def sha256(value: str) -> str:
    """Base64 of exactly 32 bytes (the form of S3's ``x-amz-checksum-sha256``)."""
    try:
        raw = base64.b64decode(value.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise ValueError("must be the base64 SHA-256 digest (44 characters)") from None
    if len(raw) != 32:
        raise ValueError("must be the base64 SHA-256 digest (44 characters)")
    return base64.b64encode(raw).decode("ascii")


def content_type(value: str) -> str:
    """A media type by RFC 9110's grammar, returned normalised (what is stored, signed and served)."""
    try:
        normalised = str(media_types.parse(value)) if len(value) <= CONTENT_TYPE_MAX else ""
    except media_types.NotAMediaType:
        normalised = ""
    if not normalised or len(normalised) > CONTENT_TYPE_MAX:
        raise ValueError("must be a media type like 'application/pdf' (RFC 9110)")
    return normalised


def email(value: str) -> str:
    """A lower-cased email address safe to put inside a Cognito ``ListUsers`` filter."""
    value = value.strip().lower()
    if len(value) > EMAIL_MAX or not _EMAIL.match(value) or '"' in value or "\\" in value:
        raise ValueError("must be an email address")
    return value
