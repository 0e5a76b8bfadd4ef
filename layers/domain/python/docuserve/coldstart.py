"""Cold start without the cyclic garbage collector: paused in Lambda until the cold start is over.

A cold start allocates ~100,000 long-lived objects (modules, classes, functions, botocore's
service models) and almost no cyclic garbage (~500 unreachable objects after the members
function's every router and client). CPython's collector does not know that: every 2,000
allocations it scans the young objects, and its full collections rescan everything allocated so far,
so the cost grows with all that was imported before (0.1-0.3x of the ``boto3`` baseline here;
docs/performance.md, "Cold init"). So in Lambda ``handlers`` (the package every function's entry
module is in) pauses the collector before any import; an API function's first request, once it has
answered, and an event function's first invocation, as it starts (it may run for minutes), freeze
what the cold start built (``gc.freeze``: later collections never scan those objects again, which
warm requests profit from as well) and resume it (``docuserve.observability``). Nothing is
collected in between: the few cycles the cold start leaves become permanent, a few tens of KiB.

Outside Lambda (tests, the local stack, tooling that imports a handler module without invoking it)
nothing changes: ``AWS_LAMBDA_FUNCTION_NAME``, which Lambda always sets, is the switch.
"""

from __future__ import annotations

import gc
import os

_paused = False


def in_lambda(env: dict[str, str] | None = None) -> bool:
    """Whether this process is a Lambda execution environment (Lambda sets the function's name)."""
    return bool((os.environ if env is None else env).get("AWS_LAMBDA_FUNCTION_NAME"))


def pause_collector() -> None:
    """Pause the cyclic garbage collector for the cold start (in Lambda only, and only if it runs)."""
    global _paused
    if in_lambda() and gc.isenabled() and not _paused:
        gc.disable()
        _paused = True


def cold_start_done() -> None:
    """End of the first invocation: freeze what the cold start built and resume collecting.

    Idempotent; does nothing unless ``pause_collector`` paused the collector.
    """
    global _paused
    if _paused:
        _paused = False
        gc.freeze()
        gc.enable()


def paused() -> bool:
    """Whether the collector is paused for the cold start."""
    return _paused
