"""Media types as RFC 9110 §8.3.1 defines them: ``type "/" subtype *( OWS ";" OWS [ parameter ] )``.

One parser serves both ends of the API: the ``Content-Type`` of a request (is this body JSON?)
and the ``content_type`` a member declares for a document (stored, signed into the upload and
named again on download). A value that does not follow the grammar is refused, never cut at its
first ``;``: ``text/plain;,text/html`` is not ``text/plain`` with an odd tail, it is not a media
type at all. Type, subtype and parameter names are case-insensitive (RFC 9110 §8.3.1) and come
out lower-cased; parameter values keep their case, except ``charset`` (§8.3.2, case-insensitive).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# tchar (RFC 9110 §5.6.2)
_TCHARS = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_TOKEN_RE = re.compile(_TCHARS)
_TYPE = re.compile(rf"({_TCHARS})/({_TCHARS})")
_OWS = re.compile(r"[ \t]*")
# quoted-string (§5.6.4) restricted to visible ASCII, space and tab: no obs-text in a stored header.
_QUOTED = re.compile(r'"((?:[\t !#-\[\]-~]|\\[\t -~])*)"')
_PARAMETER = re.compile(rf"({_TCHARS})=(?:({_TCHARS})|{_QUOTED.pattern})")
_QUOTED_PAIR = re.compile(r"\\(.)")
_CASE_INSENSITIVE_VALUES = frozenset({"charset"})


class NotAMediaType(ValueError):
    """The text does not follow RFC 9110's media-type grammar."""


@dataclass(frozen=True)
class MediaType:
    type: str
    subtype: str
    parameters: tuple[tuple[str, str], ...] = ()

    @property
    def essence(self) -> str:
        """``type/subtype`` without parameters, lower-cased."""
        return f"{self.type}/{self.subtype}"

    def __str__(self) -> str:
        """The normalised form: lower-cased names, ``; `` between parameters, quoting only where needed."""
        parts = [self.essence]
        for name, value in self.parameters:
            if _TOKEN_RE.fullmatch(value):
                parts.append(f"{name}={value}")
            else:
                escaped = value.replace("\\", "\\\\").replace('"', '\\"')
                parts.append(f'{name}="{escaped}"')
        return "; ".join(parts)


def parse(text: str) -> MediaType:
    """Parse ``text`` strictly (surrounding whitespace allowed); raise ``NotAMediaType`` otherwise."""
    value = text.strip(" \t")
    head = _TYPE.match(value)
    if head is None:
        raise NotAMediaType("not type/subtype")
    position = head.end()
    parameters: list[tuple[str, str]] = []
    seen: set[str] = set()
    while position < len(value):
        position = _OWS.match(value, position).end()  # type: ignore[union-attr]
        if position == len(value) or value[position] != ";":
            raise NotAMediaType("parameters must follow ';'")
        position = _OWS.match(value, position + 1).end()  # type: ignore[union-attr]
        if position == len(value) or value[position] == ";":
            continue  # an empty parameter is allowed by the grammar
        found = _PARAMETER.match(value, position)
        if found is None:
            raise NotAMediaType('a parameter must be name=token or name="quoted"')
        name = found.group(1).lower()
        raw = found.group(2) if found.group(2) is not None else _QUOTED_PAIR.sub(r"\1", found.group(3))
        if name in seen:
            raise NotAMediaType(f"parameter {name!r} given twice")
        seen.add(name)
        parameters.append((name, raw.lower() if name in _CASE_INSENSITIVE_VALUES else raw))
        position = found.end()
    return MediaType(head.group(1).lower(), head.group(2).lower(), tuple(parameters))


def essence_or_none(text: str | None) -> str | None:
    """``type/subtype`` of ``text``, or None when it is missing or not a media type."""
    if not text:
        return None
    try:
        return parse(text).essence
    except NotAMediaType:
        return None
