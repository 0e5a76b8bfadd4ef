"""RFC 9110 media types and the request screening every API function runs before routing."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from docuserve import media_types, screening
from docuserve.disposition import inline_type, may_inline


@pytest.mark.parametrize(
    ("text", "normalised"),
    [
        ("text/plain", "text/plain"),
        ("TEXT/Plain", "text/plain"),
        ("text/plain;charset=UTF-8", "text/plain; charset=utf-8"),
        ("text/plain ; Charset=UTF-8 ;", "text/plain; charset=utf-8"),
        ('application/x; name="a b"', 'application/x; name="a b"'),
        ('application/x; name="\\"q\\""', 'application/x; name="\\"q\\""'),
        ("application/x; name=Token", "application/x; name=Token"),
        ("application/vnd.api+json", "application/vnd.api+json"),
    ],
)
def test_media_types_are_parsed_whole_and_normalised(text: str, normalised: str) -> None:
    assert str(media_types.parse(text)) == normalised


@pytest.mark.parametrize(
    "text",
    [
        "text/plain;,text/html",
        "text/plain,text/html",
        "text/plain; charset",
        "text/plain; charset=",
        'text/plain; a="b',
        "text/plain; a=1; A=2",
        "text/",
        "/plain",
        "text plain",
        "text/plain\x00",
        "text/plain; a=\u00e9",
        "",
    ],
)
def test_what_is_not_a_media_type_is_refused(text: str) -> None:
    with pytest.raises(media_types.NotAMediaType):
        media_types.parse(text)


def test_only_a_parsed_allow_listed_type_is_inline_and_as_that_type() -> None:
    assert inline_type("text/plain; charset=utf-8") == "text/plain"
    assert inline_type("IMAGE/PNG") == "image/png"
    assert inline_type("text/plain;,text/html") is None
    assert not may_inline("text/html")
    assert not may_inline("garbage")


def _event(body: str | bytes | None, content_type: str | None = "application/json") -> dict[str, Any]:
    event: dict[str, Any] = {"headers": {}, "multiValueHeaders": {}, "body": None, "isBase64Encoded": False}
    if content_type is not None:
        event["headers"]["Content-Type"] = content_type
        event["multiValueHeaders"]["Content-Type"] = [content_type]
    if isinstance(body, bytes):
        event["body"], event["isBase64Encoded"] = base64.b64encode(body).decode(), True
    else:
        event["body"] = body
    return event


def _refusal(event: dict[str, Any]) -> tuple[int, str, dict[str, str]]:
    answer = screening.screen(event)
    assert answer is not None
    body = json.loads(answer["body"])
    return answer["statusCode"], body["code"], body.get("fields", {})


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/octet-stream", "application/vnd.api+json", None, ";"]
)
def test_a_body_that_is_not_declared_json_is_415(content_type: str | None) -> None:
    assert _refusal(_event('{"a": 1}', content_type))[:2] == (415, "unsupported_media_type")


@pytest.mark.parametrize("content_type", ["application/json", "APPLICATION/JSON", "application/json; charset=UTF-8"])
def test_json_in_any_case_passes_with_a_normalised_header(content_type: str) -> None:
    event = _event('{"a": 1}', content_type)
    assert screening.screen(event) is None
    assert event["headers"]["Content-Type"] == str(media_types.parse(content_type))
    assert event["multiValueHeaders"]["Content-Type"] == [event["headers"]["Content-Type"]]


def test_without_a_body_the_declared_type_is_dropped() -> None:
    event = _event(None, "text/plain")
    assert screening.screen(event) is None
    assert event["headers"] == {}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ('{"name": "x\\ud800"}', "name"),
        ('{"tags": ["a", "\\udfff"]}', "tags.1"),
        ('{"a": {"b\\ud800": 1}}', "a.b\\ud800"),
        ('["\\ud800"]', "body.0"),
        ('{"a": ' + "[" * 40 + "]" * 40 + "}", "a" + ".0" * 31),
        ("[" * 5000 + "]" * 5000, "body"),
        ("[" * 100_000 + "]" * 100_000, "body"),
        ('{"a": NaN}', "body"),
        ("{", "body"),
        (b"\xff\xfe", "body"),
    ],
)
def test_json_that_is_no_unicode_or_too_deep_is_422_naming_the_field(body: str | bytes, field: str) -> None:
    status, code, fields = _refusal(_event(body))
    assert (status, code) == (422, "validation_error")
    # Too deep for the runtime's parser names the body; parsed, then too deep, names the path (3.13's
    # parser reaches 5,000 levels where 3.11's gives up): either way the field named is under `field`.
    assert any(f == field or f.startswith(field + ".") for f in fields), fields


def test_a_204_leaves_without_body_or_content_type() -> None:
    answer = {"statusCode": 204, "headers": {"Content-Type": "application/json", "X-A": "1"}, "body": "null"}
    assert screening.frame(answer) == {"statusCode": 204, "headers": {"X-A": "1"}, "body": "", "isBase64Encoded": False}
    ok = {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": "null"}
    assert screening.frame(dict(ok)) == ok
