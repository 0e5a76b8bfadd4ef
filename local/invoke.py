"""Invoke the function handlers the way Lambda does: concurrent requests, isolated environments.

Lambda runs each concurrent request in its own execution environment, a process that handles one
invocation at a time; the handler modules rely on that (the Powertools resolver keeps the current
event on the module's ``app``; logger and metrics are module globals). Locally each function gets
a pool of such environments: worker processes, started on demand (a cold start) up to
``MAX_ENVIRONMENTS`` per function, each importing its handler once and then serving one event at a
time. Two requests at once therefore run at once, and their AWS calls interleave as in AWS; the
moto server makes each of those calls atomic (``local/cloud.py``), as each DynamoDB request is.

An invocation that runs past ``FUNCTION_TIMEOUT_S`` is stopped, its environment discarded (as
Lambda does), and the caller gets ``FunctionError``.
"""

from __future__ import annotations

import contextlib
import importlib
import multiprocessing
import os
import queue
import sys
import threading
import time
import traceback
import uuid
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

FUNCTION_TIMEOUT_S = 30
ACCOUNT = "123456789012"
MAX_ENVIRONMENTS = 4  # per function: a burst beyond it waits for a free one (Lambda would throttle)
COLD_START_TIMEOUT_S = 60


class FunctionError(RuntimeError):
    """The invocation failed: an unhandled error in the handler, a timeout, or a crashed environment."""


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


def load(function: str, package: str = "handlers") -> Any:
    """The handler module of one function (``functions/handlers/<function>.py``)."""
    return importlib.import_module(f"{package}.{function}")


def _serve(function: str, package: str, env: dict[str, str], sys_path: list[str], conn: Connection) -> None:
    """One execution environment: import the handler (the cold start), then one event at a time."""
    os.environ.clear()
    os.environ.update(env)
    sys.path[:] = sys_path
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(line_buffering=True)  # log lines reach the stack's console as they happen
    try:
        module = load(function, package)
    except BaseException:
        traceback.print_exc()
        conn.send(("failed", f"{package}.{function} does not import"))
        return
    conn.send(("ready", None))
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        event, region = message
        try:
            result = module.handler(event, Context(function_name=f"docuserve-local-{function}", region=region))
        except BaseException as exc:
            traceback.print_exc()
            conn.send(("error", f"{type(exc).__name__}: {exc}"))
        else:
            conn.send(("ok", result))


@dataclass
class _Environment:
    process: BaseProcess
    conn: Connection


class Environments:
    """The execution environments of every function, started from one environment snapshot."""

    def __init__(
        self,
        env: dict[str, str],
        *,
        max_per_function: int = MAX_ENVIRONMENTS,
        timeout_s: float = FUNCTION_TIMEOUT_S,
        package: str = "handlers",
    ) -> None:
        self._env = dict(env)
        self._max = max_per_function
        self._timeout_s = timeout_s
        self._package = package
        self._context = multiprocessing.get_context("spawn")  # never fork a process that runs threads
        self._lock = threading.Lock()
        self._idle: dict[str, queue.LifoQueue[_Environment]] = {}
        self._count: dict[str, int] = {}
        self._all: list[_Environment] = []
        self._closed = False

    def _start(self, function: str) -> _Environment:
        parent, child = self._context.Pipe()
        process = self._context.Process(
            target=_serve,
            args=(function, self._package, self._env, list(sys.path), child),
            name=f"lambda-{function}",
            daemon=True,
        )
        process.start()
        child.close()
        environment = _Environment(process, parent)
        with self._lock:
            self._all.append(environment)
        if not parent.poll(COLD_START_TIMEOUT_S):
            self._discard(function, environment)
            raise FunctionError(f"{function}: no execution environment within {COLD_START_TIMEOUT_S} s")
        status, detail = parent.recv()
        if status != "ready":
            self._discard(function, environment)
            raise FunctionError(f"{function}: {detail}")
        return environment

    def _discard(self, function: str, environment: _Environment) -> None:
        environment.process.kill()
        environment.conn.close()
        with self._lock:
            self._count[function] -= 1
            if environment in self._all:
                self._all.remove(environment)

    def _acquire(self, function: str) -> _Environment:
        with self._lock:
            if self._closed:
                raise FunctionError("the local stack is stopping")
            idle = self._idle.setdefault(function, queue.LifoQueue())
            try:
                return idle.get_nowait()
            except queue.Empty:
                pass
            grow = self._count.get(function, 0) < self._max
            if grow:
                self._count[function] = self._count.get(function, 0) + 1
        if grow:
            return self._start(function)
        try:
            return idle.get(timeout=self._timeout_s)
        except queue.Empty:
            raise FunctionError(f"{function}: every execution environment stayed busy") from None

    def warm(self, function: str) -> None:
        """Start one environment now, as a provisioned one would be, so a first request is quick."""
        self._idle.setdefault(function, queue.LifoQueue())
        with self._lock:
            self._count[function] = self._count.get(function, 0) + 1
        self._idle[function].put(self._start(function))

    def invoke(self, function: str, event: dict[str, Any], *, region: str) -> Any:
        environment = self._acquire(function)
        try:
            environment.conn.send((event, region))
            if not environment.conn.poll(self._timeout_s):
                raise TimeoutError
            status, result = environment.conn.recv()
        except (TimeoutError, EOFError, OSError) as exc:
            self._discard(function, environment)
            reason = "timed out" if isinstance(exc, TimeoutError) else "its environment crashed"
            raise FunctionError(f"{function}: the invocation {reason}") from exc
        self._idle[function].put(environment)
        if status != "ok":
            raise FunctionError(f"{function}: {result}")
        return result

    def close(self) -> None:
        with self._lock:
            self._closed = True
            environments = list(self._all)
            self._all.clear()
        for environment in environments:
            with contextlib.suppress(OSError):
                environment.conn.send(None)
        for environment in environments:
            environment.process.join(timeout=2)
            if environment.process.is_alive():
                environment.process.kill()
            environment.conn.close()


_environments: Environments | None = None
_configure_lock = threading.Lock()


def configure(env: dict[str, str]) -> Environments:
    """Start over with environments that see ``env`` (the local stack calls this once it is set up)."""
    global _environments
    with _configure_lock:
        if _environments is not None:
            _environments.close()
        _environments = Environments(env)
        return _environments


def invoke(function: str, event: dict[str, Any], *, region: str) -> Any:
    """Run ``handlers.<function>.handler(event, context)`` as one Lambda invocation."""
    with _configure_lock:
        environments = _environments
    if environments is None:
        environments = configure(dict(os.environ))
    return environments.invoke(function, event, region=region)
