"""Schemathesis against the local stack's own ``/openapi.json``: generated requests to every
operation, signed in and anonymous. No answer may be a 5xx, and every answer must match the
documented status codes and response schemas (SPEC security promise 10).

The signed-in caller is a workspace owner (and admin) with a real document, link, pending upload
and second member, built fresh for each operation: about half of the generated cases get those
real ids as their path parameters, so they reach the rules behind the 404s; anonymous cases get
the real link token the same way. Bounded for ``make test`` (``FUZZ_EXAMPLES``, default 8 per
operation and caller; derandomized); ``make fuzz`` runs the same test with many more examples.
"""

from __future__ import annotations

import base64
import hashlib
import os
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import checks

from docuserve.routes import ROUTES, Route
from tests.e2e.client import LocalStack

# An upload still on its way: sent, verified, or waiting for its malware scan.
UNSETTLED = ("pending", "completing", "scanning")
pytestmark = pytest.mark.e2e

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "8"))
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
]


@dataclass(frozen=True)
class OwnerWorld:
    headers: dict[str, str]  # the owner's Authorization header
    params: dict[str, str]  # a real value for every path parameter of the route table


def _sha(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def _ok(reply: requests.Response, status: int = 200) -> Any:
    assert reply.status_code == status, reply.text
    return reply.json()


@pytest.fixture(scope="session")
def fuzz_owner(local_stack: LocalStack) -> tuple[str, dict[str, str]]:
    """A fresh owner-to-be (in the admins group) and a fresh user to add as their member."""
    owner = local_stack.create_user(groups=("admins",))
    member = local_stack.create_user()
    return local_stack.sign_in_user(owner), {"id": member.sub, "email": member.email}


@pytest.fixture
def owner_world(local_stack: LocalStack, fuzz_owner: tuple[str, dict[str, str]]) -> OwnerWorld:
    """A workspace with an available document, a pending upload, a link and a member (fresh per test)."""
    token, member = fuzz_owner
    ws = _ok(local_stack.api("POST", "/workspaces", token=token, json={"name": "fuzz"}), 201)["id"]
    added = local_stack.api(
        "POST", f"/workspaces/{ws}/members", token=token, json={"email": member["email"], "role": "viewer"}
    )
    assert added.status_code in (200, 201), added.text
    content = b"%PDF-1.7 fuzz"
    body = {"name": "fuzz.pdf", "content_type": "application/pdf", "size": len(content), "sha256": _sha(content)}
    created = _ok(local_stack.api("POST", f"/workspaces/{ws}/documents", token=token, json=body), 201)
    upload = created["upload"]
    assert requests.put(upload["url"], data=content, headers=upload["headers"], timeout=30).status_code == 200
    document_id = created["document"]["id"]
    deadline = time.monotonic() + 60
    while _ok(local_stack.api("GET", f"/uploads/{upload['upload_id']}", token=token))["status"] in UNSETTLED:
        assert time.monotonic() < deadline, local_stack.log()[-3000:]
        time.sleep(0.1)
    big = {"size": 200 * 1024 * 1024, "sha256": _sha(b"big")}
    pending = _ok(local_stack.api("POST", f"/documents/{document_id}/versions", token=token, json=big), 201)
    share = _ok(local_stack.api("POST", f"/documents/{document_id}/shares", token=token, json={}), 201)
    params = {
        "workspace_id": ws,
        "document_id": document_id,
        "upload_id": pending["upload_id"],
        "share_id": share["id"],
        "token": share["token"],
        "user_id": member["id"],
    }
    return OwnerWorld(headers={"Authorization": f"Bearer {token}"}, params=params)


@pytest.fixture(scope="session")
def api_schema(local_stack: LocalStack) -> Any:
    document = requests.get(f"{local_stack.api_url}/openapi.json", timeout=30).json()
    return schemathesis.openapi.from_dict(document)


def _session() -> requests.Session:
    session = requests.Session()
    session.headers["User-Agent"] = "docuserve-fuzz"
    return session


def _fuzz(operation: Any, base_url: str, headers: dict[str, str] | None, examples: int, real: dict[str, str]) -> int:
    """Run the cases; return how many ran."""
    session = _session()
    ran = 0

    @given(case=operation.as_strategy(), use_real_ids=st.booleans())
    @settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=os.environ.get("FUZZ_RANDOM") is None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
    )
    def run(case: Any, use_real_ids: bool) -> None:
        nonlocal ran
        ran += 1
        if use_real_ids and case.path_parameters:
            case.path_parameters = {k: real.get(k, v) for k, v in case.path_parameters.items()}
        case.call_and_validate(base_url=base_url, headers=headers, checks=CHECKS, session=session)

    run()
    return ran


@pytest.mark.parametrize("route", ROUTES, ids=[r.key for r in ROUTES])
def test_signed_in_requests_never_fail_the_server_and_match_the_schema(
    route: Route, api_schema: Any, local_stack: LocalStack, owner_world: OwnerWorld
) -> None:
    operation = api_schema[route.path][route.method]
    ran = _fuzz(operation, local_stack.api_url, owner_world.headers, EXAMPLES, owner_world.params)
    print(f"schemathesis cases for {route.key} as owner: {ran}")


@pytest.mark.parametrize("route", ROUTES, ids=[r.key for r in ROUTES])
def test_anonymous_requests_never_fail_the_server_and_match_the_schema(
    route: Route, api_schema: Any, local_stack: LocalStack, fuzz_owner: tuple[str, dict[str, str]]
) -> None:
    # Real ids only where they are anyone's to know: the public routes' link token.
    real = {"token": _public_token(local_stack, fuzz_owner)} if route.public else {}
    ran = _fuzz(api_schema[route.path][route.method], local_stack.api_url, None, max(2, EXAMPLES // 2), real)
    print(f"schemathesis cases for {route.key} anonymous: {ran}")


_PUBLIC_TOKEN: dict[str, str] = {}


def _public_token(local_stack: LocalStack, fuzz_owner: tuple[str, dict[str, str]]) -> str:
    """One link (with a password) shared by the anonymous cases; made on first use."""
    if "token" not in _PUBLIC_TOKEN:
        token, _ = fuzz_owner
        ws = _ok(local_stack.api("POST", "/workspaces", token=token, json={"name": "fuzz public"}), 201)["id"]
        content = b"%PDF-1.7 public"
        body = {"name": "p.pdf", "content_type": "application/pdf", "size": len(content), "sha256": _sha(content)}
        created = _ok(local_stack.api("POST", f"/workspaces/{ws}/documents", token=token, json=body), 201)
        upload = created["upload"]
        assert requests.put(upload["url"], data=content, headers=upload["headers"], timeout=30).status_code == 200
        deadline = time.monotonic() + 60
        while _ok(local_stack.api("GET", f"/uploads/{upload['upload_id']}", token=token))["status"] in UNSETTLED:
            assert time.monotonic() < deadline, local_stack.log()[-3000:]
            time.sleep(0.1)
        link = {"password": "fuzz password 1"}
        share = local_stack.api("POST", f"/documents/{created['document']['id']}/shares", token=token, json=link)
        _PUBLIC_TOKEN["token"] = _ok(share, 201)["token"]
    return _PUBLIC_TOKEN["token"]


STATEFUL_STEPS: list[int] = []


def test_stateful_call_sequences_as_an_owner_never_fail_the_server(
    api_schema: Any, local_stack: LocalStack, owner_world: OwnerWorld
) -> None:
    """Schemathesis' stateful mode: chains of calls that pass ids from one answer to the next.

    ``/openapi.json`` declares OpenAPI links (``handlers/openapi_doc.LINKS``): ``POST /workspaces``
    → ``id`` → ``/workspaces/{workspace_id}/documents`` → ``document.id`` → ``/documents/{document_id}``
    and its shares → ``id``/``token`` → ``/shares/{share_id}``, ``/public/shares/{token}``.
    Each step is checked for no 5xx, documented status code and content type.
    """
    session = _session()

    class OwnerMachine(api_schema.as_state_machine()):  # type: ignore[misc]
        def before_call(self, case: Any) -> None:
            # The owner's token wins over any Authorization header the generator made up.
            case.headers = {k: v for k, v in (case.headers or {}).items() if k.lower() != "authorization"}
            case.headers.update(owner_world.headers)

        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"base_url": local_stack.api_url, "headers": owner_world.headers, "session": session}

        def validate_response(self, response: Any, case: Any, additional_checks: Any = None, **kwargs: Any) -> None:
            STATEFUL_STEPS.append(response.status_code)
            case.validate_response(
                response,
                checks=[checks.not_a_server_error, checks.status_code_conformance, checks.content_type_conformance],
                headers=owner_world.headers,
            )

    OwnerMachine.run(
        settings=settings(
            max_examples=max(4, EXAMPLES),
            stateful_step_count=6,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=os.environ.get("FUZZ_RANDOM") is None,
            database=None,
        )
    )
    statuses = dict(sorted(Counter(STATEFUL_STEPS).items()))
    print(f"stateful steps: {len(STATEFUL_STEPS)}, by status: {statuses}")
    assert STATEFUL_STEPS, "the state machine ran no step: no links were inferred"
