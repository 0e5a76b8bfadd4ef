"""Trash retention against moto: the sweeper purges what has been in the trash > trash_days."""

from __future__ import annotations

import importlib
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from docuserve import clock, keys, retention
from docuserve.adapters.store import Store
from docuserve.sharing import links
from tests.support.documents import User, create_document, create_workspace, make_user, ok, sha256_b64, upload
from tests.support.gateway import FakeContext, call

NOW = datetime(2026, 6, 30, 12, 0, tzinfo=UTC)


@pytest.fixture
def alice(aws: Any) -> User:
    return make_user(aws, "alice@example.com")


@pytest.fixture
def ws(alice: User) -> str:
    return create_workspace(alice)


@pytest.fixture
def at(monkeypatch: pytest.MonkeyPatch) -> Any:
    """``at(moment)`` moves docuserve's clock; it starts at ``NOW``."""

    def move(moment: datetime) -> None:
        monkeypatch.setattr(clock, "now", lambda: moment)

    move(NOW)
    return move


def _available(aws: Any, alice: User, ws: str, data: bytes = b"one", **fields: Any) -> str:
    created = create_document(alice, ws, data, **fields)
    upload(aws, created["upload"]["upload_id"], data)
    return str(created["document"]["id"])


def _trash(alice: User, doc: str) -> None:
    ok(call("DELETE", f"/documents/{doc}", claims=alice.claims), 204)


def _trashed_days_ago(at: Any, alice: User, doc: str, days: float) -> None:
    at(NOW - timedelta(days=days))
    _trash(alice, doc)
    at(NOW)


def _document_count(ws: str) -> int:
    item = Store().get(keys.workspace(ws))
    assert item is not None
    return int(item.get("document_count", 0))


def _trash_index() -> list[str]:
    page = Store().query(keys.TRASH_INDEX_PK, index="gsi4", limit=200)
    return [str(i["id"]) for i in page.items]


def _versions(aws: Any, ws: str, doc: str) -> list[Any]:
    s3 = boto3.client("s3", region_name=aws.region)
    listed = s3.list_object_versions(Bucket=aws.bucket_name, Prefix=f"documents/{ws}/{doc}/")
    return [*listed.get("Versions", []), *listed.get("DeleteMarkers", [])]


def test_a_document_trashed_31_days_ago_is_purged_and_one_trashed_29_days_ago_stays(
    aws: Any, alice: User, ws: str, at: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = _available(aws, alice, ws, b"one", name="old.pdf", tags=["q3"])
    second = ok(
        call("POST", f"/documents/{old}/versions", claims=alice.claims, body={"size": 3, "sha256": sha256_b64(b"two")}),
        201,
    )
    upload(aws, second["upload_id"], b"two")
    share = ok(call("POST", f"/documents/{old}/shares", claims=alice.claims, body={}), 201)
    recent = _available(aws, alice, ws, b"new", name="recent.pdf")
    _trashed_days_ago(at, alice, old, 31)
    _trashed_days_ago(at, alice, recent, 29)
    assert len(_versions(aws, ws, old)) == 2
    assert _document_count(ws) == 2
    assert sorted(_trash_index()) == sorted([old, recent])

    seen: list[tuple[str, str]] = []
    original = links.document_changed

    def spy(document: Any, store: Any = None, **kwargs: Any) -> int:
        seen.append((document.id, document.status))
        return original(document, store, **kwargs)

    monkeypatch.setattr(links, "document_changed", spy)
    module = importlib.import_module("handlers.trash_sweeper")
    result = module.handler({"source": "aws.events", "detail-type": "Scheduled Event"}, FakeContext())
    # FakeContext leaves 30 s, below the one-minute reserve: a Lambda that short would do nothing.
    assert result == {"purged": 0, "skipped": 0, "failed": 0, "finished": False}

    result = retention.sweep()
    assert result == retention.SweepResult(purged=1, skipped=0, failed=0, finished=True)
    assert seen == [(old, "purging"), (old, "purged")]  # links stop serving before the bytes go
    assert _versions(aws, ws, old) == []
    assert Store().query(f"DOC#{old}", limit=50, consistent=True).items == []
    assert Store().get(keys.document_tag(old, "q3")) is None
    assert _document_count(ws) == 1
    assert _trash_index() == [recent]
    assert call("GET", f"/documents/{old}", claims=alice.claims).status == 404
    assert call("GET", f"/public/shares/{share['token']}").status in (404, 410)
    events = ok(call("GET", f"/workspaces/{ws}/audit", claims=alice.claims))["items"]
    (expired,) = [e for e in events if e["action"] == "document.expired_from_trash"]
    assert "document.purged" not in [e["action"] for e in events]
    assert expired["document_id"] == old
    assert expired["actor"]["type"] == "system"
    assert expired["details"]["reason"] == "trash_retention"
    assert expired["details"]["trash_days"] == 30
    assert expired["details"]["versions"] == 2
    # The recent one is untouched.
    assert len(_versions(aws, ws, recent)) == 1
    assert ok(call("GET", f"/documents/{recent}", claims=alice.claims))["status"] == "deleted"

    # Idempotent: a second run finds nothing more to do.
    assert retention.sweep() == retention.SweepResult(purged=0, skipped=0, failed=0, finished=True)
    assert _document_count(ws) == 1

    # Two days later the recent one has had its 30 days too.
    at(NOW + timedelta(days=2))
    assert retention.sweep().purged == 1
    assert _trash_index() == []
    assert _document_count(ws) == 0


def test_a_restored_document_leaves_the_trash_index_and_is_never_swept(aws: Any, alice: User, ws: str, at: Any) -> None:
    doc = _available(aws, alice, ws)
    _trashed_days_ago(at, alice, doc, 40)
    assert _trash_index() == [doc]
    ok(call("POST", f"/documents/{doc}/restore", claims=alice.claims))
    assert _trash_index() == []
    item = Store().get(keys.document(doc))
    assert item is not None
    assert "gsi4pk" not in item
    assert "gsi4sk" not in item

    at(NOW + timedelta(days=365))
    assert retention.sweep() == retention.SweepResult(purged=0, skipped=0, failed=0, finished=True)
    assert ok(call("GET", f"/documents/{doc}", claims=alice.claims))["status"] == "available"
    assert len(_versions(aws, ws, doc)) == 1

    # Trashed again today: its 30 days start again.
    _trash(alice, doc)
    at(NOW + timedelta(days=365 + 29))
    assert retention.sweep().purged == 0
    at(NOW + timedelta(days=365 + 31))
    assert retention.sweep().purged == 1


def test_a_stale_index_entry_is_re_read_and_skipped(aws: Any, alice: User, ws: str, at: Any) -> None:
    """The index is eventually consistent: an entry whose document is no longer expired is skipped."""
    doc = _available(aws, alice, ws)
    _trashed_days_ago(at, alice, doc, 5)
    # An index entry claiming an old trash date (as a lagging index could show) for a recent one.
    Store().update(
        keys.document(doc),
        "SET gsi4sk = :old",
        expression_values={":old": f"{clock.iso(NOW - timedelta(days=90))}#{doc}"},
    )
    assert retention.sweep() == retention.SweepResult(purged=0, skipped=1, failed=0, finished=True)
    assert ok(call("GET", f"/documents/{doc}", claims=alice.claims))["status"] == "deleted"


def test_a_run_stops_at_its_budget_and_the_next_run_finishes(aws: Any, alice: User, ws: str, at: Any) -> None:
    docs = [str(create_document(alice, ws, b"x", name=f"d{n}.pdf")["document"]["id"]) for n in range(7)]
    for n, doc in enumerate(docs):
        _trashed_days_ago(at, alice, doc, 40 - n)
    assert _document_count(ws) == 7

    first = retention.sweep(max_documents=3)
    assert first == retention.SweepResult(purged=3, skipped=0, failed=0, finished=False)
    assert sorted(_trash_index()) == sorted(docs[3:])  # oldest first

    # A time budget: 4 checks with more than the reserve left, then the Lambda is nearly out of time.
    clock_ms = iter([900_000, 800_000, 700_000, 59_999])
    second = retention.sweep(remaining_ms=lambda: next(clock_ms))
    assert second == retention.SweepResult(purged=3, skipped=0, failed=0, finished=False)
    assert _trash_index() == [docs[6]]

    third = retention.sweep(remaining_ms=lambda: 900_000)
    assert third == retention.SweepResult(purged=1, skipped=0, failed=0, finished=True)
    assert _trash_index() == []
    assert _document_count(ws) == 0


def test_a_document_that_cannot_be_purged_does_not_block_the_others_and_fails_the_invocation(
    aws: Any, alice: User, ws: str, at: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = (str(create_document(alice, ws, b"x", name=f"d{n}.pdf")["document"]["id"]) for n in range(2))
    _trashed_days_ago(at, alice, first, 40)
    _trashed_days_ago(at, alice, second, 35)
    original = retention.purge_trashed

    def broken_for_first(doc: Any, *args: Any, **kwargs: Any) -> None:
        if doc.id == first:
            raise RuntimeError("S3 said no")
        original(doc, *args, **kwargs)

    monkeypatch.setattr(retention, "purge_trashed", broken_for_first)

    class LongContext(FakeContext):
        @staticmethod
        def get_remaining_time_in_millis() -> int:
            return 900_000

    module = importlib.import_module("handlers.trash_sweeper")
    with pytest.raises(module.SweepFailed):
        module.handler({"source": "aws.events"}, LongContext())
    assert _trash_index() == [first]
    monkeypatch.setattr(retention, "purge_trashed", original)
    assert retention.sweep() == retention.SweepResult(purged=1, skipped=0, failed=0, finished=True)
    assert _trash_index() == []
