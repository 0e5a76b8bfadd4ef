"""Cold init per function: a fresh interpreter imports the handler module and builds its clients.

Each sample is one new Python process, timed from inside (the interpreter's own start-up is the
same for every variant and is left out). The baseline — ``import boto3; boto3.client("dynamodb")``
— runs interleaved with the functions in the same rounds, so load on the machine hits both alike.

Project code is imported without ``.pyc`` files, as in Lambda: the assets carry no bytecode and
the file system is read-only, so every cold start compiles the function and layer modules.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
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
    "members": ("dynamodb", "s3"),
    "admin": ("dynamodb", "cognito"),
    "public": ("dynamodb",),
    "upload_events": ("dynamodb", "s3"),
}
DEFAULT_CLIENTS = ("dynamodb",)
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


def function_code(module: str, clients: tuple[str, ...]) -> str:
    lines = [f"import {module}"]
    if clients:
        lines.append("from docuserve.adapters import aws")
        lines += [f"aws.{'cognito' if c == 'cognito' else c}()" for c in clients]
    return "\n".join(lines)


def _environment(variant: Variant) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG", "LC_ALL", "TMPDIR"}}
    env = keep | LAMBDA_ENV
    if variant.tracing:
        env |= TRACING_ENV
    else:
        env["POWERTOOLS_TRACE_DISABLED"] = "true"
    if not variant.project_bytecode:
        # Lambda cannot write .pyc next to the read-only asset; site-packages keep theirs.
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def sample(variant: Variant) -> float:
    """Seconds for one cold run of ``variant`` in a new interpreter."""
    program = "import time\n_t = time.perf_counter()\n" + variant.code + "\nprint(repr(time.perf_counter() - _t))\n"
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
    return float(done.stdout.strip().splitlines()[-1])


def _purge_project_bytecode() -> None:
    for folder in (ROOT / "functions", ROOT / "layers" / "domain" / "python"):
        for pyc in folder.rglob("__pycache__/*.pyc"):
            pyc.unlink(missing_ok=True)


def functions() -> list[tuple[str, str]]:
    """(name, handler module) of every deployed function, from the stack's own list."""
    from infra.functions import SPECS

    return [(spec.name, spec.handler.rsplit(".", 1)[0]) for spec in SPECS]


def measure(runs: int = 7, *, tracing: bool = True) -> dict[str, object]:
    """Median cold init per function and the baseline, in milliseconds, with ratios and targets."""
    _purge_project_bytecode()
    variants = [Variant("baseline", BASELINE), Variant("baseline+s3", BASELINE_S3)]
    for name, module in functions():
        clients = CLIENTS.get(name, DEFAULT_CLIENTS)
        variants.append(Variant(name, function_code(module, clients)))
        if tracing:
            variants.append(Variant(f"{name}@tracing", function_code(module, clients), tracing=True))
    variants.append(Variant("public+download", function_code("handlers.public", ("dynamodb", "s3"))))
    for v in variants:  # warm the OS file cache and site-packages bytecode once
        sample(v)
    samples: dict[str, list[float]] = {v.name: [] for v in variants}
    for _ in range(runs):
        for v in variants:
            samples[v.name].append(sample(v))
    median = {k: statistics.median(v) * 1000 for k, v in samples.items()}
    base = median["baseline"]
    rows = []
    for name, _module in functions():
        target = TARGETS.get(name, DEFAULT_TARGET)
        ratio = median[name] / base
        row: dict[str, object] = {
            "function": name,
            "clients": list(CLIENTS.get(name, DEFAULT_CLIENTS)),
            "median_ms": round(median[name], 1),
            "ratio": round(ratio, 2),
            "target_ratio": target,
            "met": ratio <= target,
        }
        if tracing:
            row["tracing_median_ms"] = round(median[f"{name}@tracing"], 1)
            row["tracing_ratio"] = round(median[f"{name}@tracing"] / base, 2)
        rows.append(row)
    return {
        "runs": runs,
        "baseline_ms": round(base, 1),
        "baseline_with_s3_ms": round(median["baseline+s3"], 1),
        "public_with_s3_client_ms": round(median["public+download"], 1),
        "public_with_s3_client_ratio": round(median["public+download"] / base, 2),
        "functions": rows,
        "samples_ms": {k: [round(x * 1000, 1) for x in v] for k, v in samples.items()},
    }
