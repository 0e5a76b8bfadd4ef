"""A schedule explorer: two operations in flight at once, interleaved at their AWS calls, every way.

Each operation runs in a thread of its own, through a copy of its handler module of its own (two
execution environments), but only one thread runs at any moment: a botocore hook on the domain's
clients parks a thread at an AWS call whenever the schedule says the other one goes next. So a
run is deterministic, and a schedule is just the set of global call numbers at which control
switches. ``explore`` enumerates every schedule with at most ``switches`` switches (a preemption
bound: one switch covers "the other operation slipped in whole at any point", two covers one
operation stopping half-way while the other runs part of its calls), from either thread first.

With a fault ``Plan`` (``tests.support.faults``), every schedule also runs once per fault
position: a conflict or throttle injected at the n-th targeted call (in the order calls reach
AWS), or index reads answered from the snapshot taken when the run began.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib.util
import itertools
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.support.faults import Faults, Plan, domain_clients

ROOT = Path(__file__).resolve().parents[2]
WAIT_S = 30


def handler_copies(tag: str) -> Callable[[str], Any]:
    """``handler_of`` for ``gateway.call``: private copies of the handler modules, one set per tag."""
    loaded: dict[str, Any] = {}

    def handler_of(function: str) -> Any:
        if function not in loaded:
            name = f"_explorer_{tag}_{function}"
            spec = importlib.util.spec_from_file_location(name, ROOT / "functions" / "handlers" / f"{function}.py")
            assert spec is not None
            assert spec.loader is not None
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module
            spec.loader.exec_module(module)
            loaded[function] = module
        return loaded[function]

    return handler_of


@dataclass
class Run:
    """One schedule's execution: who made which AWS call in which order, and what each returned."""

    switch_at: frozenset[int]
    first: int
    faults: Faults | None = None
    trace: list[tuple[int, str]] = field(default_factory=list)
    results: list[Any] = field(default_factory=lambda: [None, None])
    errors: list[BaseException | None] = field(default_factory=lambda: [None, None])

    def calls_of(self, thread: int) -> list[tuple[int, str]]:
        """``(global position, service:Operation)`` of one thread's calls."""
        return [(n, name) for n, (who, name) in enumerate(self.trace) if who == thread]


class _Gate:
    def __init__(self, run: Run) -> None:
        self.run = run
        self.turn = run.first
        self.calls = 0
        self.done = [False, False]
        self.cond = threading.Condition()
        self.local = threading.local()

    def wait_turn(self, me: int) -> None:
        if not self.cond.wait_for(lambda: self.turn == me, timeout=WAIT_S):
            raise TimeoutError(f"thread {me} never got its turn (schedule {sorted(self.run.switch_at)})")

    def hook(self, model: Any, **_: Any) -> None:
        me = getattr(self.local, "index", None)
        if me is None:
            return  # the test's own calls, outside the two operations
        with self.cond:
            self.calls += 1
            other = 1 - me
            if self.calls in self.run.switch_at and not self.done[other]:
                # Switch before this call goes out: the other thread runs until it yields back.
                self.turn = other
                self.cond.notify_all()
                self.wait_turn(me)
            # The trace is in the order calls reach AWS.
            self.run.trace.append((me, f"{model.service_model.service_name}:{model.name}"))

    def body(self, me: int, operation: Callable[[], Any]) -> None:
        self.local.index = me
        with self.cond:
            self.wait_turn(me)
        try:
            self.run.results[me] = operation()
        except BaseException as exc:  # the explorer reports it with the schedule
            self.run.errors[me] = exc
        finally:
            with self.cond:
                self.done[me] = True
                self.turn = 1 - me
                self.cond.notify_all()


def run_schedule(
    operations: tuple[Callable[[], Any], Callable[[], Any]],
    switch_at: frozenset[int],
    first: int = 0,
    faults: Faults | None = None,
) -> Run:
    """Run both operations under one schedule (and ``faults``); return the trace and their results."""
    run = Run(switch_at=switch_at, first=first, faults=faults)
    gate = _Gate(run)
    clients = domain_clients()
    for client in clients:
        client.meta.events.register("before-call.*.*", gate.hook)
    try:
        armed = faults.armed() if faults is not None else contextlib.nullcontext()
        if faults is not None and faults.stale:
            faults.snapshot()
        with armed:
            threads = [
                threading.Thread(target=gate.body, args=(i, op), name=f"op{i}", daemon=True)
                for i, op in enumerate(operations)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=WAIT_S * 2)
                if thread.is_alive():
                    raise TimeoutError(f"schedule {sorted(switch_at)} deadlocked")
    finally:
        for client in clients:
            client.meta.events.unregister("before-call.*.*", gate.hook)
    return run


def schedules(calls: int, switches: int) -> Iterator[tuple[int, frozenset[int]]]:
    """Every (first thread, switch positions) with 0..``switches`` switches among ``calls`` calls."""
    for first in (0, 1):
        for count in range(switches + 1):
            for positions in itertools.combinations(range(1, calls + 1), count):
                yield first, frozenset(positions)


def explore(
    setup: Callable[[], tuple[Callable[[], Any], Callable[[], Any]]],
    check: Callable[[Run], None],
    *,
    switches: int,
    plan: Plan | None = None,
) -> int:
    """Run every schedule of the pair ``setup()`` builds afresh for each; ``check`` each run.

    The number of calls (and of fault positions) is measured on the unswitched runs (both orders);
    a schedule whose switch or fault falls past the calls a run actually makes simply runs as an
    unswitched or fault-free one. With ``plan``, each schedule runs once per fault position.
    Returns how many runs were checked.
    """
    longest = positions = 0
    for first in (0, 1):
        counter = plan.counter() if plan is not None else None
        run = run_schedule(setup(), frozenset(), first, faults=counter)
        longest = max(longest, len(run.trace))
        positions = max(positions, len(counter.seen) if counter is not None else 0)
    variants: list[Faults | None] = list(plan.variants(positions)) if plan is not None else [None]
    explored = 0
    for first, switch_at in schedules(longest, switches):
        for template in variants:
            faults = dataclasses.replace(template, seen=[], injected=[]) if template is not None else None
            run = run_schedule(setup(), switch_at, first, faults=faults)
            try:
                check(run)
            except AssertionError as failed:
                raise AssertionError(
                    f"schedule: thread {first} first, switching at calls {sorted(switch_at)}\n"
                    f"faults: {faults.injected if faults is not None else None}\n"
                    f"trace: {run.trace}\nresults: {run.results}\nerrors: {run.errors}\n{failed}"
                ) from failed
            explored += 1
    return explored
