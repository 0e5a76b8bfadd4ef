"""Audit checkpoints (EventBridge, every 15 minutes): sign the head of every audit chain that moved.

Thin: ``docuserve.audit_checkpoints.sign_changed_heads`` does the work, stopping while 10 s of
the invocation is left; a head it did not reach stays listed for the next run.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from docuserve import audit_checkpoints
from docuserve.observability import event_entry


def process(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return asdict(audit_checkpoints.sign_changed_heads(remaining_ms=context.get_remaining_time_in_millis))


handler = event_entry(process)
