"""Route groups of the members function, one module per feature (Powertools ``Router``s).

``route_index()`` says which router module serves each route, read from the modules' own route
decorators (``@router.get("/path/<param>")``) without importing them, so the members function can
load only the router a request needs (``handlers.members``). Nothing is listed by hand: a route
added to a router is in the index, and a router module added here is too.
``tests/unit/test_routes.py`` checks the index against the routes each router really registers.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

_HERE = Path(__file__).resolve().parent
# ``@router.get("/workspaces/<workspace_id>")`` (Powertools' ``<param>`` form), any whitespace.
_DECORATOR = re.compile(r"@router\.(get|post|put|patch|delete)\(\s*[\"']([^\"']+)[\"']")
_PARAM = re.compile(r"<(\w+)>")


def router_names() -> tuple[str, ...]:
    """The feature router modules of this package (``_``-prefixed modules are helpers)."""
    return tuple(sorted(p.stem for p in _HERE.glob("*.py") if not p.stem.startswith("_")))


@cache
def route_index() -> dict[str, str]:
    """``"METHOD /path/{param}"`` (as API Gateway names the resource) → router module name."""
    index: dict[str, str] = {}
    for name in router_names():
        source = (_HERE / f"{name}.py").read_text(encoding="utf-8")
        for method, rule in _DECORATOR.findall(source):
            path = _PARAM.sub(r"{\1}", rule)
            index[f"{method.upper()} {path}"] = name
    return index
