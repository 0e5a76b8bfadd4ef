"""Trash retention: purges documents trashed longer than ``limits.trash_days`` (EventBridge, daily).

Thin: ``docuserve.retention.sweep`` does the work, stopping while a minute of the invocation is
left; whatever remains is picked up by the next run.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from docuserve import retention
from docuserve.observability import event_entry


def process(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return asdict(retention.sweep(remaining_ms=context.get_remaining_time_in_millis))


handler = event_entry(process)
