"""The route table and the handler modules agree: each function serves exactly its table routes."""

from __future__ import annotations

import importlib

import pytest

from docuserve.routes import ROUTES, Function, match, routes_for


def _served(function: Function) -> set[str]:
    app = importlib.import_module(f"handlers.{function.value}").app
    if hasattr(app, "_static_routes"):  # a Powertools resolver
        return {f"{r.method} {r.openapi_path}" for r in [*app._static_routes, *app._dynamic_routes]}
    return {f"{r.method} {r.template}" for r in app.routes}  # docuserve.lean_api.LeanResolver


@pytest.mark.parametrize("function", list(Function))
def test_each_function_serves_exactly_the_routes_the_table_gives_it(function: Function) -> None:
    listed = {r.key for r in routes_for(function)}
    served = _served(function)
    assert served - listed == set(), "served but missing from docuserve.routes.ROUTES"
    assert listed - served == set(), "listed in ROUTES but no handler serves it"


def test_no_route_is_listed_twice() -> None:
    keys = [r.key for r in ROUTES]
    assert len(keys) == len(set(keys))


def test_only_health_openapi_and_public_share_routes_skip_the_authorizer() -> None:
    public = {r.path for r in ROUTES if r.public}
    assert public <= {"/health", "/openapi.json", "/public/shares/{token}", "/public/shares/{token}/download"}


def test_a_literal_segment_wins_over_a_parameter() -> None:
    found = match("POST", "/documents/x/restore")
    assert found is not None
    assert found[0].path == "/documents/{document_id}/restore"
