"""Drive the audit-stream function from moto's DynamoDB stream, as Lambda's stream source would."""

from __future__ import annotations

from typing import Any

from local.audit_stream import StreamReader
from tests.support.gateway import FakeContext


def audit_stream(table_name: str, region: str = "us-east-1") -> StreamReader:
    """A reader from the table stream's beginning that invokes ``handlers.audit_stream`` per batch."""
    from handlers import audit_stream as function

    def invoke(event: dict[str, Any]) -> Any:
        return function.handler(event, FakeContext())

    return StreamReader(table_name=table_name, region=region, invoke=invoke)
