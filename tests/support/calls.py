"""Count the AWS API calls a piece of code makes (presigning is local and makes none)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from docuserve.adapters import aws


@contextmanager
def aws_calls() -> Iterator[list[str]]:
    """Record ``service:Operation`` of every call through the domain's (only) DynamoDB and S3 clients."""
    calls: list[str] = []
    clients = [aws.dynamodb(), aws.s3()]

    def record(model: Any, **_: Any) -> None:
        calls.append(f"{model.service_model.service_name}:{model.name}")

    for client in clients:
        client.meta.events.register("before-call.*.*", record)
    try:
        yield calls
    finally:
        for client in clients:
            client.meta.events.unregister("before-call.*.*", record)
