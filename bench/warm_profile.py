"""``python -m bench.warm_profile``: where a warm in-process request spends its time, moto versus ours.

Builds the ``bench.scenarios`` world in a fresh moto, then runs ``bench.latency`` once over every
route as ``make bench`` does (so the table holds what it holds when ``make bench`` times the
routes), then profiles three routes: each is warmed up, timed un-profiled (p50), then run again
while a sampler thread reads the request thread's stack every millisecond.

Each sample is charged to the innermost frame whose file belongs to a group below; frames of the
standard library and builtins are skipped, so ``copy.deepcopy`` called by moto counts as moto.
Groups: **ours** (``docuserve``, ``handlers``), **framework** (Powertools, Pydantic: in Lambda
too), **sdk** (botocore, boto3: in Lambda too, minus the network), **moto** (moto and the
werkzeug/responses machinery it runs on: test-only), **harness** (``tests.support.gateway``
building the API Gateway event, and the bench), **other**. Our functions are also listed by the
share of samples in which they are on the stack (cumulative) and innermost (self).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
for _path in (ROOT / "functions", ROOT / "layers" / "domain" / "python", ROOT):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("ours", ("/layers/domain/python/docuserve/", "/functions/handlers/")),
    ("harness", ("/tests/support/", "/bench/")),
    ("moto", ("/moto/", "/werkzeug/", "/responses/", "/xmltodict", "/jinja2/", "/markupsafe/", "/joserfc/")),
    ("sdk", ("/botocore/", "/boto3/", "/s3transfer/", "/urllib3/", "/dateutil/", "/jmespath/")),
    ("framework", ("/aws_lambda_powertools/", "/pydantic/", "/pydantic_core/", "/typing_extensions")),
)
SITE = "/site-packages/"


def group_of(filename: str) -> str | None:
    """The group a file belongs to; None for the standard library and builtins (charged to callers)."""
    for name, markers in GROUPS:
        if any(m in filename for m in markers):
            return name
    return "other" if SITE in filename else None


def _label(code: Any) -> str:
    short = code.co_filename.split("/layers/domain/python/")[-1].split("/functions/")[-1]
    return f"{short}:{code.co_firstlineno} {code.co_name}"


class Sampler:
    """Samples one thread's stack every ``interval`` seconds while running."""

    def __init__(self, thread_id: int, interval: float = 0.001) -> None:
        self.thread_id = thread_id
        self.interval = interval
        self.samples = 0
        self.groups: Counter[str] = Counter()
        self.ours_cumulative: Counter[str] = Counter()
        self.ours_self: Counter[str] = Counter()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Sampler:
        self._switch = sys.getswitchinterval()
        sys.setswitchinterval(self.interval / 2)  # let the sampler in between bytecodes
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        sys.setswitchinterval(self._switch)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            frame = sys._current_frames().get(self.thread_id)
            if frame is not None:
                self._take(frame)

    def _take(self, frame: FrameType | None) -> None:
        innermost: str | None = None
        ours: list[str] = []
        while frame is not None:
            group = group_of(frame.f_code.co_filename)
            if group is not None and innermost is None:
                innermost = group
                if group == "ours":
                    self.ours_self[_label(frame.f_code)] += 1
            if group == "ours":
                ours.append(_label(frame.f_code))
            frame = frame.f_back
        self.samples += 1
        self.groups[innermost or "stdlib"] += 1
        for label in set(ours):
            self.ours_cumulative[label] += 1


def profile(name: str, run: Callable[[int], Any], rounds: int, top: int) -> dict[str, Any]:
    for n in range(3):
        run(n)
    timings = []
    for n in range(rounds):
        start = time.perf_counter()
        run(1000 + n)
        timings.append((time.perf_counter() - start) * 1000)
    p50 = statistics.median(timings)
    with Sampler(threading.get_ident()) as sampler:
        for n in range(rounds):
            run(2000 + n)
    total = max(sampler.samples, 1)
    print(f"\n## {name}: p50 {p50:.1f} ms ({rounds} calls; {sampler.samples} samples while profiled)")
    for group, count in sampler.groups.most_common():
        print(f"  {group:<10} {100 * count / total:5.1f} %  ~{p50 * count / total:6.1f} ms of the p50")
    print("  our functions: % of samples on the stack (cumulative) / innermost (self)")
    for label, count in sampler.ours_cumulative.most_common(top):
        print(f"  {100 * count / total:5.1f} % / {100 * sampler.ours_self[label] / total:4.1f} %  {label}")
    return {"p50_ms": p50, "groups": dict(sampler.groups), "samples": sampler.samples}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.warm_profile", description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--top", type=int, default=12)
    parser.add_argument("--fresh", action="store_true", help="profile right after the world is built")
    parser.add_argument("--iterations", type=int, default=30, help="bench.latency iterations first")
    args = parser.parse_args(argv)

    from bench import latency, scenarios
    from bench.moto_env import moto_stack
    from tests.support.gateway import call

    with moto_stack() as resources:
        from docuserve.observability import logger

        logger.setLevel("WARNING")
        w = scenarios.world(resources)
        owner = w.owner.claims
        if not args.fresh:
            from tests.support.documents import make_user

            admin = make_user(resources, "bench-admin@example.com", admin=True)
            print("bench.latency over every route first, as make bench does ...", file=sys.stderr, flush=True)
            latency.measure(w, admin.claims, args.iterations)
        routes: dict[str, Callable[[int], Any]] = {
            "GET /public/shares/{token}": lambda n: call("GET", f"/public/shares/{w.token_open}"),
            "GET /workspaces/{workspace_id}/documents": lambda n: call(
                "GET", f"/workspaces/{w.workspace_id}/documents", claims=owner
            ),
            "POST /workspaces/{workspace_id}/documents": lambda n: call(
                "POST",
                f"/workspaces/{w.workspace_id}/documents",
                claims=owner,
                body=scenarios._body(b"x" * (n + 1)),
            ),
        }
        for name, run in routes.items():
            profile(name, run, args.rounds, args.top)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
