"""``python -m bench.check`` (``make bench-check``): the deterministic figures against ``bench/baseline.json``.

Measured in one fresh moto, through the real handlers (no timing is checked: CI machines are noisy):

- ``aws_calls``: per operation, how many times each AWS API was called (``bench.calls``);
- ``round_trips``: per operation, HTTP round trips per service (retries included);
- ``list_page``: items read (``ScannedCount``) and items fetched by key for one 50-item page of a
  workspace of 100 and of 20,000 documents (``bench.scaling``: the real listing route);
- ``verification_bytes_read_per_byte_uploaded``: bytes the checksum step (the upload-processing
  function) reads back from S3 per byte uploaded, single PUT and multipart (``bench.verification``):
  0, since S3's stored checksums decide it;
- ``hashing_bytes_read_per_byte_uploaded``: the same for the hashing step (the upload-jobs
  function's full-object SHA-256 of a multipart object): 1.0, the object read once.

Every figure must equal the baseline. Higher is a regression. Lower is an improvement the baseline
has not recorded: that fails too, so the baseline stays true and a later return to the old figure
cannot pass unnoticed; ``--update`` (``make bench-check UPDATE=1``) rewrites the baseline, which
is then committed with the change that moved it.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
for _path in (ROOT / "functions", ROOT / "layers" / "domain" / "python", ROOT):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

BASELINE = ROOT / "bench" / "baseline.json"
SIZES = (100, 20_000)
UPDATE_HINT = "make bench-check UPDATE=1"
# Figures counted per API or per service: an API the baseline does not list was called 0 times.
COUNTED = ("aws_calls", "round_trips")
ABOUT = (
    "Deterministic figures checked by `make bench-check` (bench/check.py). Rewrite with "
    f"`{UPDATE_HINT}` and commit with the change that moved them; see docs/performance.md."
)


class MeasurementFailed(RuntimeError):
    """An operation did not answer as expected, so its figures would mean nothing."""


def measure(resources: Any, sizes: tuple[int, ...] = SIZES) -> dict[str, Any]:
    """Every checked figure, measured against the moto ``resources``."""
    from bench import scaling, scenarios, verification

    calls: dict[str, dict[str, int]] = {}
    trips: dict[str, dict[str, int]] = {}

    def record(name: str, tally: dict[str, Any]) -> None:  # a ``Tally.as_dict()``
        calls[name] = dict(sorted(Counter(tally["operations"]).items()))
        trips[name] = dict(sorted(tally["round_trips"].items()))

    w = scenarios.world(resources)
    for op in scenarios.OPERATIONS:
        reply, tally = scenarios.measure_operation(w, op)
        if reply.status != op.expect:
            raise MeasurementFailed(f"{op.name}: HTTP {reply.status}, expected {op.expect}: {reply.text[:300]}")
        record(op.name, tally.as_dict())

    uploads = verification.measure(resources)
    for shape, figures in uploads.items():
        record(f"upload processing, {shape}", figures["processing"])
        if figures["hashing"]["operations"]:
            record(f"upload hashing, {shape}", figures["hashing"])
        for step in ("completion", "assembly"):
            if step in figures:
                record(f"{shape} {step}", figures[step])

    pages = scaling.measure(resources, sizes)["workspaces"]
    for size, page in pages.items():
        if page["items_returned"] != min(scaling.PAGE, int(size)):
            raise MeasurementFailed(f"list page at {size} documents returned {page['items_returned']} items")
    return {
        "aws_calls": calls,
        "round_trips": trips,
        "list_page": {
            f"{size} documents": {"items_read": page["items_read"], "keys_read": page["keys_read"]}
            for size, page in pages.items()
        },
        # The checksum step must stay at 0: S3's stored checksums decide it, no byte is read back.
        "verification_bytes_read_per_byte_uploaded": {
            shape: figures["bytes_read_per_byte_uploaded"] for shape, figures in uploads.items()
        },
        # The full-object SHA-256 of a multipart object: read once (1.0), never more.
        "hashing_bytes_read_per_byte_uploaded": {
            shape: figures["hashing_bytes_read_per_byte_uploaded"] for shape, figures in uploads.items()
        },
    }


# --- comparison --------------------------------------------------------------------------------


def flatten(figures: dict[str, Any], prefix: str = "") -> dict[str, float]:
    """``{"aws_calls": {"list page (50)": {"dynamodb:Query": 1}}}`` becomes
    ``{"aws_calls/list page (50)/dynamodb:Query": 1}``."""
    flat: dict[str, float] = {}
    for key, value in figures.items():
        if key.startswith("_"):
            continue
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat |= flatten(value, f"{name}/")
        else:
            flat[name] = value
    return flat


@dataclass(frozen=True)
class Difference:
    figure: str
    expected: float | None  # None: not in the baseline
    got: float | None  # None: no longer measured

    @property
    def regressed(self) -> bool:
        return self.expected is not None and self.got is not None and self.got > self.expected

    def message(self) -> str:
        if self.expected is None:
            return f"NEW       {self.figure}: not in the baseline, got {self.got}; run `{UPDATE_HINT}` and commit it"
        if self.got is None:
            return f"MISSING   {self.figure}: expected {self.expected}, no longer measured; run `{UPDATE_HINT}`"
        if self.regressed:
            return f"REGRESSED {self.figure}: expected {self.expected}, got {self.got}"
        return (
            f"IMPROVED  {self.figure}: expected {self.expected}, got {self.got}; the baseline must stay true: "
            f"run `{UPDATE_HINT}` and commit bench/baseline.json with this change"
        )


def _group(name: str) -> str:
    return "/".join(name.split("/")[:2])  # "aws_calls/list page (50)"


def compare(baseline: dict[str, Any], measured: dict[str, Any]) -> list[Difference]:
    """Every figure whose measured value is not the baseline's, in a stable order."""
    want, got = flatten(baseline), flatten(measured)
    want_groups, got_groups = {_group(n) for n in want}, {_group(n) for n in got}
    differences = []
    for name in sorted(want.keys() | got.keys()):
        counted = name.split("/")[0] in COUNTED
        expected = want.get(name, 0 if counted and _group(name) in want_groups else None)
        value = got.get(name, 0 if counted and _group(name) in got_groups else None)
        if expected != value:
            differences.append(Difference(name, expected, value))
    return differences


def check(baseline_path: Path, measured: dict[str, Any]) -> int:
    """Print the verdict; 0 when every figure equals the baseline, 1 otherwise."""
    if not baseline_path.exists():
        print(f"bench-check: no baseline at {baseline_path}; run `{UPDATE_HINT}` and commit it", file=sys.stderr)
        return 1
    baseline = json.loads(baseline_path.read_text())
    differences = compare(baseline, measured)
    if not differences:
        print(f"bench-check: all {len(flatten(measured))} figures equal {baseline_path.name}")
        return 0
    regressed = sum(d.regressed for d in differences)
    print(
        f"bench-check FAILED: {len(differences)} figure(s) differ from {baseline_path.name} "
        f"({regressed} regressed, {len(differences) - regressed} moved otherwise):",
        file=sys.stderr,
    )
    for difference in differences:
        print(f"  {difference.message()}", file=sys.stderr)
    return 1


def update(baseline_path: Path, measured: dict[str, Any]) -> int:
    """Rewrite the baseline with ``measured``, printing what moved."""
    if baseline_path.exists():
        for difference in compare(json.loads(baseline_path.read_text()), measured):
            print(f"  {difference.figure}: {difference.expected} -> {difference.got}")
    baseline_path.write_text(json.dumps({"_about": ABOUT, **measured}, indent=2, ensure_ascii=False) + "\n")
    print(f"bench-check: {baseline_path} rewritten ({len(flatten(measured))} figures)")
    return 0


def collect() -> dict[str, Any]:
    from bench.moto_env import moto_stack

    with moto_stack() as resources:
        from docuserve.observability import logger

        logger.setLevel("WARNING")  # one INFO line per processed upload would bury the verdict
        return measure(resources)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.check", description=__doc__.split("\n")[0])
    parser.add_argument("--update", action="store_true", help="rewrite the baseline with the measured figures")
    parser.add_argument("--baseline", type=Path, default=BASELINE, help=f"default: {BASELINE.relative_to(ROOT)}")
    args = parser.parse_args(argv)
    started = time.monotonic()
    measured = collect()
    code = update(args.baseline, measured) if args.update else check(args.baseline, measured)
    print(f"(measured in {time.monotonic() - started:.0f} s)")
    return code


if __name__ == "__main__":
    raise SystemExit(main())
