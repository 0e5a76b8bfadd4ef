"""A background thread that polls an event source, as Lambda's event-source mappings do."""

from __future__ import annotations

import threading
import traceback
from collections.abc import Callable


class BackgroundPoller:
    """Calls ``poll()`` (which returns how many records it delivered) until stopped.

    After an empty poll it waits ``idle_seconds``; after a failing one it reports, then waits
    ``retry_seconds`` — so a broken handler never spins the CPU.
    """

    def __init__(
        self,
        name: str,
        poll: Callable[[], int],
        *,
        idle_seconds: float,
        retry_seconds: float,
        on_error: Callable[[], None] = lambda: None,
    ) -> None:
        self._poll = poll
        self._idle = idle_seconds
        self._retry = retry_seconds
        self._on_error = on_error
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=max(self._idle, self._retry) + 5)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                if self._poll() == 0 and self._idle:
                    self._stop.wait(self._idle)
            except Exception:
                if self._stop.is_set():
                    return
                traceback.print_exc()
                self._on_error()
                self._stop.wait(self._retry)
