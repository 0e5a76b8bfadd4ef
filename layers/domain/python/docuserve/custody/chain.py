"""The audit hash chain: its exact definition, and the offline verifier of an export.

Pure: no AWS call. The stream side (``docuserve.audit_chain``) computes the same hashes when it
appends, the export route emits them, and anyone recomputes them offline (``docs/audit-chain.md``).

**Canonical JSON** (``canonical``): ``json.dumps(value, sort_keys=True, separators=(",", ":"),
ensure_ascii=False)`` encoded as UTF-8. For the values an event holds (objects with ASCII keys,
strings, integers, booleans, null; never floats) this is byte-for-byte RFC 8785 (JCS); the
project does not depend on the ``rfc8785`` library for it, and an event never carries a float.

**An event's content** (``event_content``): the allow-list ``{id, at, action, actor, workspace_id,
document_id, share_id, request_id, details}`` of the audit item, absent/None values dropped at
every level (``actor`` and ``details`` included), ``details`` an object (empty if none).

**A link's hash**: ``hash = hex(SHA-256(canonical({"event": content, "prev_hash": prev_hash,
"seq": seq})))``, lower-case hex; ``seq`` counts from 1 per workspace; the first link's
``prev_hash`` is ``GENESIS`` (64 zeros) and every other link's is the previous link's ``hash``.

**A checkpoint** signs ``canonical({"at", "hash", "seq", "statement": CHECKPOINT_STATEMENT,
"workspace_id"})`` (RAW ECDSA P-256 / SHA-256, the key of ``GET /public/keys``); the
``statement`` field keeps a checkpoint from ever passing for a delivery manifest signed by the
same key.

What the verifier can prove: an edited event (its hash no longer matches), a removed, reordered
or inserted event (``seq`` is not 1, 2, 3, … or a ``prev_hash`` does not name the link before it),
and an edited hash chain re-computed by the editor (a signed checkpoint's hash no longer matches
the link of its ``seq``). Removing the newest events (truncation) leaves a valid shorter chain:
it is detected only when the export still holds a signed checkpoint whose ``seq`` is beyond the
last event (or one whose hash no longer matches), i.e. when the removed events were older than
the newest checkpoint. Events appended after the newest checkpoint are protected by the chain
alone until the next checkpoint signs them.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

GENESIS = "0" * 64
CHECKPOINT_STATEMENT = "docuserve.audit-checkpoint.v1"
EVENT_FIELDS = ("id", "at", "action", "actor", "workspace_id", "document_id", "share_id", "request_id", "details")


def canonical(value: Any) -> bytes:
    """Canonical JSON (RFC 8785 for float-free values): sorted keys, no spaces, UTF-8."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _drop_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_none(v) for v in value]
    return value


def event_content(item: dict[str, Any]) -> dict[str, Any]:
    """What a link hashes of an audit item (or of an export line's ``event``)."""
    content = _drop_none({name: item.get(name) for name in EVENT_FIELDS})
    content["details"] = content.get("details") or {}
    content["actor"] = content.get("actor") or {}
    return dict(content)


def link_hash(seq: int, prev_hash: str, content: dict[str, Any]) -> str:
    """The hash of the link ``seq`` whose predecessor's hash is ``prev_hash``."""
    return hashlib.sha256(canonical({"event": content, "prev_hash": prev_hash, "seq": seq})).hexdigest()


def checkpoint_statement(workspace_id: str, seq: int, hash_: str, at: str) -> bytes:
    """The bytes a checkpoint signs."""
    return canonical(
        {"at": at, "hash": hash_, "seq": seq, "statement": CHECKPOINT_STATEMENT, "workspace_id": workspace_id}
    )


@dataclass
class Report:
    """What ``verify_export`` found: ``ok`` only with no problem at all."""

    events: int = 0
    first_seq: int | None = None
    last_seq: int | None = None
    last_hash: str | None = None
    checkpoints: int = 0
    newest_checkpoint_seq: int | None = None
    workspace_id: str | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and self.events > 0


def _lines(lines: Iterable[str], report: Report) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    events: list[dict[str, Any]] = []
    checkpoints: list[dict[str, Any]] = []
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            line = json.loads(raw)
        except ValueError:
            report.problems.append(f"line {number}: not JSON")
            continue
        kind = line.get("type") if isinstance(line, dict) else None
        if kind == "event":
            events.append(line)
        elif kind == "checkpoint":
            checkpoints.append(line)
        elif kind == "continuation":
            report.problems.append(
                f"line {number}: the export continues (from_seq {line.get('from_seq')}); fetch it all"
            )
        else:
            report.problems.append(f"line {number}: unknown line type {kind!r}")
    return events, checkpoints


def _verify_chain(events: list[dict[str, Any]], report: Report, from_seq: int) -> dict[int, str]:
    hashes: dict[int, str] = {}
    expected_seq, expected_prev = from_seq, GENESIS
    if from_seq > 1 and events:  # the caller accepts a chain whose older links expired: anchor on the first
        expected_prev = str(events[0].get("prev_hash"))
    for line in events:
        seq, prev, claimed = line.get("seq"), line.get("prev_hash"), line.get("hash")
        carried = line.get("event")
        event: dict[str, Any] = carried if isinstance(carried, dict) else {}
        if not isinstance(seq, int) or isinstance(seq, bool):
            report.problems.append("an event line without an integer seq")
            continue
        if seq != expected_seq:
            kind = "removed" if seq > expected_seq else "reordered or inserted"
            report.problems.append(f"seq {seq} where {expected_seq} was expected: an event was {kind}")
        if prev != expected_prev:
            report.problems.append(f"seq {seq}: prev_hash does not name the link before it (removed or reordered)")
        workspace = event.get("workspace_id")
        if report.workspace_id is None:
            report.workspace_id = workspace
        elif workspace != report.workspace_id:
            report.problems.append(f"seq {seq}: an event of another workspace ({workspace})")
        recomputed = link_hash(seq, str(prev), event_content(event))
        if recomputed != claimed:
            report.problems.append(f"seq {seq}: the event or its hash was edited (the hash does not match)")
        hashes[seq] = str(claimed)
        expected_seq, expected_prev = seq + 1, str(claimed)
        report.events += 1
        report.first_seq = seq if report.first_seq is None else report.first_seq
        report.last_seq, report.last_hash = seq, str(claimed)
    return hashes


def _verify_checkpoint(line: dict[str, Any], keys: dict[str, str], hashes: dict[int, str], report: Report) -> None:
    from docuserve.custody.signing import verify

    seq = line.get("seq")
    pem = keys.get(str(line.get("key_id")))
    if pem is None:
        report.problems.append(f"checkpoint at seq {seq}: signed by an unknown key {line.get('key_id')!r}")
        return
    try:
        message = str(line["statement"]).encode("utf-8")
        signature = base64.b64decode(str(line["signature"]), validate=True)
        stated = json.loads(message)
    except (KeyError, ValueError, binascii.Error):
        report.problems.append(f"checkpoint at seq {seq}: malformed")
        return
    if not verify(message, signature, pem):
        report.problems.append(f"checkpoint at seq {seq}: the signature does not verify")
        return
    expected = checkpoint_statement(
        str(stated.get("workspace_id")), stated.get("seq"), str(stated.get("hash")), str(stated.get("at"))
    )
    if stated.get("statement") != CHECKPOINT_STATEMENT or expected != message:
        report.problems.append(f"checkpoint at seq {seq}: not a checkpoint statement")
        return
    signed_seq, signed_hash = stated["seq"], stated["hash"]
    if report.workspace_id is not None and stated["workspace_id"] != report.workspace_id:
        report.problems.append(f"checkpoint at seq {signed_seq}: signed for another workspace")
        return
    report.checkpoints += 1
    report.newest_checkpoint_seq = max(report.newest_checkpoint_seq or 0, signed_seq)
    if report.last_seq is not None and signed_seq > report.last_seq:
        report.problems.append(
            f"checkpoint signed seq {signed_seq} but the export ends at seq {report.last_seq}: events were truncated"
        )
    elif signed_seq in hashes and hashes[signed_seq] != signed_hash:
        report.problems.append(f"checkpoint at seq {signed_seq}: the signed hash no longer matches the chain")
    elif signed_seq not in hashes and report.first_seq is not None and signed_seq >= report.first_seq:
        report.problems.append(f"checkpoint at seq {signed_seq}: that link is missing from the export")


def verify_export(lines: Iterable[str], public_keys: list[dict[str, Any]], *, from_seq: int = 1) -> Report:
    """Check one complete export (``GET /workspaces/{id}/audit/export``, every page, in order)
    against the deployment's public keys (``GET /public/keys``: ``[{key_id, pem, ...}]``).

    The chain must start at ``from_seq`` (1: its genesis). A larger ``from_seq`` accepts an export
    whose older links are past the audit retention, anchored on its first line's ``prev_hash``:
    removing events before it then goes unnoticed, so pass it only knowingly.
    """
    report = Report()
    events, checkpoints = _lines(lines, report)
    if not events:
        report.problems.append("the export holds no event")
    hashes = _verify_chain(events, report, from_seq)
    keys = {str(k.get("key_id")): str(k.get("pem")) for k in public_keys}
    for line in checkpoints:
        _verify_checkpoint(line, keys, hashes, report)
    return report
