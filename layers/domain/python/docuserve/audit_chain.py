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

from collections.abc import Iterator
from typing import Any

from docuserve import keys
from docuserve.adapters.store import Store, TransactionCancelled
from docuserve.custody import chain

CHAIN_PREFIX = "CHAIN#"
HEAD_SK = "HEAD"
LINK_PREFIX = "SEQ#"
EVENT_PREFIX = "EVENT#"
CHECKPOINT_PREFIX = "CHECKPOINT#"
UNSIGNED_HEADS = "CHAIN_UNSIGNED"  # gsi4: heads that moved since their last checkpoint
APPEND_ATTEMPTS = 20  # each lost race means another append succeeded: progress is guaranteed


class ChainContended(RuntimeError):
    """Every attempt lost the head to another append; the stream record is retried."""


def chain_pk(ws: str) -> str:
    return f"{CHAIN_PREFIX}{ws}"


def head_key(ws: str) -> keys.Key:
    return {"pk": chain_pk(ws), "sk": HEAD_SK}


def _seq_sk(prefix: str, seq: int) -> str:
    return f"{prefix}{seq:012d}"


def link_key(ws: str, seq: int) -> keys.Key:
    return {"pk": chain_pk(ws), "sk": _seq_sk(LINK_PREFIX, seq)}


def marker_key(ws: str, event_id: str) -> keys.Key:
    return {"pk": chain_pk(ws), "sk": f"{EVENT_PREFIX}{event_id}"}


def checkpoint_key(ws: str, seq: int) -> keys.Key:
    return {"pk": chain_pk(ws), "sk": _seq_sk(CHECKPOINT_PREFIX, seq)}


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
        "UpdateExpression": "SET #seq = :seq, #hash = :hash, workspace_id = :ws, gsi4pk = :unsigned, gsi4sk = :ws",
        "ExpressionAttributeNames": {"#seq": "seq", "#hash": "hash"},
        "ExpressionAttributeValues": {":seq": seq, ":hash": digest, ":ws": ws, ":unsigned": UNSIGNED_HEADS},
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
        chain_pk(ws),
        sk_between=(_seq_sk(LINK_PREFIX, from_seq), _seq_sk(LINK_PREFIX, 10**12 - 1)),
        limit=limit,
        consistent=True,
    )
    return page.items


def checkpoints(ws: str, *, from_seq: int, to_seq: int | None, store: Store | None = None) -> Iterator[dict[str, Any]]:
    """The checkpoints signed for seqs in ``[from_seq, to_seq]`` (``None``: no upper bound), oldest first."""
    store = store or Store()
    upper = _seq_sk(CHECKPOINT_PREFIX, 10**12 - 1 if to_seq is None else to_seq)
    cursor: str | None = None
    while True:
        page = store.query(
            chain_pk(ws),
            sk_between=(_seq_sk(CHECKPOINT_PREFIX, from_seq), upper),
            limit=200,
            cursor=cursor,
            consistent=True,
        )
        yield from page.items
        if not page.next_cursor:
            return
        cursor = page.next_cursor
