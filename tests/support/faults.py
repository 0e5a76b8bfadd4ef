"""Fault injection through botocore hooks on the domain's clients (SPEC Amendments: "DynamoDB's
real semantics": transactions cancelled by conflicts, throttling, eventually consistent indexes).

``Faults`` answers chosen calls with the error real AWS would send instead of sending them (a
``before-call`` handler that returns a response short-circuits the request, so botocore's own
retries do not run: an injected error is what reaches the domain *after* botocore gave up, or,
for a cancelled transaction, what botocore never retries at all):

- ``conflict``: ``TransactWriteItems`` cancelled with ``TransactionConflict`` on every action
  (single-item writes that meet a transaction get ``TransactionConflictException``);
- ``throttle``: ``ProvisionedThroughputExceededException`` (a transaction: cancelled with
  ``ThrottlingError`` reasons);
- ``stale``: index reads answered from an earlier snapshot of the table (an ``after-call`` handler
  drops from a GSI ``Query`` every item written since ``snapshot()``): the index has not caught up.

A fault hits the ``at``-th call (counted among the calls it ``targets``) and, if ``persistent``,
every retry of that same request after it (the same ``TransactItems``): a conflict that outlasts
the domain's retries. ``domain_clients`` is the one list of the clients the domain makes its
calls through (``docuserve.adapters.aws``), shared with the schedule explorer and ``interleave``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from docuserve.adapters import aws

WRITES = frozenset({"TransactWriteItems", "PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem"})
KINDS = ("conflict", "throttle")


def domain_clients() -> list[Any]:
    """The botocore clients the domain calls AWS through (cached per process by ``aws``)."""
    return [aws.dynamodb(), aws.s3()]


def call_name(model: Any) -> str:
    return f"{model.service_model.service_name}:{model.name}"


class _Http:
    def __init__(self, status_code: int) -> None:
        self.status_code = status_code
        self.headers: dict[str, str] = {}
        self.content = b""


def error_answer(kind: str, operation: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """The (HTTP status, parsed body) AWS answers ``operation`` with under fault ``kind``."""
    if operation == "TransactWriteItems":
        actions = len(json.loads(params.get("body") or b"{}").get("TransactItems", [])) or 1
        reason = "TransactionConflict" if kind == "conflict" else "ThrottlingError"
        return 400, {
            "Error": {"Code": "TransactionCanceledException", "Message": f"Transaction cancelled ({reason})"},
            "CancellationReasons": [{"Code": reason} for _ in range(actions)],
        }
    if kind == "conflict":
        code = "TransactionConflictException"
        return 400, {"Error": {"Code": code, "Message": "the item is being modified by a transaction"}}
    code = "ProvisionedThroughputExceededException"
    return 400, {"Error": {"Code": code, "Message": "the level of configured provisioned throughput was exceeded"}}


def _request(params: dict[str, Any]) -> Any:
    """The request's parameters, without the idempotency token botocore draws afresh per call."""
    try:
        request = json.loads(params.get("body") or b"{}")
    except (TypeError, ValueError):
        return params.get("body")  # not JSON (S3): the raw body
    request.pop("ClientRequestToken", None)
    return request


@dataclass
class Injected:
    """One fault as it was injected: the call it hit, and how many times (retries included)."""

    kind: str
    call: str
    position: int
    times: int = 0


@dataclass
class Faults:
    """Inject ``kind`` at the ``at``-th call among ``targets`` (``service:Operation`` or the operation
    name alone); ``stale`` makes every index Query answer from the ``snapshot()``. Arm it only
    around the calls under test (``armed``): the test's own calls must pass untouched."""

    kind: str | None = None  # "conflict" | "throttle" | None (count the targeted calls only)
    at: int = 0
    targets: frozenset[str] = WRITES
    persistent: bool = False
    stale: bool = False
    seen: list[str] = field(default_factory=list)
    injected: list[Injected] = field(default_factory=list)
    _body: Any = None
    _known: frozenset[tuple[str, str]] | None = None

    def snapshot(self) -> None:
        """What the index holds from now on: the table's items as they are (moto's own view)."""
        self._known = frozenset(_table_keys())

    def _targeted(self, name: str) -> bool:
        return name in self.targets or name.split(":", 1)[1] in self.targets

    def before(
        self, model: Any, params: dict[str, Any], context: dict[str, Any], **_: Any
    ) -> tuple[_Http, dict[str, Any]] | None:
        if model.name == "Query":
            context["faults_index"] = json.loads(params.get("body") or b"{}").get("IndexName")
        name = call_name(model)
        if not self._targeted(name):
            return None
        body = _request(params)
        kind = self.kind
        retry = self.persistent and self._body is not None and body == self._body
        if not retry:
            self.seen.append(name)  # counted with no fault too: how many positions a run offers
            if kind is None or len(self.seen) != self.at:
                return None
            self._body = body
            self.injected.append(Injected(kind, name, self.at))
        if kind is None:
            return None
        self.injected[-1].times += 1
        status, parsed = error_answer(kind, model.name, params)
        return _Http(status), parsed

    def after(self, model: Any, parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        index = context.get("faults_index")
        if not self.stale or model.name != "Query" or not index or self._known is None or not parsed.get("Items"):
            return
        kept = [i for i in parsed["Items"] if (i["pk"]["S"], i["sk"]["S"]) in self._known]
        if len(kept) != len(parsed["Items"]):
            self.injected.append(Injected("stale", f"dynamodb:Query {index}", len(self.seen)))
            parsed["Items"] = kept
            parsed["Count"] = len(kept)

    @contextmanager
    def armed(self) -> Iterator[Faults]:
        """Hooks on the domain's clients while the block runs (after any already registered)."""
        clients = domain_clients()
        for client in clients:
            client.meta.events.register("before-call.*.*", self.before)
            client.meta.events.register("after-call.*.*", self.after)
        try:
            yield self
        finally:
            for client in clients:
                client.meta.events.unregister("before-call.*.*", self.before)
                client.meta.events.unregister("after-call.*.*", self.after)


def _table() -> Any:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    from docuserve.settings import get_settings

    settings = get_settings()
    return dynamodb_backends[DEFAULT_ACCOUNT_ID][settings.region].tables[settings.table_name]


def forget_stream_records() -> None:
    """Drop the table stream's records so far (moto keeps every one, and deep-copies the table with
    them on each TransactWriteItems: a long exploration slows down and grows by gigabytes).
    Only for tests that never read the stream."""
    shard = getattr(_table(), "stream_shard", None)
    if shard is not None:
        shard.items.clear()


def _table_keys() -> Iterator[tuple[str, str]]:
    """Every (pk, sk) in the DocuServe table, from moto's in-memory backend (no AWS call)."""
    table = _table()
    for hash_key, by_range in list(table.items.items()):
        for range_key in list(by_range):
            yield str(hash_key.value), str(range_key.value)


@dataclass(frozen=True)
class Plan:
    """Which faults the explorer enumerates alongside each schedule: ``kind`` at every position
    among ``targets`` in turn (``persistent``: outlasting the retries), or ``stale`` index reads."""

    kind: str | None = None
    targets: frozenset[str] = WRITES
    persistent: bool = False
    stale: bool = False

    @property
    def name(self) -> str:
        if self.stale:
            return "stale-index"
        return f"{self.kind}{'-persistent' if self.persistent else ''}"

    def counter(self) -> Faults:
        return Faults(targets=self.targets)

    def variants(self, positions: int) -> list[Faults]:
        if self.stale:
            return [Faults(stale=True)]
        return [Faults(self.kind, at, self.targets, self.persistent) for at in range(1, positions + 1)]
