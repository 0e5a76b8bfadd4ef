"""Pure rules of bundles: which entries serve, the archive's fingerprint and its file names."""

from __future__ import annotations

from typing import Any

from docuserve.sharing.archive import archive_names
from docuserve.sharing.bundles import fingerprint, serving
from docuserve.sharing.state import LinkState, state_of


def _entry(name: str, **extra: Any) -> dict[str, Any]:
    return {"document_name": name, "document_status": "available", "object_key": f"documents/{name}", **extra}


def _bundle(**entries: dict[str, Any]) -> dict[str, Any]:
    return {"kind": "bundle", "entries": entries, "document_ids": list(entries), "expires_epoch": 2**40}


def test_a_bundle_is_active_while_any_entry_serves_and_unavailable_when_none_does() -> None:
    item = _bundle(a=_entry("a.pdf", suspended_at="now"), b=_entry("b.pdf"))
    assert state_of(item, 0) is LinkState.ACTIVE
    item["entries"]["b"]["held_by"] = "trash"
    assert state_of(item, 0) is LinkState.UNAVAILABLE


def test_a_bundle_being_made_serves_nothing() -> None:
    assert state_of({**_bundle(a=_entry("a.pdf")), "activating": True}, 0) is LinkState.UNAVAILABLE


def test_the_fingerprint_follows_the_serving_entries_only() -> None:
    item = _bundle(a=_entry("a.pdf", s3_version_id="1"), b=_entry("b.pdf"))
    before = fingerprint(item)
    assert fingerprint(item) == before
    item["entries"]["a"]["s3_version_id"] = "2"
    assert fingerprint(item) != before
    item["entries"]["b"]["document_status"] = "deleted"
    assert [doc for doc, _ in serving(item)] == ["a"]


def test_repeated_names_get_a_number_before_their_suffix() -> None:
    entries = [(str(i), {"document_name": n}) for i, n in enumerate(["r.pdf", "R.pdf", "r.pdf", ".env", "notes"])]
    assert archive_names(entries) == ["r.pdf", "R (2).pdf", "r (3).pdf", ".env", "notes"]
