"""Schemathesis against the local stack's own ``/openapi.json``: generated requests to every
operation, signed in and anonymous. No answer may be a 5xx, and every answer must match the
documented status codes and response schemas (SPEC security promise 10).

Bounded for ``make test`` (``FUZZ_EXAMPLES``, default 8 per operation and caller); ``make fuzz``
runs the same test with many more examples.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import checks

from docuserve.routes import ROUTES, Route
from tests.e2e.client import LocalStack

pytestmark = pytest.mark.e2e

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "8"))
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
]


@pytest.fixture(scope="session")
def fuzz_caller(local_stack: LocalStack) -> dict[str, str]:
    """A fresh member (no workspaces of the demo's), signed in: ``Authorization`` header."""
    user = local_stack.create_user()
    return {"Authorization": f"Bearer {local_stack.sign_in_user(user)}"}


@pytest.fixture(scope="session")
def api_schema(local_stack: LocalStack) -> Any:
    document = requests.get(f"{local_stack.api_url}/openapi.json", timeout=30).json()
    return schemathesis.openapi.from_dict(document)


def _session() -> requests.Session:
    session = requests.Session()
    session.headers["User-Agent"] = "docuserve-fuzz"
    return session


def _fuzz(operation: Any, base_url: str, headers: dict[str, str] | None, examples: int) -> None:
    session = _session()

    @given(case=operation.as_strategy())
    @settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=os.environ.get("FUZZ_RANDOM") is None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
    )
    def run(case: Any) -> None:
        case.call_and_validate(base_url=base_url, headers=headers, checks=CHECKS, session=session)

    run()


@pytest.mark.parametrize("route", ROUTES, ids=[r.key for r in ROUTES])
def test_signed_in_requests_never_fail_the_server_and_match_the_schema(
    route: Route, api_schema: Any, local_stack: LocalStack, fuzz_caller: dict[str, str]
) -> None:
    _fuzz(api_schema[route.path][route.method], local_stack.api_url, fuzz_caller, EXAMPLES)


@pytest.mark.parametrize("route", ROUTES, ids=[r.key for r in ROUTES])
def test_anonymous_requests_never_fail_the_server_and_match_the_schema(
    route: Route, api_schema: Any, local_stack: LocalStack
) -> None:
    _fuzz(api_schema[route.path][route.method], local_stack.api_url, None, max(2, EXAMPLES // 2))
