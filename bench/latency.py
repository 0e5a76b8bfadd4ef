"""Warm in-process latency per route against moto: the handler invoked as API Gateway would, after
warm-up, so imports and client creation are excluded. For catching regressions; no target.

Routes come from ``docuserve.routes.ROUTES``. A route is measured when it is safe to repeat (reads,
creations, idempotent edits); destructive ones (deletes, revoke, disable) are listed as skipped.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

from bench.scenarios import PASSWORD, World, _body
from docuserve.routes import ROUTES, Route
from tests.support.gateway import call

WARMUP = 3
SKIP_METHODS = {"DELETE"}
SKIP_SUFFIXES = ("/disable", "/enable", "/complete", "/restore")


def _params(w: World, admin_claims: dict[str, str]) -> dict[str, str]:
    return {
        "workspace_id": w.workspace_id,
        "document_id": w.document_id,
        "share_id": w.share_id,
        "token": w.token_open,
        "user_id": w.owner.id,
        "email": w.owner.email,
        "upload_id": w.upload_id or "none",
    }


def _bodies(w: World) -> dict[str, Callable[[int], Any]]:
    return {
        "POST /workspaces": lambda n: {"name": f"bench {n}"},
        "PATCH /workspaces/{workspace_id}": lambda n: {"description": f"edit {n}"},
        "POST /workspaces/{workspace_id}/members": lambda n: {"email": w.owner.email, "role": "owner"},
        "PUT /workspaces/{workspace_id}/members/{user_id}": lambda n: {"role": "owner"},
        "POST /workspaces/{workspace_id}/documents": lambda n: _body(b"x" * (n + 1)),
        "PATCH /documents/{document_id}": lambda n: {"description": f"edit {n}"},
        "POST /documents/{document_id}/versions": lambda n: {
            k: v for k, v in _body(b"y" * (n + 1)).items() if k in ("size", "sha256")
        },
        "POST /documents/{document_id}/shares": lambda n: {"expires_in_days": 7},
        "PATCH /shares/{share_id}": lambda n: {"label": f"label {n}"},
        "POST /uploads/{upload_id}/parts": lambda n: {"part_numbers": [1]},
        "POST /public/shares/{token}/download": lambda n: {},
    }


def _path(route: Route, params: dict[str, str]) -> str:
    path = route.path
    for name, value in params.items():
        path = path.replace("{" + name + "}", value)
    return path


def measure(w: World, admin_claims: dict[str, str], iterations: int = 30) -> dict[str, Any]:
    params = _params(w, admin_claims)
    bodies = _bodies(w)
    rows: list[dict[str, Any]] = []
    skipped: list[str] = []
    for route in ROUTES:
        if route.method in SKIP_METHODS or route.path.endswith(SKIP_SUFFIXES):
            skipped.append(route.key)
            continue
        if route.method in ("POST", "PATCH", "PUT") and route.key not in bodies:
            skipped.append(route.key)
            continue
        claims = None if route.public else (admin_claims if route.path.startswith("/admin") else w.owner.claims)
        path = _path(route, params)
        make_body = bodies.get(route.key)
        samples: list[float] = []
        status: set[int] = set()
        for n in range(WARMUP + iterations):
            body = make_body(n) if make_body else None
            start = time.perf_counter()
            reply = call(route.method, path, claims=claims, body=body)
            elapsed = time.perf_counter() - start
            status.add(reply.status)
            if n >= WARMUP:
                samples.append(elapsed * 1000)
        samples.sort()
        rows.append(
            {
                "route": route.key,
                "function": route.function.value,
                "status": sorted(status),
                "p50_ms": round(statistics.median(samples), 2),
                "p99_ms": round(samples[min(len(samples) - 1, int(len(samples) * 0.99))], 2),
                "n": len(samples),
            }
        )
    password_samples = []
    for _ in range(5):
        start = time.perf_counter()
        call("POST", f"/public/shares/{w.token_password}/download", body={"password": PASSWORD})
        password_samples.append((time.perf_counter() - start) * 1000)
    return {
        "iterations": iterations,
        "routes": rows,
        "skipped": skipped,
        "password_redemption_p50_ms": round(statistics.median(password_samples), 1),
    }
