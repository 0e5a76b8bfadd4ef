"""The domain layer's boundaries, read from the source.

- Logic returns records; only the edges (``docuserve.models``, the HTTP helpers and the routers)
  know Pydantic, so no domain module imports it or the API models.
- Every feature's storage layout is in one place: keys are built in ``docuserve.keys`` only, so no
  other module spells a key prefix such as ``"DOC#"``.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "layers" / "domain" / "python" / "docuserve"
# The edges: the API models themselves, and the adapters between Powertools' resolver and the domain.
EDGES = {"models", "api.py", "lean_api.py", "schema.py", "routes.py"}
KEY_PREFIX = re.compile(r"^[A-Z][A-Z_]*#")


def _domain_modules() -> list[Path]:
    modules = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE)
        if relative.parts[0] in EDGES:
            continue
        modules.append(path)
    return modules


def _imports(tree: ast.AST) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_the_domain_layer_is_found() -> None:
    names = {p.relative_to(PACKAGE).as_posix() for p in _domain_modules()}
    assert {"uploads.py", "processing.py", "sharing/manage.py", "workspaces.py"} <= names
    assert any(n.startswith("documents") for n in names)


def test_no_domain_module_imports_pydantic_or_the_api_models() -> None:
    offenders = {}
    for path in _domain_modules():
        imported = _imports(ast.parse(path.read_text(), str(path)))
        bad = sorted(n for n in imported if n.split(".")[0] == "pydantic" or n.startswith("docuserve.models"))
        if bad:
            offenders[path.relative_to(PACKAGE).as_posix()] = bad
    assert offenders == {}, offenders


def test_keys_are_spelled_only_in_the_keys_module() -> None:
    offenders: set[str] = set()
    for path in [*_domain_modules(), *(ROOT / "functions" / "handlers").rglob("*.py")]:
        if path.name == "keys.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            literal = None
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                literal = node.value
            elif isinstance(node, ast.JoinedStr) and node.values and isinstance(node.values[0], ast.Constant):
                literal = str(node.values[0].value)
            if literal is not None and KEY_PREFIX.match(literal):
                offenders.add(f"{path.relative_to(ROOT)}:{node.lineno}: {literal!r}")
    assert sorted(offenders) == [], offenders
