"""The audit chain's store: each workspace's audit events, hash-chained in the order they are appended.

Events are still written as before (inside the operations' own transactions, or by the
audit-stream function); the audit-stream function, which sees every new audit item on the
table's stream, then chains each one (``append``) with one ``TransactWriteItems`` of three items
in the workspace's ``CHAIN#{ws}`` partition:

| item | pk | sk | |
|---|---|---|---|
| head | ``CHAIN#{ws}`` | ``HEAD`` | ``seq``, ``hash``; sparse gsi4 ``CHAIN_UNSIGNED`` / ``{ws}`` until checkpointed |
| link | ``CHAIN#{ws}`` | ``SEQ#{seq:012d}`` | ``seq``, ``prev_hash``, ``hash``, ``event`` (canonical JSON) |
| marker | ``CHAIN#{ws}`` | ``EVENT#{event id}`` | ``seq`` |
| checkpoint | ``CHAIN#{ws}`` | ``CHECKPOINT#{seq:012d}`` | ``statement``, ``signature``, ``key_id`` |

The head's update is conditioned on the ``seq`` just read (the one conditional write every append
serializes on), the link's and the marker's puts on being new. A transaction cancelled by the
head's condition lost a race: re-read the head and try again. Cancelled by the marker's: the
event is already chained (a redelivered or retried stream record) and nothing is written, so the
chain never forks and never holds an event twice. Hash definitions: ``docuserve.custody.chain``;
decisions: ``docs/audit-chain.md``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from docuserve import keys
from docuserve.adapters.store import Store, TransactionCancelled
from docuserve.custody import chain

CHAIN_PREFIX = keys.CHAIN_PREFIX
UNSIGNED_HEADS = keys.UNSIGNED_HEADS_PK
EXPORT_EVENTS = 1000  # events per export response at most ...
EXPORT_BYTES = 4 * 1024 * 1024  # ... and about this many bytes (Lambda answers ≤ 6 MB, API Gateway ≤ 10 MB)
APPEND_ATTEMPTS = 20  # each lost race means another append succeeded: progress is guaranteed


class ChainContended(RuntimeError):
    """Every attempt lost the head to another append; the stream record is retried."""


def head_key(ws: str) -> keys.Key:
    return keys.chain_head(ws)


def link_key(ws: str, seq: int) -> keys.Key:
    return keys.chain_link(ws, seq)


def marker_key(ws: str, event_id: str) -> keys.Key:
    return keys.chain_marker(ws, event_id)


def checkpoint_key(ws: str, seq: int) -> keys.Key:
    return keys.chain_checkpoint(ws, seq)


def chained_workspace(item: dict[str, Any]) -> str | None:
    """The workspace whose chain ``item`` (a new image) belongs to, or None: not a workspace's event."""
    pk = str(item.get("pk", ""))
    if item.get("type") != "audit" or not pk.startswith(keys.AUDIT_PREFIX) or pk == keys.audit_pk(None):
        return None
    ws = item.get("workspace_id")
    return str(ws) if ws and pk == keys.audit_pk(str(ws)) else None


def _actions(ws: str, head: dict[str, Any] | None, item: dict[str, Any]) -> tuple[list[dict[str, Any]], int]:
    read_seq = int(head["seq"]) if head else 0
    prev_hash = str(head["hash"]) if head else chain.GENESIS
    seq = read_seq + 1
    content = chain.event_content(item)
    digest = chain.link_hash(seq, prev_hash, content)
    head_update: dict[str, Any] = {
        "Key": head_key(ws),
        "UpdateExpression": "SET #seq = :seq, #hash = :hash, workspace_id = :ws, gsi4pk = :ipk, gsi4sk = :isk",
        "ExpressionAttributeNames": {"#seq": "seq", "#hash": "hash"},
        "ExpressionAttributeValues": {
            ":seq": seq,
            ":hash": digest,
            ":ws": ws,
            ":ipk": keys.unsigned_head_index_keys(ws)["gsi4pk"],
            ":isk": keys.unsigned_head_index_keys(ws)["gsi4sk"],
        },
    }
    if head:
        head_update["ConditionExpression"] = "#seq = :read"
        head_update["ExpressionAttributeValues"][":read"] = read_seq
    else:
        head_update["ConditionExpression"] = "attribute_not_exists(pk)"
    new = "attribute_not_exists(pk)"
    link = {
        **link_key(ws, seq),
        "type": "chain_link",
        "seq": seq,
        "prev_hash": prev_hash,
        "hash": digest,
        "event_id": content["id"],
        "event": chain.canonical(content).decode("utf-8"),
        "ttl": item.get("ttl"),  # a link is kept as long as its event (limits.audit_days)
    }
    marker = {**marker_key(ws, str(content["id"])), "type": "chain_marker", "seq": seq, "ttl": item.get("ttl")}
    return [
        {"Update": head_update},
        {"Put": {"Item": link, "ConditionExpression": new}},
        {"Put": {"Item": marker, "ConditionExpression": new}},
    ], seq


def append(item: dict[str, Any], store: Store | None = None) -> int | None:
    """Chain the audit item ``item`` once: its new ``seq``, or None (not chained here, or already chained)."""
    ws = chained_workspace(item)
    if ws is None or not item.get("id"):
        return None
    store = store or Store()
    for _ in range(APPEND_ATTEMPTS):
        if store.get(marker_key(ws, str(item["id"]))) is not None:
            return None  # a redelivery: chained already
        actions, seq = _actions(ws, store.get(head_key(ws)), item)
        try:
            store.transact(actions)
            return seq
        except TransactionCancelled as cancelled:
            if len(cancelled.reasons) == 3 and cancelled.reasons[2] == "ConditionalCheckFailed":
                return None  # the marker exists: another delivery chained it first
            # The head moved (or its link exists): another append won; read again.
    raise ChainContended(f"workspace {ws}: the chain head stayed contended")


def head(ws: str, store: Store | None = None) -> dict[str, Any] | None:
    return (store or Store()).get(head_key(ws))


def links(ws: str, *, from_seq: int, limit: int, store: Store | None = None) -> list[dict[str, Any]]:
    """Up to ``limit`` links from ``from_seq`` on, in seq order (strongly consistent)."""
    page = (store or Store()).query(
        keys.chain_pk(ws),
        sk_between=(link_key(ws, from_seq)["sk"], link_key(ws, keys.MAX_CHAIN_SEQ)["sk"]),
        limit=limit,
        consistent=True,
    )
    return page.items


def checkpoints(ws: str, *, from_seq: int, to_seq: int | None, store: Store | None = None) -> Iterator[dict[str, Any]]:
    """The checkpoints signed for seqs in ``[from_seq, to_seq]`` (``None``: no upper bound), oldest first."""
    store = store or Store()
    upper = checkpoint_key(ws, keys.MAX_CHAIN_SEQ if to_seq is None else to_seq)["sk"]
    cursor: str | None = None
    while True:
        page = store.query(
            keys.chain_pk(ws),
            sk_between=(checkpoint_key(ws, from_seq)["sk"], upper),
            limit=200,
            cursor=cursor,
            consistent=True,
        )
        yield from page.items
        if not page.next_cursor:
            return
        cursor = page.next_cursor


def _event_line(link: dict[str, Any]) -> str:
    return json.dumps(
        {
            "type": "event",
            "seq": link["seq"],
            "prev_hash": link["prev_hash"],
            "hash": link["hash"],
            "event": json.loads(link["event"]),
        },
        ensure_ascii=False,
        separators=(",", ":"),
    )


def _checkpoint_line(item: dict[str, Any]) -> str:
    fields = ("seq", "hash", "at", "key_id", "statement", "signature")
    return json.dumps(
        {"type": "checkpoint", **{f: item.get(f) for f in fields}}, ensure_ascii=False, separators=(",", ":")
    )


def export_lines(ws: str, *, from_seq: int = 1, store: Store | None = None) -> list[str]:
    """One page of a workspace's export (JSON Lines, ``docs/audit-chain.md``): the chained events
    from ``from_seq`` in seq order, the checkpoints of those seqs, and either a continuation line
    naming the next page's ``from_seq`` or (the last page) every later checkpoint too."""
    store = store or Store()
    found = links(ws, from_seq=from_seq, limit=EXPORT_EVENTS + 1, store=store)
    lines: list[str] = []
    size = 0
    for link in found[:EXPORT_EVENTS]:
        line = _event_line(link)
        if lines and size + len(line) > EXPORT_BYTES:
            break
        lines.append(line)
        size += len(line) + 1
    more = len(lines) < len(found)
    last = from_seq + len(lines) - 1 if lines else None
    upper = last if more else None
    lines.extend(_checkpoint_line(c) for c in checkpoints(ws, from_seq=from_seq, to_seq=upper, store=store))
    if more and last is not None:
        lines.append(json.dumps({"type": "continuation", "from_seq": last + 1}, separators=(",", ":")))
    return lines
