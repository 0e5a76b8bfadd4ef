"""The audit-stream function: link events from the table stream become audit items exactly once."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from docuserve import audit
from docuserve.adapters.store import Store
from docuserve.settings import get_settings
from tests.support.gateway import call
from tests.support.links import OWNER, claims, fast_passwords, seed  # noqa: F401  (fixture)
from tests.support.streams import audit_stream

pytestmark = pytest.mark.usefixtures("aws", "fast_passwords")


def _partner_activity() -> tuple[dict[str, Any], Any]:
    s = seed()
    link = call("POST", f"/documents/{s.document_id}/shares", claims=claims(OWNER), body={"password": "the secret"})
    token = link.json()["token"]
    call("POST", f"/public/shares/{token}/download", body={"password": "not the secret"})
    call("POST", f"/public/shares/{token}/download", body={"password": "the secret"})
    call("POST", f"/public/shares/{token}/download", body={"password": "the secret"})
    return link.json(), s


def _actions(share_id: str) -> Counter[str]:
    page = audit.share_events(share_id, limit=200, cursor=None)
    return Counter(item["action"] for item in page.items)


def test_redelivered_stream_records_never_duplicate_an_event() -> None:
    link, _ = _partner_activity()
    table = get_settings().table_name
    audit_stream(table).drain()
    first = _actions(link["id"])
    audit_stream(table).drain()  # a second reader from the stream's start: every record again
    assert _actions(link["id"]) == first
    assert first == Counter({"share.created": 1, "share.password_failed": 1, "share.downloaded": 2})


def test_a_failed_write_is_reported_and_retried_from_that_record(monkeypatch: pytest.MonkeyPatch) -> None:
    link, _ = _partner_activity()
    reader = audit_stream(get_settings().table_name)
    original = Store.put
    failures: list[str] = []

    def flaky(self: Store, item: dict[str, Any], **kwargs: Any) -> None:
        if item.get("action") == "share.downloaded" and not failures:
            failures.append(item["id"])
            raise RuntimeError("throttled")
        original(self, item, **kwargs)

    monkeypatch.setattr(Store, "put", flaky)
    reader.drain()
    assert failures  # the first download event failed once ...
    assert _actions(link["id"])["share.downloaded"] == 2  # ... and was written on the retry


def test_partner_downloads_are_still_audited_after_a_cancelled_transaction() -> None:
    """moto replaces the table and its stream shard after a cancelled transaction; the reader must
    follow the new shard (in AWS the stream simply goes on)."""
    s = seed()
    reader = audit_stream(get_settings().table_name)
    link = call("POST", f"/documents/{s.document_id}/shares", claims=claims(OWNER), body={}).json()
    reader.drain()
    refused = call("DELETE", f"/workspaces/{s.workspace_id}", claims=claims(OWNER))  # holds a document
    assert refused.status == 409
    assert call("POST", f"/public/shares/{link['token']}/download", body={}).status == 200
    reader.drain()
    assert _actions(link["id"]) == Counter({"share.created": 1, "share.downloaded": 1})
