"""Run the audit-checkpoints function on a schedule, as EventBridge does in AWS (every 15 minutes).

Locally it runs every ``EVERY_SECONDS`` (one minute), so an export taken a minute after some
activity already carries a signed checkpoint of it (``docs/audit-chain.md``).
"""

from __future__ import annotations

from collections.abc import Callable

from local.polling import BackgroundPoller

FUNCTION = "audit_checkpoints"
EVERY_SECONDS = 60.0


class CheckpointSchedule:
    """A background thread: every ``EVERY_SECONDS``, one invocation of ``handlers.audit_checkpoints``."""

    def __init__(self, *, region: str, log: Callable[[str], None]) -> None:
        self.region = region
        self.log = log
        self._poller = BackgroundPoller(
            "audit-checkpoints",
            self._run_once,
            idle_seconds=EVERY_SECONDS,
            retry_seconds=EVERY_SECONDS,
            on_error=lambda: self.log("audit checkpoints: the run failed; the next one retries"),
        )

    def _run_once(self) -> int:
        from local.invoke import invoke

        invoke(FUNCTION, {"source": "local.schedule"}, region=self.region)
        return 0  # then wait for the next tick

    def start(self) -> CheckpointSchedule:
        self._poller.start()
        return self

    def stop(self) -> None:
        self._poller.stop()
