"""EventBridge's schedules on the local stack: a background thread invokes a function with the
schedule's input at a fixed interval, as a rule with a ``rate(...)`` expression does in AWS.

Locally every schedule runs every minute (AWS: every 15), so what a schedule does shows up soon
after the activity that needs it:

- ``audit_checkpoints`` signs the audit chains' heads that moved (``local/checkpoints.py``);
- ``audit_stream`` with ``{"task": "files_arrived_due"}`` sends the upload requests' "files
  arrived" mails that came due (``docuserve.upload_requests.arrivals``; ``infra/audit_stream.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from local.polling import BackgroundPoller

EVERY_SECONDS = 60.0


class Schedule:
    """A background thread: every ``every_seconds``, one invocation of ``handlers.<function>`` with ``event``."""

    def __init__(
        self,
        name: str,
        function: str,
        event: dict[str, Any],
        *,
        region: str,
        log: Callable[[str], None],
        every_seconds: float = EVERY_SECONDS,
    ) -> None:
        self.function = function
        self.event = event
        self.region = region
        self.log = log
        self._poller = BackgroundPoller(
            name,
            self._run_once,
            idle_seconds=every_seconds,
            retry_seconds=every_seconds,
            on_error=lambda: self.log(f"{name}: the run failed; the next one retries"),
        )

    def _run_once(self) -> int:
        from local.invoke import invoke

        invoke(self.function, self.event, region=self.region)
        return 0  # then wait for the next tick

    def start(self) -> Schedule:
        self._poller.start()
        return self

    def stop(self) -> None:
        self._poller.stop()


def files_arrived_due(*, region: str, log: Callable[[str], None]) -> Schedule:
    """The due "files arrived" mails of upload requests (the audit-stream function's scheduled task)."""
    from docuserve.upload_requests.arrivals import SWEEP_TASK

    return Schedule("files-arrived-due", "audit_stream", {"task": SWEEP_TASK}, region=region, log=log)
