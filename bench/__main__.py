"""``python -m bench`` (``make bench``): every figure in one run, one Markdown table, and JSON.

Writes ``bench-results.json`` (git-ignored) and prints the table that ``docs/performance.md``
quotes. ``BENCH_RUNS`` (default 7) sets the cold-start samples, ``BENCH_DOCS`` (default 20000) the
large workspace, ``BENCH_ITERATIONS`` (default 30) the warm samples per route.
"""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "functions"), str(ROOT / "layers" / "domain" / "python"), str(ROOT)]

from bench import archive, assets, cold, latency, local_memory, scaling, scenarios, verification  # noqa: E402
from bench.moto_env import moto_stack  # noqa: E402


def _aws_calls(w: scenarios.World) -> list[dict[str, Any]]:
    rows = []
    for op in scenarios.OPERATIONS:
        reply, tally = scenarios.measure_operation(w, op)
        met, target = scenarios.verdict(op.name, tally)
        rows.append(
            {
                "operation": op.name,
                "status": reply.status,
                "expected_status": op.expect,
                **tally.as_dict(),
                "scan_calls": sum(1 for o in tally.operations if o.endswith(":Scan")),
                "target": target,
                "met": met,
            }
        )
    return rows


def collect() -> dict[str, Any]:
    runs = int(os.environ.get("BENCH_RUNS", "7"))
    docs = int(os.environ.get("BENCH_DOCS", "20000"))
    iterations = int(os.environ.get("BENCH_ITERATIONS", "30"))
    started = time.time()
    results: dict[str, Any] = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()},
    }
    print(f"cold init: {runs} runs per function ...", file=sys.stderr, flush=True)
    results["cold_init"] = cold.measure(runs)
    with moto_stack() as resources:
        print("AWS calls per operation ...", file=sys.stderr, flush=True)
        w = scenarios.world(resources)
        results["aws_calls"] = _aws_calls(w)
        print("warm latency per route ...", file=sys.stderr, flush=True)
        from tests.support.documents import make_user

        admin = make_user(resources, "bench-admin@example.com", admin=True)
        results["latency"] = latency.measure(w, admin.claims, iterations)
        print("bytes verification reads back per byte uploaded ...", file=sys.stderr, flush=True)
        results["verification"] = verification.measure(resources)
        print(f"list scaling: 100 vs {docs} documents ...", file=sys.stderr, flush=True)
        results["list_scaling"] = scaling.measure(resources, (100, docs))
    with moto_stack() as resources:  # a stack of its own: its gigabyte leaves with it
        print("bundle archive: the ZIP job over BENCH_ARCHIVE_MIB (1,024) MiB ...", file=sys.stderr, flush=True)
        results["bundle_archive"] = archive.measure(resources)
    print("local stack memory: RSS as BENCH_WORLDS (8) fuzz-sized worlds accumulate ...", file=sys.stderr, flush=True)
    results["local_stack_memory"] = local_memory.measure()
    results["assets"] = assets.measure()
    results["seconds"] = round(time.time() - started, 1)
    return results


def _yes(met: bool | None) -> str:
    return "—" if met is None else ("met" if met else "**missed**")


def table(r: dict[str, Any]) -> str:
    """One Markdown table with every figure."""
    lines = ["| area | measure | value | target | verdict |", "|---|---|---|---|---|"]
    c = r["cold_init"]
    shipped = "project bytecode as the assets ship it" if c.get("bytecode", True) else "project code from source"
    load = c["load_average"]
    lines.append(
        f"| cold init | baseline `boto3.client('dynamodb')` (median of {c['runs']}, CPU time, Python {c['python']}; "
        f"{shipped}; load average {load['before']} to {load['after']}) "
        f"| {c['baseline_cpu_ms']} ms CPU ({c['baseline_ms']} ms wall; "
        f"{c['baseline_collector_paused_cpu_ms']} ms with the collector paused) | | |"
    )
    for name, floor in c["floor"].items():
        lines.append(f"| cold init | {name} | {floor['cpu_median_ms']} ms = {floor['ratio']}x | | |")
    for f in c["functions"]:
        clients = "+".join(f["clients"]) or "no client"
        first = " + router of `GET /workspaces`" if f["function"] == "members" else ""
        traced = f", with X-Ray as in Lambda: {f['tracing_ratio']}x" if "tracing_ratio" in f else ""
        lines.append(
            f"| cold init | `{f['function']}` import{first} + {clients} | {f['cpu_median_ms']} ms = {f['ratio']}x"
            f" (paired {f['paired_ratio']}x; to the paused baseline {f['ratio_to_paused_baseline']}x{traced}; "
            f"wall {f['wall_ratio']}x) | ≤ {f['target_ratio']}x | {_yes(f['met'])} |"
        )
    for name, other in c.get("other_first_requests", {}).items():
        lines.append(f"| cold init | {name} | {other['cpu_median_ms']} ms = {other['ratio']}x | | |")
    for row in r["aws_calls"]:
        trips = ", ".join(f"{k} {v}" for k, v in sorted(row["round_trips"].items())) or "none"
        ops = ", ".join(o.split(":")[1] for o in row["operations"])
        lines.append(
            f"| AWS calls | {row['operation']} (HTTP {row['status']}) | {row['total_round_trips']} ({trips}: {ops}) "
            f"| {row['target'] or 'no Scan'} | {_yes(row['met']) if row['target'] else _yes(row['scan_calls'] == 0)} |"
        )
    for shape, v in r["verification"].items():
        lines.append(
            f"| verification | bytes read back per byte uploaded, {shape} ({v['bytes_uploaded']} B) "
            f"| {v['bytes_read_per_byte_uploaded']} | 0 | {_yes(v['bytes_read'] == 0)} |"
        )
    s = r["list_scaling"]
    for size, page in s["workspaces"].items():
        lines.append(
            f"| list scaling | items read for one {s['page']}-item page, {size} documents | {page['items_read']} "
            f"| equal | {_yes(s['equal'])} |"
        )
    for row in r["latency"]["routes"]:
        lines.append(
            f"| warm latency | `{row['route']}` (HTTP {'/'.join(map(str, row['status']))}) "
            f"| p50 {row['p50_ms']} ms, p99 {row['p99_ms']} ms | | |"
        )
    lines.append(
        f"| warm latency | `POST /public/shares/{{token}}/download` with password (scrypt) "
        f"| p50 {r['latency']['password_redemption_p50_ms']} ms | | |"
    )
    if z := r.get("bundle_archive"):
        lines.append(
            f"| bundle archive | {z['files']} files, {z['input_mib']} MiB through the archive job on moto "
            f"| {z['seconds']} s ({z['mib_per_s_on_moto']} MiB/s), job memory peak {z['tracemalloc_peak_mib']} MiB "
            f"| limit {z['configured_limit_mib']} MiB ≤ {z['limit_mib_at_2x_margin']} MiB "
            f"(at {z['assumed_lambda_mib_per_s']} MiB/s each way, 2x margin in 900 s) "
            f"| {_yes(z['configured_limit_mib'] <= z['limit_mib_at_2x_margin'])} |"
        )
    if m := r.get("local_stack_memory"):
        lines.append(
            f"| local stack memory | RSS growth per world, {m['worlds']} worlds of "
            f"{m['documents_per_world']} documents (first half / second half; "
            f"{m['rss_mib'][0]} → {m['rss_mib'][-1]} MiB) "
            f"| {m['first_half_mib_per_world']} / {m['second_half_mib_per_world']} MiB "
            f"| ≤ {m['target_mib_per_world']} MiB | {_yes(m['met'])} |"
        )
    a = r["assets"]
    if a.get("available"):
        for asset in a["assets"]:
            users = ", ".join(asset["used_by"][:3]) + (" …" if len(asset["used_by"]) > 3 else "")
            lines.append(
                f"| asset size | {asset['kind']} `{asset['asset']}` ({users}) "
                f"| {asset['zipped_kib']} KiB zipped, {asset['unpacked_kib']} KiB unpacked | | |"
            )
    else:
        lines.append(f"| asset size | — | {a['reason']} | | |")
    return "\n".join(lines)


def main() -> int:
    results = collect()
    (ROOT / "bench-results.json").write_text(json.dumps(results, indent=2) + "\n")
    print(table(results))
    print(f"\n(bench-results.json written; {results['seconds']} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
