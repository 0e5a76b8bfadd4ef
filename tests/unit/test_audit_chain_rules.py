"""The audit chain's definitions (docuserve.custody.chain): canonical JSON, the link hash, a test vector."""

from __future__ import annotations

import hashlib

import rfc8785

from docuserve.custody import chain

EVENT = {
    "id": "evt-1",
    "at": "2026-12-03T14:00:00Z",
    "action": "folder.created",
    "actor": {"type": "member", "id": "u-1", "email": "zoë@example.com", "ip": None},
    "workspace_id": "ws-1",
    "document_id": None,
    "details": {"path": '/Q4 \u00e9t\u00e9\n\t"quoted" \U0001f4c4 \u2028', "n": 3, "ok": True, "none": None},
}


def test_the_canonical_form_is_rfc_8785_for_event_values() -> None:
    content = chain.event_content(EVENT)
    assert chain.canonical(content) == rfc8785.dumps(content)
    wrapped = {"event": content, "prev_hash": chain.GENESIS, "seq": 1}
    assert chain.canonical(wrapped) == rfc8785.dumps(wrapped)


def test_the_content_drops_absent_values_at_every_level_and_keeps_empty_objects() -> None:
    content = chain.event_content({**EVENT, "details": None, "actor": {"type": "system", "id": "system", "ip": None}})
    assert content == {
        "id": "evt-1",
        "at": "2026-12-03T14:00:00Z",
        "action": "folder.created",
        "actor": {"type": "system", "id": "system"},
        "workspace_id": "ws-1",
        "details": {},
    }


def test_a_link_hash_is_sha256_of_the_canonical_link() -> None:
    content = chain.event_content(EVENT)
    expected = hashlib.sha256(rfc8785.dumps({"event": content, "prev_hash": "0" * 64, "seq": 1})).hexdigest()
    assert chain.link_hash(1, chain.GENESIS, content) == expected
    assert chain.link_hash(2, chain.GENESIS, content) != expected


def test_the_checkpoint_statement_names_what_it_is() -> None:
    statement = chain.checkpoint_statement("ws-1", 8, "ab" * 32, "2026-12-03T14:15:00Z")
    assert statement == (
        b'{"at":"2026-12-03T14:15:00Z","hash":"' + b"ab" * 32
        + b'","seq":8,"statement":"docuserve.audit-checkpoint.v1","workspace_id":"ws-1"}'
    )  # fmt: skip
