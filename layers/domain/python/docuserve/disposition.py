"""Content-Disposition for downloads (RFC 6266 with an RFC 5987 ``filename*`` for non-ASCII names)."""

from __future__ import annotations

import unicodedata
from urllib.parse import quote

from docuserve import media_types

# Types a browser may render inline without executing anything: no HTML, SVG or XML.
INLINE_SAFE_TYPES = frozenset(
    {
        "application/pdf",
        "image/png",
        "image/jpeg",
        "image/gif",
        "image/webp",
        "text/plain",
        "audio/mpeg",
        "video/mp4",
    }
)


def _ascii_fallback(name: str) -> str:
    decomposed = unicodedata.normalize("NFKD", name)
    chars = []
    for ch in decomposed:
        if unicodedata.combining(ch):
            continue
        if 0x20 <= ord(ch) < 0x7F and ch not in '"\\%;':
            chars.append(ch)
        else:
            chars.append("_")
    fallback = "".join(chars).strip() or "download"
    return fallback


def content_disposition(filename: str, *, inline: bool = False) -> str:
    """``attachment; filename="ascii"; filename*=UTF-8''pct-encoded`` (or ``inline``)."""
    kind = "inline" if inline else "attachment"
    fallback = _ascii_fallback(filename)
    encoded = quote(filename, safe="!#$&+-.^_`|~")
    if fallback == filename:
        return f'{kind}; filename="{fallback}"'
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"


def inline_type(content_type: str) -> str | None:
    """The allow-listed type a stored content type may be served inline as, or None (attachment only).

    The whole value is parsed (RFC 9110): a value that is not a media type is never inline, and
    the answer is the bare allow-listed type, so no stored parameter reaches the browser inline.
    """
    essence = media_types.essence_or_none(content_type)
    return essence if essence in INLINE_SAFE_TYPES else None


def may_inline(content_type: str) -> bool:
    return inline_type(content_type) is not None
