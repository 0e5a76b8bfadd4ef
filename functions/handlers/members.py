"""The members function: workspaces, documents, uploads, share management and audit.

Each feature declares its routes on its own router in ``handlers.routers``; this module only
assembles them into the one resolver API Gateway invokes.
"""

from __future__ import annotations

from docuserve.api import build_resolver
from docuserve.observability import api_entry
from handlers.routers import audit, documents, shares, uploads, workspaces

app = build_resolver()
for module in (workspaces, documents, uploads, shares, audit):
    app.include_router(module.router)

handler = api_entry(app.resolve)
