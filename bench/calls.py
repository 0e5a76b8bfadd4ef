"""AWS calls per operation, counted with botocore event hooks on the domain's own clients.

``before-call`` fires once per API operation, ``before-send`` once per HTTP round trip (retries
included), ``after-call`` sees each parsed answer (``ScannedCount``, items fetched by key, and the
body of a GetObject, whose reads are counted). Presigning is local computation and fires neither.
Operations are driven as API Gateway would invoke the handlers (``tests.support.gateway.call``),
against moto.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from docuserve.adapters import aws

# Every client the domain creates (``docuserve.adapters.aws``).
# KMS too: share creation signs its manifest (docuserve.custody), and redemption must never call KMS.
CLIENT_FACTORIES: tuple[Callable[[], Any], ...] = (aws.dynamodb, aws.s3, aws.cognito, aws.kms)


@dataclass
class Tally:
    """What one operation asked of AWS."""

    operations: list[str] = field(default_factory=list)  # "dynamodb:UpdateItem", in order
    round_trips: Counter[str] = field(default_factory=Counter)  # per service, HTTP sends
    items_read: int = 0  # ScannedCount of Query/Scan responses: what a page costs as it grows
    keys_read: int = 0  # items fetched by key (GetItem, BatchGetItem)
    s3_bytes_read: int = 0  # bytes read from S3 GetObject bodies (what verification re-reads)

    def service_round_trips(self, service: str) -> int:
        return self.round_trips.get(service, 0)

    @property
    def total_round_trips(self) -> int:
        return sum(self.round_trips.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "operations": list(self.operations),
            "round_trips": dict(self.round_trips),
            "total_round_trips": self.total_round_trips,
            "items_read": self.items_read,
            "keys_read": self.keys_read,
            "s3_bytes_read": self.s3_bytes_read,
        }


def _service_of(event_name: str) -> str:
    # "before-send.dynamodb.UpdateItem" -> "dynamodb"; S3's service id is "s3"
    parts = event_name.split(".")
    return parts[1] if len(parts) > 1 else "?"


@contextmanager
def counting() -> Iterator[Tally]:
    """Count every call made through the domain's clients while the block runs."""
    tally = Tally()

    def before_call(model: Any, **_: Any) -> None:
        tally.operations.append(f"{model.service_model.service_name}:{model.name}")

    def before_send(event_name: str = "", **_: Any) -> None:
        tally.round_trips[_service_of(event_name)] += 1

    def count_reads(body: Any) -> None:
        # Every read of the body (read, iter_chunks, iteration) goes through ``body.read``.
        read = body.read

        def counted(*args: Any, **kwargs: Any) -> Any:
            data = read(*args, **kwargs)
            tally.s3_bytes_read += len(data)
            return data

        body.read = counted

    def after_call(model: Any, parsed: Any = None, **_: Any) -> None:
        if not isinstance(parsed, dict):
            return
        if model.name == "GetObject" and parsed.get("Body") is not None:
            count_reads(parsed["Body"])
        if "ScannedCount" in parsed:
            tally.items_read += int(parsed["ScannedCount"])
        elif model.name == "GetItem" and parsed.get("Item"):
            tally.keys_read += 1
        elif model.name == "BatchGetItem":
            tally.keys_read += sum(len(v) for v in (parsed.get("Responses") or {}).values())

    clients = [factory() for factory in CLIENT_FACTORIES]
    for client in clients:
        client.meta.events.register("before-call.*.*", before_call)
        client.meta.events.register("before-send.*.*", before_send)
        client.meta.events.register("after-call.*.*", after_call)
    try:
        yield tally
    finally:
        for client in clients:
            client.meta.events.unregister("before-call.*.*", before_call)
            client.meta.events.unregister("before-send.*.*", before_send)
            client.meta.events.unregister("after-call.*.*", after_call)
