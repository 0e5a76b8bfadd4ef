"""The HTTP edge every API function shares, before and after routing (SPEC promise 10).

Before: a request body must be JSON that the rest of the code can take without surprises.

- A body that is not declared ``application/json`` is 415 ``unsupported_media_type``. Media type
  names are case-insensitive (RFC 9110 §8.3.1), so ``APPLICATION/JSON`` is JSON; parameters such
  as ``charset`` are allowed, but the bytes must be UTF-8 whatever they say (RFC 8259 §8.1).
  ``application/vnd.api+json`` and every other type are 415: this API speaks plain JSON only.
- The body must be UTF-8 JSON by RFC 8259: not ``NaN``/``Infinity``, nested at most
  ``MAX_DEPTH`` deep (a deeper document is refused before Python's recursion limit is reached),
  and with no lone UTF-16 surrogate in any string or key (``"x\\ud800"`` is valid JSON text but
  no Unicode string: it cannot be stored, hashed or sent on). Each is 422 naming the field.
- The body must be a JSON object (or ``null``, meaning none): an array, string or number is 422
  naming ``body``.

After: a 204 carries no body at all (RFC 9110 §15.3.5), whatever the resolver serialised.

No Powertools or Pydantic import here: the lean public function runs this too.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

from docuserve import media_types
from docuserve.lean_api import error

JSON_TYPE = "application/json"
MAX_DEPTH = 32  # the deepest request model nests 3 levels; 32 leaves room and stays far from 1,000
NO_BODY_STATUSES = frozenset({204, 304})


def _header(event: dict[str, Any], wanted: str) -> str | None:
    for name, value in (event.get("headers") or {}).items():
        if str(name).lower() == wanted:
            return None if value is None else str(value)
    for name, values in (event.get("multiValueHeaders") or {}).items():
        if str(name).lower() == wanted and values:
            return str(values[0])
    return None


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


_SURROGATE = re.compile("[\ud800-\udfff]")


def _has_lone_surrogate(text: str) -> bool:
    return _SURROGATE.search(text) is not None  # C speed: bodies may be up to 10 MB


def _field(path: list[str]) -> str:
    return ".".join(path) or "body"


def _printable_key(key: str) -> str:
    # A key holding a lone surrogate is named with JSON escapes: the answer must stay encodable.
    return json.dumps(key)[1:-1] if _has_lone_surrogate(key) else key


def first_problem(document: Any) -> tuple[str, str] | None:
    """``(field, message)`` for the first string that is no Unicode or the first level past ``MAX_DEPTH``."""
    # Fields are the keys of a body that is an object; inside any other body, positions are "body.…".
    stack: list[tuple[Any, list[str], int]] = [(document, [] if isinstance(document, dict) else ["body"], 1)]
    while stack:
        value, path, depth = stack.pop()
        if isinstance(value, dict | list):
            if depth > MAX_DEPTH:
                return _field(path), f"nested deeper than {MAX_DEPTH} levels"
            entries = value.items() if isinstance(value, dict) else ((str(n), v) for n, v in enumerate(value))
            for key, inner in entries:
                inner_path = [*path, _printable_key(key)]
                if _has_lone_surrogate(key):
                    return _field(inner_path), "a key holds a lone UTF-16 surrogate (not Unicode text)"
                stack.append((inner, inner_path, depth + 1))
        elif isinstance(value, str) and _has_lone_surrogate(value):
            return _field(path), "holds a lone UTF-16 surrogate (not Unicode text)"
    return None


def _invalid(field: str, message: str) -> dict[str, Any]:
    return error(422, "validation_error", f"invalid request: {field}", {field: message})


def _set_content_type(event: dict[str, Any], value: str | None) -> None:
    """Replace (or, with None, drop) the request's Content-Type in both header maps."""
    for bag in ("headers", "multiValueHeaders"):
        headers = event.get(bag)
        if not isinstance(headers, dict):
            continue
        for name in [n for n in headers if str(n).lower() == "content-type"]:
            del headers[name]
        if value is not None:
            headers["Content-Type"] = value if bag == "headers" else [value]


def screen(event: dict[str, Any]) -> dict[str, Any] | None:
    """The refusal for a request whose body no route should see, or None to route it.

    A request that passes leaves with its Content-Type normalised (``application/json`` and its
    parameters, lower-cased), or without one when it has no body: the resolver behind this
    compares the header literally.
    """
    raw = event.get("body")
    declared = _header(event, "content-type")
    try:
        media_type = media_types.parse(declared) if declared else None
    except media_types.NotAMediaType:
        media_type = None
    if raw is None or raw == "":
        _set_content_type(event, None)  # no body: its declared type is moot
        return None
    if media_type is None or media_type.essence != JSON_TYPE:
        return error(
            415,
            "unsupported_media_type",
            "the body must be JSON sent as Content-Type: application/json",
        )
    _set_content_type(event, str(media_type))
    try:
        text = base64.b64decode(raw, validate=True).decode("utf-8") if event.get("isBase64Encoded") else str(raw)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return _invalid("body", "not UTF-8 JSON")
    if _has_lone_surrogate(text):  # only a broken proxy could pass such text; refuse it like an escape
        return _invalid("body", "not UTF-8 JSON")
    try:
        document = json.loads(text, parse_constant=_refuse_constant)
    except RecursionError:
        return _invalid("body", f"nested deeper than {MAX_DEPTH} levels")
    except ValueError:
        return _invalid("body", "JSON decode error")
    problem = first_problem(document)
    if problem:
        return _invalid(*problem)
    # Every body this API takes is an object. Anything else is refused here: Powertools would
    # validate a list's first element as the model and act on it (``[{"path": "/a"}]`` created
    # a folder). ``null`` stays what it was: no body, for the routes whose body is optional.
    if document is not None and not isinstance(document, dict):
        return _invalid("body", "must be a JSON object")
    return None


def frame(answer: dict[str, Any]) -> dict[str, Any]:
    """The proxy answer with no body (and no Content-Type) where HTTP allows none."""
    if isinstance(answer, dict) and answer.get("statusCode") in NO_BODY_STATUSES:
        answer["body"] = ""
        answer["isBase64Encoded"] = False
        for bag in ("headers", "multiValueHeaders"):
            headers = answer.get(bag)
            if isinstance(headers, dict):
                for name in [n for n in headers if str(n).lower() in ("content-type", "content-length")]:
                    del headers[name]
    return answer
