"""Force interleavings and faults deterministically, through botocore hooks on the domain's clients.

moto does not lock items between threads, and real races are not reproducible; so a test runs
one operation and lets another one (run to completion, as one atomic step) slip in just before a
chosen AWS call of the first. ``calls`` lists the calls an operation makes, so a test can try the
other operation at every point in turn. ``fail`` answers chosen calls with an AWS error instead
of sending them (``TransactionConflict``, throttling, partial ``DeleteObjects`` failures).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from tests.support.faults import domain_clients as _clients


def _name(model: Any) -> str:
    return f"{model.service_model.service_name}:{model.name}"


@dataclass
class Slot:
    """Where the other operation ran, and what it returned (or raised)."""

    ran: bool = False
    result: Any = None
    error: BaseException | None = None
    seen: list[str] = field(default_factory=list)


@contextmanager
def calls() -> Iterator[list[str]]:
    """Record ``service:Operation`` of every call through the domain's DynamoDB and S3 clients."""
    seen: list[str] = []

    def record(model: Any, **_: Any) -> None:
        seen.append(_name(model))

    for client in _clients():
        client.meta.events.register("before-call.*.*", record)
    try:
        yield seen
    finally:
        for client in _clients():
            client.meta.events.unregister("before-call.*.*", record)


@contextmanager
def before(operation: str | None, run: Callable[[], Any], *, nth: int = 1) -> Iterator[Slot]:
    """Run ``run()`` once, just before the ``nth`` call of ``operation`` (``"dynamodb:Query"``;
    ``None``: any operation). Calls made by ``run`` itself are not counted."""
    slot = Slot()
    state = {"count": 0, "busy": False}

    def hook(model: Any, **_: Any) -> None:
        if state["busy"] or slot.ran:
            return
        name = _name(model)
        slot.seen.append(name)
        if operation is not None and name != operation:
            return
        state["count"] += 1
        if state["count"] != nth:
            return
        state["busy"] = True
        slot.ran = True
        try:
            slot.result = run()
        except Exception as exc:  # the test inspects it
            slot.error = exc
        finally:
            state["busy"] = False

    for client in _clients():
        client.meta.events.register("before-call.*.*", hook)
    try:
        yield slot
    finally:
        for client in _clients():
            client.meta.events.unregister("before-call.*.*", hook)


class _Http:
    def __init__(self, status_code: int) -> None:
        self.status_code = status_code
        self.headers: dict[str, str] = {}
        self.content = b""


@contextmanager
def fail(operation: str, answer: Callable[[dict[str, Any]], tuple[int, dict[str, Any]] | None]) -> Iterator[list[int]]:
    """Answer calls of ``operation`` with ``answer(request)`` -> ``(http status, parsed body)``
    instead of sending them; ``None`` lets that call through. Yields how many were answered."""
    answered: list[int] = []

    def hook(model: Any, params: dict[str, Any], **_: Any) -> tuple[_Http, dict[str, Any]] | None:
        if _name(model) != operation:
            return None
        reply = answer(params)
        if reply is None:
            return None
        answered.append(reply[0])
        status, body = reply
        return _Http(status), body

    for client in _clients():
        client.meta.events.register_first("before-call.*.*", hook)
    try:
        yield answered
    finally:
        for client in _clients():
            client.meta.events.unregister("before-call.*.*", hook)


def cancelled(*reasons: str) -> tuple[int, dict[str, Any]]:
    """A ``TransactionCanceledException`` answer with one cancellation reason per action."""
    body = {
        "Error": {"Code": "TransactionCanceledException", "Message": "Transaction cancelled"},
        "CancellationReasons": [{"Code": r} for r in reasons],
    }
    return 400, body


def transact_items(request: dict[str, Any]) -> list[dict[str, Any]]:
    """The ``TransactItems`` of a ``TransactWriteItems`` request as botocore is about to send it."""
    import json

    body = request.get("body") or b"{}"
    items: list[dict[str, Any]] = json.loads(body).get("TransactItems", [])
    return items


def status_of(operation: Callable[[], Any]) -> int:
    """Run a domain operation as the slipped-in one: 200 if it succeeds, else its error's status.

    The slipped-in operation calls the domain, not a handler: a handler's resolver is one object
    per module, and invoking it again inside its own invocation would overwrite the outer request.
    """
    from docuserve.errors import DomainError

    try:
        operation()
    except DomainError as refused:
        return refused.status
    return 200
