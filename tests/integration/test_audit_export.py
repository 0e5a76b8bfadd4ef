"""The audit export (GET /workspaces/{id}/audit/export) and the offline verifier against each kind of tampering.

Every test starts from a real export produced through the route on moto: eight chained events of
one workspace, a signed checkpoint at seq 6 (events 7 and 8 came after it).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from docuserve import audit_chain, audit_checkpoints
from docuserve.custody import chain, signing
from docuserve.custody.chain import verify_export
from docuserve.settings import get_settings
from tests.support.gateway import call
from tests.support.links import OWNER, claims, seed
from tests.support.streams import audit_stream

pytestmark = pytest.mark.usefixtures("aws")


def _folders(ws: str, names: list[str]) -> None:
    for name in names:
        assert call("POST", f"/workspaces/{ws}/folders", claims=claims(OWNER), body={"path": f"/{name}"}).status == 201


def _export(ws: str, from_seq: int | None = None) -> list[str]:
    query = {"from_seq": str(from_seq)} if from_seq else None
    reply = call("GET", f"/workspaces/{ws}/audit/export", claims=claims(OWNER), query=query)
    assert reply.status == 200, reply.text
    assert reply.headers["content-type"] == "application/x-ndjson"
    return reply.text.splitlines()


@pytest.fixture
def exported() -> tuple[str, list[str]]:
    ws = seed().workspace_id
    reader = audit_stream(get_settings().table_name)
    _folders(ws, ["a", "b", "c", "d", "e", "f"])
    reader.drain()
    run = audit_checkpoints.sign_changed_heads(remaining_ms=lambda: 900_000)
    assert run.signed >= 1
    _folders(ws, ["g", "h"])
    reader.drain()
    return ws, _export(ws)


def _parsed(lines: list[str]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in lines]


def _dumped(parsed: list[dict[str, Any]]) -> list[str]:
    return [json.dumps(p) for p in parsed]


def _keys() -> list[dict[str, Any]]:
    return signing.public_keys()


def _rechain(parsed: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What a forger who knows the hash rule does: renumber and re-hash every event line."""
    prev, seq = chain.GENESIS, 0
    for line in parsed:
        if line["type"] == "event":
            seq += 1
            line["seq"], line["prev_hash"] = seq, prev
            line["hash"] = prev = chain.link_hash(seq, prev, chain.event_content(line["event"]))
    return parsed


def test_the_export_is_every_chained_event_in_seq_order_then_the_checkpoints(exported: tuple[str, list[str]]) -> None:
    ws, lines = exported
    parsed = _parsed(lines)
    assert [p["type"] for p in parsed] == ["event"] * 8 + ["checkpoint"]
    assert [p["seq"] for p in parsed[:8]] == list(range(1, 9))
    assert parsed[0]["prev_hash"] == chain.GENESIS
    assert all(p["event"]["workspace_id"] == ws for p in parsed[:8])
    assert parsed[8]["seq"] == 6
    assert parsed[8]["hash"] == parsed[5]["hash"]
    report = verify_export(lines, _keys())
    assert report.ok, report.problems
    assert (report.events, report.last_seq, report.checkpoints) == (8, 8, 1)


def test_an_edited_event_is_detected(exported: tuple[str, list[str]]) -> None:
    parsed = _parsed(exported[1])
    parsed[2]["event"]["details"]["path"] = "/innocent"
    report = verify_export(_dumped(parsed), _keys())
    assert not report.ok
    assert any("seq 3" in p and "edited" in p for p in report.problems)


def test_a_removed_event_is_detected(exported: tuple[str, list[str]]) -> None:
    parsed = _parsed(exported[1])
    del parsed[3]
    report = verify_export(_dumped(parsed), _keys())
    assert any("removed" in p for p in report.problems)


def test_reordered_events_are_detected(exported: tuple[str, list[str]]) -> None:
    parsed = _parsed(exported[1])
    parsed[2], parsed[3] = parsed[3], parsed[2]
    assert not verify_export(_dumped(parsed), _keys()).ok


def test_an_inserted_event_is_detected(exported: tuple[str, list[str]]) -> None:
    parsed = _parsed(exported[1])
    forged = json.loads(json.dumps(parsed[1]))
    forged["event"]["id"] = "forged"
    forged["hash"] = chain.link_hash(forged["seq"], forged["prev_hash"], chain.event_content(forged["event"]))
    parsed.insert(2, forged)
    report = verify_export(_dumped(parsed), _keys())
    assert any("reordered or inserted" in p for p in report.problems)


def test_a_rechained_edit_is_detected_by_the_signed_checkpoint(exported: tuple[str, list[str]]) -> None:
    parsed = _parsed(exported[1])
    del parsed[1]  # removed, and every later link re-numbered and re-hashed: the chain alone is valid
    report = verify_export(_dumped(_rechain(parsed)), _keys())
    assert not report.ok
    assert any("checkpoint" in p for p in report.problems)


def test_truncation_before_the_newest_checkpoint_is_detected(exported: tuple[str, list[str]]) -> None:
    parsed = _parsed(exported[1])
    kept = [p for p in parsed if p["type"] == "checkpoint" or p["seq"] <= 4]
    report = verify_export(_dumped(kept), _keys())
    assert any("truncated" in p for p in report.problems)


def test_truncation_after_the_newest_checkpoint_is_not_detectable(exported: tuple[str, list[str]]) -> None:
    """The documented limit: events 7 and 8 came after the checkpoint at 6; cutting them leaves a
    valid shorter chain until the next checkpoint signs them."""
    parsed = _parsed(exported[1])
    kept = [p for p in parsed if p["type"] == "checkpoint" or p["seq"] <= 6]
    assert verify_export(_dumped(kept), _keys()).ok


def test_an_edited_checkpoint_or_an_unknown_key_is_detected(exported: tuple[str, list[str]]) -> None:
    parsed = _parsed(exported[1])
    statement = json.loads(parsed[-1]["statement"])
    statement["seq"] = 2
    parsed[-1]["statement"] = chain.canonical(statement).decode()
    assert any("signature" in p for p in verify_export(_dumped(parsed), _keys()).problems)
    parsed = _parsed(exported[1])
    parsed[-1]["key_id"] = "someone-else"
    assert any("unknown key" in p for p in verify_export(_dumped(parsed), _keys()).problems)


def test_a_long_export_comes_in_pages_that_verify_together(
    exported: tuple[str, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    ws, whole = exported
    monkeypatch.setattr(audit_chain, "EXPORT_EVENTS", 3)
    pages, from_seq = [], 1
    while True:
        page = _export(ws, from_seq)
        tail = json.loads(page[-1])
        if tail["type"] != "continuation":
            pages.extend(page)
            break
        pages.extend(page[:-1])
        from_seq = tail["from_seq"]
    assert from_seq == 7
    assert sorted(pages) == sorted(whole)
    assert verify_export(pages, _keys()).ok
    assert not verify_export(_export(ws, 1), _keys()).ok  # a page alone says it continues


def test_a_second_run_signs_only_heads_that_moved(exported: tuple[str, list[str]]) -> None:
    ws, _ = exported
    first = audit_checkpoints.sign_changed_heads(remaining_ms=lambda: 900_000)
    assert first.signed >= 1  # events 7 and 8
    assert audit_checkpoints.sign_changed_heads(remaining_ms=lambda: 900_000).signed == 0
    assert [json.loads(x)["seq"] for x in _export(ws) if '"checkpoint"' in x] == [6, 8]


def test_the_scheduled_function_signs_what_moved(exported: tuple[str, list[str]]) -> None:
    from handlers import audit_checkpoints as function
    from tests.support.gateway import FakeContext

    ws, _ = exported
    assert function.handler({"source": "aws.events"}, FakeContext()) == {"signed": 1, "skipped": 0}
    assert function.handler({"source": "aws.events"}, FakeContext()) == {"signed": 0, "skipped": 0}
    assert verify_export(_export(ws), _keys()).newest_checkpoint_seq == 8
