"""Trash retention arithmetic: which trash-index sort keys fall before the cutoff."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from docuserve import clock, keys
from docuserve.retention import _LOWEST, cutoff

NOW = datetime(2026, 3, 31, 0, 30, 0, 250_000, tzinfo=UTC)


def _expired(deleted_at: datetime, trash_days: int = 30) -> bool:
    sort_key = keys.trash_index_keys(clock.iso(deleted_at), "doc1")["gsi4sk"]
    return _LOWEST <= sort_key <= cutoff(NOW, trash_days)  # the Query's BETWEEN


def test_cutoff_is_trash_days_before_now_in_the_index_format() -> None:
    assert cutoff(NOW, 30) == "2026-03-01T00:30:00.250Z"
    assert cutoff(NOW, 1) == "2026-03-30T00:30:00.250Z"
    # Calendar days in UTC across a month boundary and a leap day.
    assert cutoff(datetime(2028, 3, 1, tzinfo=UTC), 1) == "2028-02-29T00:00:00.000Z"


def test_strictly_older_than_the_cutoff_expires_and_the_cutoff_instant_does_not() -> None:
    assert _expired(NOW - timedelta(days=31))
    assert _expired(NOW - timedelta(days=30, milliseconds=1))
    assert not _expired(NOW - timedelta(days=30))
    assert not _expired(NOW - timedelta(days=29, hours=23, minutes=59))
    assert not _expired(NOW)


def test_the_limit_is_a_setting() -> None:
    assert _expired(NOW - timedelta(days=8), trash_days=7)
    assert not _expired(NOW - timedelta(days=6), trash_days=7)


def test_trash_index_keys_sort_oldest_first_and_start_above_the_lowest_bound() -> None:
    older = keys.trash_index_keys(clock.iso(NOW - timedelta(days=2)), "zzz")
    newer = keys.trash_index_keys(clock.iso(NOW - timedelta(days=1)), "aaa")
    assert older["gsi4pk"] == newer["gsi4pk"] == keys.TRASH_INDEX_PK
    assert _LOWEST < older["gsi4sk"] < newer["gsi4sk"]
