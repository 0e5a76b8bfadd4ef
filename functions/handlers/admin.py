"""Routes of the admin function (see `docuserve.routes`)."""

from __future__ import annotations

from docuserve.api import build_resolver
from docuserve.observability import api_entry

app = build_resolver()

handler = api_entry(app.resolve)
