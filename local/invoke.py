"""Invoke the function handler modules the way Lambda does: one event at a time, with a context.

A Lambda execution environment runs one invocation at a time, and the handler modules rely on
that (the Powertools resolver keeps the current event on the module's ``app``; logger and metrics
are module globals). In one local process, every invocation therefore takes the same lock.
"""

from __future__ import annotations

import importlib
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

FUNCTION_TIMEOUT_S = 30
ACCOUNT = "123456789012"

_invocation_lock = threading.Lock()


@dataclass
class Context:
    """The subset of ``LambdaContext`` the handlers and Powertools read."""

    function_name: str
    region: str
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    memory_limit_in_mb: int = 512
    function_version: str = "$LATEST"
    _deadline: float = field(default_factory=lambda: time.monotonic() + FUNCTION_TIMEOUT_S)

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{self.region}:{ACCOUNT}:function:{self.function_name}"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        return "local"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def load(function: str) -> Any:
    """The handler module of one function (``functions/handlers/<function>.py``)."""
    return importlib.import_module(f"handlers.{function}")


def invoke(function: str, event: dict[str, Any], *, region: str) -> Any:
    """Run ``handlers.<function>.handler(event, context)`` as one Lambda invocation."""
    module = load(function)
    with _invocation_lock:
        return module.handler(event, Context(function_name=f"docuserve-local-{function}", region=region))
