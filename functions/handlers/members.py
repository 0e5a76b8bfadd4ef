"""The members function: workspaces, documents, uploads, share management and audit.

Each feature declares its routes on its own router in ``handlers.routers``. A cold start builds the
resolver but includes no router: each request first includes the router of its route (looked up
in ``handlers.routers.route_index()`` by the resource API Gateway matched), so the first request
pays only for its own feature's modules and models (docs/performance.md, "Cold start"). A route
the index does not know includes every router, so a route is never answered 404 for being new.

``app`` (the resolver with every router included) is there for what needs the whole API: the
OpenAPI document and the route-table test.
"""

from __future__ import annotations

import importlib
import threading
from typing import TYPE_CHECKING, Any

from docuserve.api import build_resolver
from docuserve.observability import api_entry
from handlers.routers import route_index, router_names

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import APIGatewayRestResolver
    from aws_lambda_powertools.utilities.typing import LambdaContext

_resolver = build_resolver()
_included: set[str] = set()
_lock = threading.Lock()  # one request at a time in Lambda; tests may call from several threads


def _include(names: tuple[str, ...]) -> None:
    with _lock:
        for name in names:
            if name not in _included:
                module = importlib.import_module(f"handlers.routers.{name}")
                _resolver.include_router(module.router)
                _included.add(name)


def routers_for(event: dict[str, Any]) -> tuple[str, ...]:
    """The router modules a request needs: its route's, or every router for a route not indexed."""
    method = str(event.get("httpMethod") or "").upper()
    resource = event.get("resource")
    if not resource:  # not from API Gateway's proxy integration: find the route from the path
        from docuserve.routes import match  # the route table is only needed here (~1 ms of import)

        found = match(method, str(event.get("path") or ""))
        resource = found[0].path if found else None
    name = route_index().get(f"{method} {resource}")
    return (name,) if name else router_names()


def prepare(event: dict[str, Any]) -> APIGatewayRestResolver:
    """The resolver, with the router ``event`` needs included."""
    _include(routers_for(event))
    return _resolver


def resolve(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return prepare(event).resolve(event, context)


handler = api_entry(resolve)


def __getattr__(name: str) -> Any:
    if name == "app":
        _include(router_names())
        return _resolver
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
