"""The documents feature's pure rules: names, folders, tags, checksums, part sizes, object keys."""

from __future__ import annotations

import base64
import hashlib

import pytest
from pydantic import ValidationError

from docuserve import ids, keys, processing, validation
from docuserve.limits import GIB, MIB, TIB
from docuserve.models.requests import CompleteUpload, CreateDocument, UpdateDocument
from docuserve.uploads import part_size_for

SHA = base64.b64encode(hashlib.sha256(b"x").digest()).decode()


@pytest.mark.parametrize(("raw", "normalised"), [("/", "/"), ("", "/"), ("a/b", "/a/b"), ("//a///b/", "/a/b")])
def test_folders_normalise_to_slash_separated_paths(raw: str, normalised: str) -> None:
    assert validation.folder(raw) == normalised


@pytest.mark.parametrize("raw", ["/a/../b", "/./a", "/a/ /b", "/a\x00", "/" + "x" * 1024])
def test_bad_folders_are_refused(raw: str) -> None:
    with pytest.raises(ValueError, match=r"."):
        validation.folder(raw)


def test_names_allow_unicode_but_no_slash_or_control_characters() -> None:
    assert validation.name("Prüfbericht · final (2).pdf") == "Prüfbericht · final (2).pdf"
    for bad in ("a/b", "a\x7fb", "a\u200bb", "", "x" * 256, ".."):
        with pytest.raises(ValueError, match=r"."):
            validation.name(bad)


def test_tags_are_lower_cased_deduplicated_and_limited() -> None:
    assert validation.tags(["Q3", "q3", " Launch "]) == ["q3", "launch"]
    with pytest.raises(ValueError, match="at most 20"):
        validation.tags([f"t{n}" for n in range(21)])
    with pytest.raises(ValueError, match="64"):
        validation.tags(["x" * 65])


def test_sha256_must_be_base64_of_exactly_32_bytes() -> None:
    assert validation.sha256(SHA) == SHA
    for bad in ("", "abc", base64.b64encode(b"x" * 31).decode(), hashlib.sha256(b"x").hexdigest(), "é" * 44):
        with pytest.raises(ValueError, match="SHA-256"):
            validation.sha256(bad)


def test_emails_are_lower_cased_and_never_carry_filter_syntax() -> None:
    assert validation.email(" Bob@Example.COM ") == "bob@example.com"
    for bad in ('a"@b.com', "a\\@b.com", "no-at-sign", "a@b"):
        with pytest.raises(ValueError, match="email"):
            validation.email(bad)


def test_request_models_reject_unknown_fields_and_strings_for_sizes() -> None:
    good = {"name": "a.pdf", "content_type": "application/pdf", "size": 1, "sha256": SHA}
    assert CreateDocument.model_validate(good).folder == "/"
    for change in ({"size": "1"}, {"size": -1}, {"extra": True}, {"content_type": "text/html\r\nX: y"}):
        with pytest.raises(ValidationError):
            CreateDocument.model_validate(good | change)
    assert UpdateDocument.model_validate({"folder": "a"}).folder == "/a"
    with pytest.raises(ValidationError):
        CompleteUpload.model_validate({"parts": [{"part_number": 0, "etag": "x", "sha256": SHA}]})
    with pytest.raises(ValidationError):
        CompleteUpload.model_validate({"parts": [{"part_number": 1, "etag": "x"}]})  # no part checksum


def test_part_size_grows_only_when_2000_parts_would_not_suffice() -> None:
    """2,000 parts keep the completion job (every part's ETag and SHA-256) in one SQS message."""
    assert part_size_for(200 * MIB) == 16 * MIB
    assert part_size_for(31 * GIB) == 16 * MIB  # 2,000 parts of 16 MiB hold 31.25 GiB
    assert part_size_for(32 * GIB) == 17 * MIB
    big = part_size_for(5 * TIB)
    assert big % MIB == 0
    assert big * 2_000 >= 5 * TIB
    assert (big - MIB) * 2_000 < 5 * TIB


def test_only_keys_this_server_generates_are_processed() -> None:
    ws = ids.new_workspace_id()
    doc, version = ids.new_child_id(ws), ids.new_child_id(ws)
    landed = processing.parse_key(f"documents/{ws}/{doc}/{version}", "v1")
    assert landed is not None
    assert (landed.document_id, landed.version_id) == (doc, version)
    other = ids.new_workspace_id()
    for bad in (
        f"documents/{other}/{doc}/{version}",
        f"documents/{ws}/{doc}/{version}/x",
        f"uploads/{ws}/{doc}/{version}",
        f"documents/{ws}/../{version}",
    ):
        assert processing.parse_key(bad, None) is None


def test_s3_event_keys_are_url_decoded_with_plus_for_space() -> None:
    body = '{"Records": [{"eventName": "ObjectCreated:Put", "s3": {"object": {"key": "documents/a+b", "size": 1}}}]}'
    assert processing.parse_message(body) == []  # decoded to "documents/a b": not a key we generate
    assert processing.parse_message("not json") == []


def test_documents_list_by_state_so_the_trash_is_its_own_partition() -> None:
    live = keys.document_listing_keys("w", "w.d", name="A", folder="/f", status="available")
    trash = keys.document_listing_keys("w", "w.d", name="A", folder="/f", status="deleted")
    assert live["gsi1pk"] != trash["gsi1pk"]
    assert live["gsi2pk"] != trash["gsi2pk"]
    assert live["gsi1sk"] == "a#w.d"
