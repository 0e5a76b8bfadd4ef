"""Trash retention: purges documents trashed longer than ``limits.trash_days`` (EventBridge, daily),
after expiring abandoned uploads (``docuserve.upload_expiry``).

Invoked with ``{"task": "scan_overdue"}`` (EventBridge, every 15 minutes, when malware scanning is
on) it only counts the versions whose scan result is overdue (``docuserve.scanning.overdue``),
which the ``ScansOverdue`` alarm watches.

Thin: ``docuserve.retention.sweep`` does the work, stopping while a minute of the invocation is
left; whatever remains is picked up by the next run. A document that cannot be purged is logged
and skipped, and the invocation then fails so the function's errors alarm fires.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from docuserve import retention, scanning, upload_expiry
from docuserve.observability import event_entry


class SweepFailed(RuntimeError):
    """Raised after a run in which some documents could not be purged (the errors alarm fires)."""


def process(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if isinstance(event, dict) and event.get("task") == "scan_overdue":
        late = scanning.overdue(remaining_ms=context.get_remaining_time_in_millis)
        return {"scans_overdue": len(late)}
    upload_expiry.sweep(remaining_ms=context.get_remaining_time_in_millis)
    result = retention.sweep(remaining_ms=context.get_remaining_time_in_millis)
    if result.failed:
        # The others were purged; failing the invocation makes the function's errors alarm fire
        # (the failures are logged with their document ids).
        raise SweepFailed(f"{result.failed} expired document(s) could not be purged: {asdict(result)}")
    return asdict(result)


handler = event_entry(process)
