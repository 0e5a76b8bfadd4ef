"""Cold init per function: a fresh interpreter imports the handler module and builds its clients.

Each sample is one new Python process, timed from inside (the interpreter's own start-up is the
same for every variant and is left out). The baseline — ``import boto3; boto3.client("dynamodb")``
— runs interleaved with the functions in the same rounds, so load on the machine hits both alike.
Ratios compare CPU time (``time.process_time``) medians: on a machine shared with other work, wall
time also counts the time another process held the core.

Project code is imported as the assets ship it: a copy of ``functions/`` and ``layers/domain/python``
with bytecode compiled like the assets' (``infra/bytecode.py``, unchecked-hash), but for the
measuring interpreter (the assets carry Python 3.13's; the bench runs on the project's virtualenv).
``bytecode=False`` imports the checkout from source instead, as Lambda did before the assets
carried bytecode (its file system is read-only, so it compiled every module at every cold start).

The members function includes only its first request's router (``handlers.members``); its first
request is the web app's landing page, ``GET /workspaces``. Heavier first requests are reported
beside it (``FIRST_REQUESTS``), and so is the old measure, every router with the S3 client.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

BASELINE = "import boto3\nboto3.client('dynamodb')"
BASELINE_S3 = "import boto3\nboto3.client('dynamodb')\nboto3.client('s3')"

# What each function's first request needs besides the module itself. The partner's first request
# is the link page (DynamoDB only); the S3 client for presigning follows on the first download and
# is reported separately (``public+download``).
CLIENTS: dict[str, tuple[str, ...]] = {
    "system": (),
    "members": ("dynamodb",),
    "admin": ("dynamodb", "cognito"),
    "public": ("dynamodb",),
    "upload_events": ("dynamodb", "s3"),
}
DEFAULT_CLIENTS = ("dynamodb",)
# The request a cold start of the members function serves first: the web app's landing page.
MEMBERS_FIRST = ("GET", "/workspaces")
# Other first requests of members, reported beside it: (name, method, resource, clients).
FIRST_REQUESTS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("members: list documents", "GET", "/workspaces/{workspace_id}/documents", ("dynamodb",)),
    ("members: download", "GET", "/documents/{document_id}/download", ("dynamodb", "s3")),
    ("members: share links", "GET", "/workspaces/{workspace_id}/links", ("dynamodb",)),
)
# Partner-facing: the tighter target.
TARGETS = {"public": 1.3}
DEFAULT_TARGET = 1.6

# What a function sees in Lambda (values are placeholders: nothing is called).
LAMBDA_ENV = {
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_SESSION_TOKEN": "bench",
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "STAGE": "dev",
    "TABLE_NAME": "bench-table",
    "BUCKET_NAME": "bench-bucket",
    "KMS_KEY_ARN": "arn:aws:kms:us-east-1:123456789012:key/bench",
    "USER_POOL_ID": "us-east-1_bench",
    "USER_POOL_CLIENT_ID": "bench",
    "WEB_ORIGIN": "https://docs.example.com",
    "POWERTOOLS_METRICS_NAMESPACE": "DocuServe",
    "POWERTOOLS_SERVICE_NAME": "docuserve-bench",
    "POWERTOOLS_LOG_LEVEL": "INFO",
    "PYTHONPATH": f"{ROOT / 'functions'}{os.pathsep}{ROOT / 'layers' / 'domain' / 'python'}",
}
# As deployed: inside Lambda with active tracing (the X-Ray SDK loads; sends go nowhere).
TRACING_ENV = {
    "LAMBDA_TASK_ROOT": str(ROOT / "functions"),
    "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000",
    "AWS_XRAY_CONTEXT_MISSING": "IGNORE_ERROR",
}


@dataclass(frozen=True)
class Variant:
    name: str
    code: str
    tracing: bool = False
    project_bytecode: bool = False
    # Where the function and layer code come from (default: this checkout's ``functions`` and
    # ``layers/domain/python``), e.g. an unpacked asset with its bytecode.
    pythonpath: str | None = None


def function_code(module: str, clients: tuple[str, ...], first: tuple[str, str] | None = None) -> str:
    lines = [f"import {module}"]
    if first is None and module == "handlers.members":
        first = MEMBERS_FIRST
    if first is not None:  # include the router of the first request (the members function)
        lines.append(f"{module}.prepare({{'httpMethod': {first[0]!r}, 'resource': {first[1]!r}}})")
    if clients:
        lines.append("from docuserve.adapters import aws")
        lines += [f"aws.{'cognito' if c == 'cognito' else c}()" for c in clients]
    return "\n".join(lines)


def _environment(variant: Variant) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG", "LC_ALL", "TMPDIR"}}
    env = keep | LAMBDA_ENV
    if variant.pythonpath is not None:
        env["PYTHONPATH"] = variant.pythonpath
    if variant.tracing:
        env |= TRACING_ENV
    else:
        env["POWERTOOLS_TRACE_DISABLED"] = "true"
    if not variant.project_bytecode:
        # Lambda cannot write .pyc next to the read-only asset; site-packages keep theirs.
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def sample(variant: Variant) -> tuple[float, float]:
    """(wall, CPU) seconds for one cold run of ``variant`` in a new interpreter."""
    program = (
        "import time\n_t, _c = time.perf_counter(), time.process_time()\n"
        + variant.code
        + "\nprint(repr(time.perf_counter() - _t), repr(time.process_time() - _c))\n"
    )
    done = subprocess.run(  # noqa: S603  (our own interpreter, our own program text)
        [sys.executable, "-c", program],
        env=_environment(variant),
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"cold run of {variant.name} failed:\n{done.stderr[-2000:]}")
    wall, cpu = done.stdout.strip().splitlines()[-1].split()
    return float(wall), float(cpu)


def project_copy(target: Path, *, bytecode: bool) -> str:
    """Copy the project code as an asset carries it (with bytecode for this interpreter, or without
    any, whatever ``__pycache__`` the checkout holds); its PYTHONPATH."""
    from infra.bytecode import EXCLUDE, compiled_copy

    functions_dir, layer_dir = target / "functions", target / "layer"
    for source, copy, runtime_root in ((ROOT / "functions", functions_dir, "/var/task"),
                                       (ROOT / "layers" / "domain", layer_dir, "/opt")):  # fmt: skip
        if bytecode:
            compiled_copy(source, copy, runtime_root, sys.executable)
        else:
            shutil.copytree(source, copy, ignore=shutil.ignore_patterns(*EXCLUDE))
    return f"{functions_dir}{os.pathsep}{layer_dir / 'python'}"


def functions(only: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    """(name, handler module) of every deployed function (or those named), from the stack's own list."""
    from infra.functions import SPECS

    return [(spec.name, spec.handler.rsplit(".", 1)[0]) for spec in SPECS if not only or spec.name in only]


def _median_ms(values: list[float]) -> float:
    return statistics.median(values) * 1000


def measure(
    runs: int = 7,
    *,
    tracing: bool = True,
    only: tuple[str, ...] = (),
    bytecode: bool = True,
    compare_source: bool = False,
) -> dict[str, object]:
    """Median cold init per function and the baseline, in milliseconds, with ratios and targets.

    ``bytecode``: project code as shipped (with bytecode) or from source; ``compare_source`` adds
    each function from source beside the shipped one (``<name>@source``).
    """
    with tempfile.TemporaryDirectory(prefix="docuserve-cold-") as tmp:
        source = project_copy(Path(tmp) / "source", bytecode=False)
        shipped = project_copy(Path(tmp) / "shipped", bytecode=True) if bytecode else source
        result = _measure(
            runs, tracing=tracing, only=only, pythonpath=shipped, source=source if compare_source else None
        )
    return {"bytecode": bytecode, **result}


def _measure(
    runs: int, *, tracing: bool, only: tuple[str, ...], pythonpath: str, source: str | None
) -> dict[str, object]:
    variants = [Variant("baseline", BASELINE), Variant("baseline+s3", BASELINE_S3)]
    for name, module in functions(only):
        clients = CLIENTS.get(name, DEFAULT_CLIENTS)
        variants.append(Variant(name, function_code(module, clients), pythonpath=pythonpath))
        if tracing:
            code = function_code(module, clients)
            variants.append(Variant(f"{name}@tracing", code, tracing=True, pythonpath=pythonpath))
        if source is not None and source != pythonpath:
            variants.append(Variant(f"{name}@source", function_code(module, clients), pythonpath=source))
    extra: list[Variant] = [
        Variant("public+download", function_code("handlers.public", ("dynamodb", "s3")), pythonpath=pythonpath)
    ]
    if not only or "members" in only:
        for label, method, resource, clients in FIRST_REQUESTS:
            code = function_code("handlers.members", clients, (method, resource))
            extra.append(Variant(label, code, pythonpath=pythonpath))
        every = "import handlers.members\nhandlers.members.app\n" + function_code("docuserve", ("dynamodb", "s3"))
        extra.append(Variant("members: every router, +s3 (as before)", every, pythonpath=pythonpath))
    variants += extra
    for v in variants:  # warm the OS file cache and site-packages bytecode once
        sample(v)
    wall: dict[str, list[float]] = {v.name: [] for v in variants}
    cpu: dict[str, list[float]] = {v.name: [] for v in variants}
    for _ in range(runs):
        for v in variants:
            w, c = sample(v)
            wall[v.name].append(w)
            cpu[v.name].append(c)
    wall_ms = {k: _median_ms(v) for k, v in wall.items()}
    cpu_ms = {k: _median_ms(v) for k, v in cpu.items()}
    base, base_wall = cpu_ms["baseline"], wall_ms["baseline"]
    rows = []
    for name, _module in functions(only):
        target = TARGETS.get(name, DEFAULT_TARGET)
        ratio = cpu_ms[name] / base
        row: dict[str, object] = {
            "function": name,
            "clients": list(CLIENTS.get(name, DEFAULT_CLIENTS)),
            "cpu_median_ms": round(cpu_ms[name], 1),
            "ratio": round(ratio, 2),
            "median_ms": round(wall_ms[name], 1),
            "wall_ratio": round(wall_ms[name] / base_wall, 2),
            "target_ratio": target,
            "met": ratio <= target,
        }
        if tracing:
            row["tracing_cpu_median_ms"] = round(cpu_ms[f"{name}@tracing"], 1)
            row["tracing_ratio"] = round(cpu_ms[f"{name}@tracing"] / base, 2)
        rows.append(row)
    others = {
        v.name: {"cpu_median_ms": round(cpu_ms[v.name], 1), "ratio": round(cpu_ms[v.name] / base, 2)} for v in extra
    }
    sources = {
        name: {"cpu_median_ms": round(cpu_ms[f"{name}@source"], 1), "ratio": round(cpu_ms[f"{name}@source"] / base, 2)}
        for name, _module in functions(only)
        if f"{name}@source" in cpu_ms
    }
    return {
        "runs": runs,
        "other_first_requests": others,
        "from_source": sources,
        "baseline_cpu_ms": round(base, 1),
        "baseline_ms": round(base_wall, 1),
        "baseline_with_s3_cpu_ms": round(cpu_ms["baseline+s3"], 1),
        "public_with_s3_client_cpu_ms": round(cpu_ms["public+download"], 1),
        "public_with_s3_client_ratio": round(cpu_ms["public+download"] / base, 2),
        "functions": rows,
        "cpu_samples_ms": {k: [round(x * 1000, 1) for x in v] for k, v in cpu.items()},
        "wall_samples_ms": {k: [round(x * 1000, 1) for x in v] for k, v in wall.items()},
    }
