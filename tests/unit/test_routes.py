"""The route table and the handler modules agree: each function serves exactly its table routes."""

from __future__ import annotations

import importlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

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


def test_upload_request_routes_are_the_partner_uploads_functions_and_share_routes_the_public_ones() -> None:
    # Least privilege on the partner side: the function every share link hits holds no upload write.
    partner = {r.key for r in ROUTES if r.path.startswith("/public/requests/")}
    assert partner == {r.key for r in routes_for(Function.PARTNER_UPLOADS)}
    assert not [r for r in routes_for(Function.PUBLIC) if r.path.startswith("/public/requests/")]


def test_no_route_is_listed_twice() -> None:
    keys = [r.key for r in ROUTES]
    assert len(keys) == len(set(keys))


def test_only_health_openapi_and_public_share_routes_skip_the_authorizer() -> None:
    public = {r.path for r in ROUTES if r.public}
    assert public <= {
        "/health",
        "/openapi.json",
        "/public/shares/{token}",
        "/public/shares/{token}/verify",
        "/public/shares/{token}/verify/confirm",
        "/public/shares/{token}/download",
        "/public/shares/{token}/manifest",
        "/public/keys",
        "/public/requests/{token}",
        "/public/requests/{token}/verify",
        "/public/requests/{token}/verify/confirm",
        "/public/requests/{token}/uploads",
        "/public/requests/{token}/uploads/{upload_id}",
        "/public/requests/{token}/uploads/{upload_id}/parts",
        "/public/requests/{token}/uploads/{upload_id}/complete",
    }


def test_a_literal_segment_wins_over_a_parameter() -> None:
    found = match("POST", "/documents/x/restore")
    assert found is not None
    assert found[0].path == "/documents/{document_id}/restore"


# The members function includes routers lazily (handlers.members): which router serves a route is
# read from the routers' source by handlers.routers.route_index(). These tests keep that honest.


def _registered(router_module: str) -> set[str]:
    """What a router really registers, as ``"METHOD /path/{param}"``."""
    router = importlib.import_module(f"handlers.routers.{router_module}").router
    keys = set()
    for rule, methods, *_ in router._routes:
        path = re.sub(r"<(\w+)>", r"{\1}", rule)
        keys |= {f"{m.upper()} {path}" for m in methods}
    return keys


def test_the_route_index_names_exactly_the_routes_each_router_registers() -> None:
    from handlers.routers import route_index, router_names

    index = route_index()
    for name in router_names():
        indexed = {key for key, owner in index.items() if owner == name}
        registered = _registered(name)
        assert registered - indexed == set(), (
            f"handlers.routers.{name} registers routes route_index() does not see: declare them with "
            f'@router.<method>("/path") so the members function can load them lazily'
        )
        assert indexed - registered == set(), f"route_index() lists routes handlers.routers.{name} does not register"


def test_every_members_route_of_the_table_is_indexed_to_one_router() -> None:
    from handlers.routers import route_index

    missing = {r.key for r in routes_for(Function.MEMBERS)} - set(route_index())
    assert missing == set(), "members routes no router declares (they would load every router)"


def test_a_request_for_a_route_outside_the_index_includes_every_router() -> None:
    from handlers import members
    from handlers.routers import router_names

    assert members.routers_for({"httpMethod": "GET", "resource": "/not/indexed"}) == router_names()
    assert members.routers_for({"httpMethod": "GET", "resource": "/workspaces"}) == ("workspaces",)
    # Without API Gateway's resource (a direct invocation), the path is matched against the table.
    assert members.routers_for({"httpMethod": "GET", "path": "/shares/s1/activity"}) == ("shares",)


def test_a_cold_members_function_imports_only_the_router_of_its_first_request() -> None:
    # A fresh interpreter: this test process has imported every router already.
    program = (
        "import json, sys\n"
        "import handlers.members as m\n"
        "before = sorted(n for n in sys.modules if n.startswith('handlers.routers.'))\n"
        "m.prepare({'httpMethod': 'GET', 'resource': '/workspaces'})\n"
        "after = sorted(n for n in sys.modules if n.startswith('handlers.routers.'))\n"
        "served = sorted(r.openapi_path for r in m._resolver._static_routes + m._resolver._dynamic_routes)\n"
        "print(json.dumps([before, after, served]))\n"
    )
    root = Path(__file__).resolve().parents[2]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(root / "functions"), str(root / "layers/domain/python")]))
    done = subprocess.run([sys.executable, "-c", program], env=env, capture_output=True, text=True, check=True)
    before, after, served = json.loads(done.stdout)
    assert before == []
    assert after == ["handlers.routers._params", "handlers.routers.workspaces"]
    assert "/workspaces" in served
    assert not any(p.startswith(("/documents", "/shares", "/uploads")) for p in served)
