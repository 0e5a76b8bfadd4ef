"""Upload processing: S3 object-created events, delivered through SQS."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from docuserve.observability import event_entry


def process(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return {"batchItemFailures": []}


handler = event_entry(process)
