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

The measuring interpreter is Lambda's version when the machine has an environment of it
(``BENCH_PYTHON``, else ``.venv313`` from ``make test-lambda-python``), else the bench's own.

Each program runs inside a frame that reserves room on the interpreter's data stack
(``STACK_ROOM``). CPython 3.11 to 3.13, before a fix merged into 3.13 in March 2026, frees a
16 KiB data-stack chunk as soon as a call returns below it and maps a new one on the next call:
code that calls back and forth across a chunk's edge pays an ``mmap``/``munmap`` pair and page
faults per call (CPython gh-142183; the fix caches one chunk). Where the edges fall depends on how
deep the import starts, so the same import measured 1.17x or 1.40x depending on what was imported
before it (up to 3,000 pairs, ~40 ms here). Lambda keeps its 3.13 runtime on current patch
releases and imports the handler at its runtime client's depth, not ours; the room keeps the whole
cold start in one chunk, so every variant, baseline included, is measured without the artefact.
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
# The floor the SPEC's architecture sets before any line of ours: Powertools' Logger and Metrics,
# its REST resolver with Pydantic validation (the event handler package, the OpenAPI validation
# middleware and Pydantic), and the same client.
FLOOR = (
    "from aws_lambda_powertools import Logger, Metrics\n"
    "from aws_lambda_powertools.event_handler import APIGatewayRestResolver\n"
    "Logger()\nMetrics()\nAPIGatewayRestResolver(enable_validation=True)\n" + BASELINE
)
# The baseline with the cyclic collector paused as the functions pause it in Lambda
# (docuserve.coldstart): the ratio to it shows what is left once both sides are spared the collector.
BASELINE_PAUSED = "import gc\ngc.disable()\n" + BASELINE
BASELINE_S3 = "import boto3\nboto3.client('dynamodb')\nboto3.client('s3')"

# What each function's first request needs besides the module itself. The partner's first request
# is the link page (DynamoDB only); the S3 client for presigning follows on the first download and
# is reported separately (``public+download``). An upload request's page is the same (DynamoDB).
CLIENTS: dict[str, tuple[str, ...]] = {
    "system": (),
    "members": ("dynamodb",),
    "admin": ("dynamodb", "cognito"),
    "public": ("dynamodb",),
    "partner_uploads": ("dynamodb",),
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
# Partner-facing: the tighter target (a share link's page, an upload request's page).
TARGETS = {"public": 1.3, "partner_uploads": 1.3}
DEFAULT_TARGET = 1.6

# What a function sees in Lambda (values are placeholders: nothing is called).
LAMBDA_ENV = {
    "AWS_LAMBDA_FUNCTION_NAME": "docuserve-bench",
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


# Slots reserved on the data stack for the measured program (8 bytes each): the frame that runs it
# gets a chunk of 256 KiB with ~100 KiB free after it, more than a cold start's deepest import needs.
STACK_ROOM = 20_000


@dataclass(frozen=True)
class Variant:
    name: str
    code: str
    tracing: bool = False
    project_bytecode: bool = False
    # Where the function and layer code come from (default: this checkout's ``functions`` and
    # ``layers/domain/python``), e.g. an unpacked asset with its bytecode.
    pythonpath: str | None = None
    # Environment overrides, e.g. an empty AWS_LAMBDA_FUNCTION_NAME: the collector is not paused.
    env: tuple[tuple[str, str], ...] = ()


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
    env |= dict(variant.env)
    if not variant.project_bytecode:
        # Lambda cannot write .pyc next to the read-only asset; site-packages keep theirs.
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def interpreter() -> str:
    """The Python that measures: ``BENCH_PYTHON``, else ``.venv313`` (Lambda's version), else this one."""
    chosen = os.environ.get("BENCH_PYTHON")
    if chosen:
        return chosen
    lambda_venv = ROOT / ".venv313" / "bin" / "python"
    return str(lambda_venv) if lambda_venv.exists() else sys.executable


def program(code: str, *, stack_room: bool = True) -> str:
    """The text one sample runs: ``code`` timed from inside, in a frame with room on the data stack."""
    if not stack_room:
        return (
            "import time\n_t, _c = time.perf_counter(), time.process_time()\n"
            + code
            + "\nprint(repr(time.perf_counter() - _t), repr(time.process_time() - _c))\n"
        )
    return (
        "import time\n"
        "def _room(code, namespace):\n"
        "    exec(code, namespace)\n"
        f"_room.__code__ = _room.__code__.replace(co_stacksize={STACK_ROOM})\n"
        f"_code = compile({code!r}, '<cold start>', 'exec')\n"
        "_t, _c = time.perf_counter(), time.process_time()\n"
        "_room(_code, {'__name__': '__main__'})\n"
        "print(repr(time.perf_counter() - _t), repr(time.process_time() - _c))\n"
    )


def sample(variant: Variant, python: str | None = None, *, stack_room: bool = True) -> tuple[float, float]:
    """(wall, CPU) seconds for one cold run of ``variant`` in a new interpreter."""
    done = subprocess.run(  # noqa: S603  (our own interpreter, our own program text)
        [python or sys.executable, "-c", program(variant.code, stack_room=stack_room)],
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


def project_copy(target: Path, *, bytecode: bool, python: str | None = None) -> str:
    """Copy the project code as an asset carries it (with bytecode for ``python``, by default this
    interpreter, or without any, whatever ``__pycache__`` the checkout holds); its PYTHONPATH."""
    from infra.bytecode import EXCLUDE, compiled_copy

    functions_dir, layer_dir = target / "functions", target / "layer"
    for source, copy, runtime_root in ((ROOT / "functions", functions_dir, "/var/task"),
                                       (ROOT / "layers" / "domain", layer_dir, "/opt")):  # fmt: skip
        if bytecode:
            compiled_copy(source, copy, runtime_root, python or sys.executable)
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
    compare_collector: bool = False,
    stack_room: bool = True,
    python: str | None = None,
) -> dict[str, object]:
    """Median cold init per function and the baseline, in milliseconds, with ratios and targets.

    ``bytecode``: project code as shipped (with bytecode) or from source; ``compare_source`` adds
    each function from source beside the shipped one (``<name>@source``); ``compare_collector``
    adds each function with the garbage collector left running (``<name>@collector``, as outside
    Lambda); ``stack_room=False`` measures without the data-stack room (see the module docstring).
    """
    python = python or interpreter()
    with tempfile.TemporaryDirectory(prefix="docuserve-cold-") as tmp:
        source = project_copy(Path(tmp) / "source", bytecode=False)
        shipped = project_copy(Path(tmp) / "shipped", bytecode=True, python=python) if bytecode else source
        result = _measure(
            runs,
            tracing=tracing,
            only=only,
            pythonpath=shipped,
            source=source if compare_source else None,
            compare_collector=compare_collector,
            python=python,
            stack_room=stack_room,
        )
    version = subprocess.run(  # noqa: S603
        [python, "-c", "import platform; print(platform.python_version())"], capture_output=True, text=True, check=True
    ).stdout.strip()
    return {"bytecode": bytecode, "python": version, "stack_room": stack_room, **result}


def _measure(
    runs: int,
    *,
    tracing: bool,
    only: tuple[str, ...],
    pythonpath: str,
    source: str | None,
    compare_collector: bool,
    python: str,
    stack_room: bool,
) -> dict[str, object]:
    variants = [
        Variant("baseline", BASELINE),
        Variant("baseline+s3", BASELINE_S3),
        Variant("baseline, collector paused", BASELINE_PAUSED),
        Variant("floor: Powertools resolver with validation, Logger, Metrics", FLOOR),
        Variant("floor, collector paused", "import gc\ngc.disable()\n" + FLOOR),
    ]
    for name, module in functions(only):
        clients = CLIENTS.get(name, DEFAULT_CLIENTS)
        code = function_code(module, clients)
        variants.append(Variant(name, code, pythonpath=pythonpath))
        if tracing:
            variants.append(Variant(f"{name}@tracing", code, tracing=True, pythonpath=pythonpath))
        if source is not None and source != pythonpath:
            variants.append(Variant(f"{name}@source", code, pythonpath=source))
        if compare_collector:
            unpaused = (("AWS_LAMBDA_FUNCTION_NAME", ""),)
            variants.append(Variant(f"{name}@collector", code, pythonpath=pythonpath, env=unpaused))
    # The public function as it would be with Powertools' resolver and Pydantic validation instead of
    # docuserve.lean_api: its OpenAPI twin is exactly that resolver, with the same routes and models.
    powertools_public = "import handlers.public\nhandlers.public.app.documented()\n" + function_code(
        "docuserve", ("dynamodb",)
    )
    extra: list[Variant] = [
        Variant("public+download", function_code("handlers.public", ("dynamodb", "s3")), pythonpath=pythonpath),
        Variant("public with Powertools' resolver instead of lean_api", powertools_public, pythonpath=pythonpath),
    ]
    if not only or "members" in only:
        for label, method, resource, clients in FIRST_REQUESTS:
            code = function_code("handlers.members", clients, (method, resource))
            extra.append(Variant(label, code, pythonpath=pythonpath))
        every = "import handlers.members\nhandlers.members.app\n" + function_code("docuserve", ("dynamodb", "s3"))
        extra.append(Variant("members: every router, +s3 (as before)", every, pythonpath=pythonpath))
    variants += extra
    for v in variants:  # warm the OS file cache and site-packages bytecode once
        sample(v, python, stack_room=stack_room)
    load_before = os.getloadavg()[0]
    wall: dict[str, list[float]] = {v.name: [] for v in variants}
    cpu: dict[str, list[float]] = {v.name: [] for v in variants}
    for _ in range(runs):
        for v in variants:
            w, c = sample(v, python, stack_room=stack_room)
            wall[v.name].append(w)
            cpu[v.name].append(c)
    wall_ms = {k: _median_ms(v) for k, v in wall.items()}
    cpu_ms = {k: _median_ms(v) for k, v in cpu.items()}
    base, base_wall = cpu_ms["baseline"], wall_ms["baseline"]
    base_paused = cpu_ms["baseline, collector paused"]

    def paired(name: str) -> float:
        # Each round samples every variant back to back: the median of the rounds' own ratios
        # cancels the load drifting between rounds (the ratio of medians does not).
        return round(statistics.median(f / b for f, b in zip(cpu[name], cpu["baseline"], strict=True)), 2)

    def figure(name: str) -> dict[str, object]:
        return {
            "cpu_median_ms": round(cpu_ms[name], 1),
            "ratio": round(cpu_ms[name] / base, 2),
            "paired_ratio": paired(name),
        }

    rows = []
    for name, _module in functions(only):
        target = TARGETS.get(name, DEFAULT_TARGET)
        ratio = cpu_ms[name] / base
        row: dict[str, object] = {
            "function": name,
            "clients": list(CLIENTS.get(name, DEFAULT_CLIENTS)),
            "cpu_median_ms": round(cpu_ms[name], 1),
            "ratio": round(ratio, 2),
            "paired_ratio": paired(name),
            "ratio_to_paused_baseline": round(cpu_ms[name] / base_paused, 2),
            "median_ms": round(wall_ms[name], 1),
            "wall_ratio": round(wall_ms[name] / base_wall, 2),
            "target_ratio": target,
            "met": ratio <= target,
        }
        if tracing:
            row["tracing_cpu_median_ms"] = round(cpu_ms[f"{name}@tracing"], 1)
            row["tracing_ratio"] = round(cpu_ms[f"{name}@tracing"] / base, 2)
        if compare_collector:
            row["collector_running_ratio"] = round(cpu_ms[f"{name}@collector"] / base, 2)
            row["collector_running_paired_ratio"] = paired(f"{name}@collector")
        rows.append(row)
    sources = {name: figure(f"{name}@source") for name, _module in functions(only) if f"{name}@source" in cpu_ms}
    return {
        "runs": runs,
        "floor": {
            name: figure(name)
            for name in ("floor: Powertools resolver with validation, Logger, Metrics", "floor, collector paused")
        },
        "load_average": {"before": round(load_before, 1), "after": round(os.getloadavg()[0], 1)},
        "other_first_requests": {v.name: figure(v.name) for v in extra},
        "from_source": sources,
        "baseline_cpu_ms": round(base, 1),
        "baseline_ms": round(base_wall, 1),
        "baseline_with_s3_cpu_ms": round(cpu_ms["baseline+s3"], 1),
        "baseline_collector_paused_cpu_ms": round(base_paused, 1),
        "public_with_s3_client_cpu_ms": round(cpu_ms["public+download"], 1),
        "public_with_s3_client_ratio": round(cpu_ms["public+download"] / base, 2),
        "functions": rows,
        "cpu_samples_ms": {k: [round(x * 1000, 1) for x in v] for k, v in cpu.items()},
        "wall_samples_ms": {k: [round(x * 1000, 1) for x in v] for k, v in wall.items()},
    }
