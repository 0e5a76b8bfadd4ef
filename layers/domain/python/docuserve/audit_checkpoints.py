"""Checkpoints: a scheduled run signs the head of every audit chain that moved since its last one.

A chain head carries the sparse gsi4 keys ``CHAIN_UNSIGNED`` / ``{ws}`` from the append that moved
it (``docuserve.audit_chain``) until a checkpoint covers it, so a run finds the changed heads with
one Query on gsi4 (never a Scan). For each it re-reads the head (strongly consistent: the index
lags), signs ``custody.chain.checkpoint_statement`` with the stage's key, stores the checkpoint
(new only), and removes the head's gsi4 keys on the condition that its ``seq`` is still the one
signed; a head that moved meanwhile stays listed for the next run. Checkpoints are tiny and are
kept without expiry: they are what proves the newest events were not cut off.
"""

from __future__ import annotations

import base64
import contextlib
from collections.abc import Callable
from dataclasses import dataclass

from docuserve import audit_chain, clock
from docuserve.adapters.store import ConditionFailed, Store
from docuserve.custody import chain, signing

STOP_WITH_MS_LEFT = 10_000  # one head is a KMS Sign and three DynamoDB calls


@dataclass
class Run:
    signed: int = 0
    skipped: int = 0


def sign_head(ws: str, store: Store | None = None) -> bool:
    """Sign the workspace's current head if no checkpoint covers it; True if this call signed it."""
    store = store or Store()
    head = audit_chain.head(ws, store)
    if head is None or "gsi4pk" not in head:
        return False
    seq, digest, at = int(head["seq"]), str(head["hash"]), clock.iso(clock.now())
    statement = chain.checkpoint_statement(ws, seq, digest, at)
    signature = signing.sign(statement)
    with contextlib.suppress(ConditionFailed):  # a concurrent run signed this seq already; its checkpoint stands
        store.put(
            {
                **audit_chain.checkpoint_key(ws, seq),
                "type": "chain_checkpoint",
                "seq": seq,
                "hash": digest,
                "at": at,
                "key_id": signature.key_id,
                "statement": statement.decode("utf-8"),
                "signature": base64.b64encode(signature.signature_der).decode("ascii"),
            },
            condition="attribute_not_exists(pk)",
        )
    # The head moved after it was read: it stays listed, and the next run signs the new one.
    with contextlib.suppress(ConditionFailed):
        store.update(
            audit_chain.head_key(ws),
            "REMOVE gsi4pk, gsi4sk",
            condition="#seq = :seq",
            names={"#seq": "seq"},
            expression_values={":seq": seq},
        )
    return True


def sign_changed_heads(*, remaining_ms: Callable[[], int], store: Store | None = None) -> Run:
    """Sign every head that moved since its checkpoint, stopping while 10 s are left."""
    store = store or Store()
    run = Run()
    cursor: str | None = None
    while True:
        page = store.query(audit_chain.UNSIGNED_HEADS, index="gsi4", limit=100, cursor=cursor)
        for item in page.items:
            if remaining_ms() < STOP_WITH_MS_LEFT:
                return run
            if sign_head(str(item["workspace_id"]), store):
                run.signed += 1
            else:
                run.skipped += 1
        if not page.next_cursor:
            return run
        cursor = page.next_cursor
