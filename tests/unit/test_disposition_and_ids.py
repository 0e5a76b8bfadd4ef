"""Download file names (RFC 6266/5987) and opaque ids."""

from __future__ import annotations

import pytest

from docuserve import ids
from docuserve.disposition import content_disposition, may_inline


def test_ascii_name_is_quoted_as_an_attachment() -> None:
    assert content_disposition("plan.pdf") == 'attachment; filename="plan.pdf"'


def test_non_ascii_name_gets_an_ascii_fallback_and_an_rfc5987_filename_star() -> None:
    header = content_disposition("Prüfbericht €.pdf")
    assert header.startswith('attachment; filename="Prufbericht _.pdf"; ')
    assert "filename*=UTF-8''Pr%C3%BCfbericht%20%E2%82%AC.pdf" in header


@pytest.mark.parametrize("name", ['a"b.txt', "a\\b.txt", "a;b.txt", "a\r\nX-Evil: 1.txt", "100%.txt"])
def test_header_injection_characters_never_reach_the_quoted_fallback(name: str) -> None:
    header = content_disposition(name)
    fallback = header.split('filename="', 1)[1].split('"', 1)[0]
    assert not set(fallback) & set('"\\;\r\n%')
    assert "\r" not in header
    assert "\n" not in header


def test_inline_only_for_safe_types() -> None:
    assert may_inline("application/pdf")
    assert may_inline("image/PNG; charset=binary")
    assert not may_inline("text/html")
    assert not may_inline("image/svg+xml")


def test_child_ids_carry_their_workspace_and_reject_malformed_input() -> None:
    ws = ids.new_workspace_id()
    child = ids.new_child_id(ws)
    assert ids.workspace_of(child) == ws
    assert ids.workspace_of(ws) is None
    for bad in ("", "../x", ws + ".", "A" * 16 + "." + "b" * 16, ws + "." + "b" * 16 + ".x"):
        assert ids.workspace_of(bad) is None


def test_new_ids_use_the_whole_alphabet_evenly_and_are_valid() -> None:
    from collections import Counter

    from docuserve import ids

    made = [ids.new_workspace_id() for _ in range(4000)]
    assert all(ids.is_valid(i) and len(i) == 16 for i in made)
    assert len(set(made)) == len(made)
    seen = Counter("".join(made))
    assert set(seen) == set(ids._ALPHABET)  # 32 symbols, 5 bits each
    expected = 4000 * 16 / 32
    assert all(abs(n - expected) < expected * 0.15 for n in seen.values()), seen
