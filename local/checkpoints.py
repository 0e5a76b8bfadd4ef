"""Run the audit-checkpoints function on a schedule, as EventBridge does in AWS (every 15 minutes).

Locally it runs every ``EVERY_SECONDS`` (one minute), so an export taken a minute after some
activity already carries a signed checkpoint of it (``docs/audit-chain.md``). The thread is the
local stack's generic schedule (``local/schedules.py``).
"""

from __future__ import annotations

from collections.abc import Callable

from local.schedules import EVERY_SECONDS, Schedule

FUNCTION = "audit_checkpoints"
__all__ = ["EVERY_SECONDS", "FUNCTION", "CheckpointSchedule"]


class CheckpointSchedule(Schedule):
    """A background thread: every ``EVERY_SECONDS``, one invocation of ``handlers.audit_checkpoints``."""

    def __init__(self, *, region: str, log: Callable[[str], None]) -> None:
        super().__init__("audit-checkpoints", FUNCTION, {"source": "local.schedule"}, region=region, log=log)
