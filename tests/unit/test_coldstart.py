"""In Lambda, a cold start runs without the cyclic garbage collector (docuserve.coldstart).

Each case runs a fresh interpreter (the collector's state is process-wide): the function's
environment, the handler module imported as Lambda imports it, then its first invocation.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from docuserve import coldstart

ROOT = Path(__file__).resolve().parents[2]

# Imports a handler module, invokes the system function's /health once, and reports the collector's
# state at each step as JSON.
PROGRAM = r"""
import gc, json, sys
steps = {"before": gc.isenabled()}
import handlers.system
steps["after_import"] = gc.isenabled()
steps["frozen_after_import"] = gc.get_freeze_count()
event = {"httpMethod": "GET", "resource": "/health", "path": "/health", "headers": {},
         "requestContext": {"requestId": "r-1", "resourcePath": "/health", "httpMethod": "GET"}}

class Context:
    function_name = "docuserve-unit-system"; memory_limit_in_mb = 256; aws_request_id = "r-1"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:docuserve-unit-system"

answer = handlers.system.handler(event, Context())
steps["status"] = answer["statusCode"]
steps["after_first_invocation"] = gc.isenabled()
steps["frozen_after_first_invocation"] = gc.get_freeze_count()
handlers.system.handler(event, Context())
steps["after_second_invocation"] = gc.isenabled()
print(json.dumps(steps))
"""


def _run(function_name: str | None) -> dict[str, object]:
    env = {k: v for k, v in os.environ.items() if k != "AWS_LAMBDA_FUNCTION_NAME"}
    env |= {
        "PYTHONPATH": f"{ROOT / 'functions'}{os.pathsep}{ROOT / 'layers' / 'domain' / 'python'}",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "AWS_ACCESS_KEY_ID": "unit",
        "AWS_SECRET_ACCESS_KEY": "unit",
    }
    if function_name is not None:
        env["AWS_LAMBDA_FUNCTION_NAME"] = function_name
    done = subprocess.run(
        [sys.executable, "-c", PROGRAM], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    steps: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return steps


def test_in_lambda_the_collector_is_paused_from_the_first_import_until_the_first_answer() -> None:
    steps = _run("docuserve-unit-system")
    assert steps["before"] is True
    assert steps["after_import"] is False
    assert steps["status"] == 200
    assert steps["after_first_invocation"] is True
    assert steps["after_second_invocation"] is True


def test_what_the_cold_start_built_is_frozen_so_later_collections_skip_it() -> None:
    steps = _run("docuserve-unit-system")
    assert steps["frozen_after_import"] == 0
    assert isinstance(steps["frozen_after_first_invocation"], int)
    assert steps["frozen_after_first_invocation"] > 10_000  # modules, classes, botocore's models


def test_outside_lambda_the_collector_is_never_touched() -> None:
    steps = _run(None)
    assert steps["after_import"] is True
    assert steps["frozen_after_first_invocation"] == 0


def test_an_empty_function_name_is_not_lambda() -> None:
    assert coldstart.in_lambda({"AWS_LAMBDA_FUNCTION_NAME": "docuserve-dev-members"})
    assert not coldstart.in_lambda({"AWS_LAMBDA_FUNCTION_NAME": ""})
    assert not coldstart.in_lambda({})


@pytest.mark.parametrize(
    "module",
    [
        "members",
        "admin",
        "public",
        "partner_uploads",
        "system",
        "upload_events",
        "upload_jobs",
        "audit_stream",
        "trash_sweeper",
        "audit_checkpoints",
    ],
)
def test_every_function_resumes_the_collector_after_its_first_invocation(module: str) -> None:
    # Every entry module wraps its handler with docuserve.observability's api_entry or event_entry,
    # which resume the collector; this checks each handler is that wrapper when the collector is paused.
    program = (
        "import gc, json, handlers." + module + " as m\nprint(json.dumps([gc.isenabled(), m.handler.__qualname__]))\n"
    )
    env = dict(os.environ) | {
        "AWS_LAMBDA_FUNCTION_NAME": f"docuserve-unit-{module}",
        "PYTHONPATH": f"{ROOT / 'functions'}{os.pathsep}{ROOT / 'layers' / 'domain' / 'python'}",
        "POWERTOOLS_TRACE_DISABLED": "true",
    }
    done = subprocess.run(
        [sys.executable, "-c", program], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    enabled, qualname = json.loads(done.stdout.strip().splitlines()[-1])
    assert enabled is False
    assert qualname == "_ending_cold_start.<locals>.entry"


def test_an_event_function_resumes_the_collector_as_its_first_invocation_starts() -> None:
    # An event function's invocation may last minutes (upload_jobs: 15): it must not run uncollected.
    program = (
        "import gc, json, handlers\n"
        "from docuserve.observability import event_entry\n"
        "seen = []\n"
        "handler = event_entry(lambda event, context: seen.append([gc.isenabled(), gc.get_freeze_count()]))\n"
        "class Context:\n"
        "    function_name = 'docuserve-unit-jobs'; memory_limit_in_mb = 256; aws_request_id = 'r-1'\n"
        "    invoked_function_arn = 'arn:aws:lambda:us-east-1:123456789012:function:docuserve-unit-jobs'\n"
        "paused = not gc.isenabled()\n"
        "handler({}, Context())\n"
        "print(json.dumps([paused, *seen[0]]))\n"
    )
    env = dict(os.environ) | {
        "AWS_LAMBDA_FUNCTION_NAME": "docuserve-unit-jobs",
        "PYTHONPATH": f"{ROOT / 'functions'}{os.pathsep}{ROOT / 'layers' / 'domain' / 'python'}",
        "POWERTOOLS_TRACE_DISABLED": "true",
    }
    done = subprocess.run(
        [sys.executable, "-c", program], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    paused, enabled_inside, frozen_inside = json.loads(done.stdout.strip().splitlines()[-1])
    assert paused is True
    assert enabled_inside is True
    assert frozen_inside > 10_000
