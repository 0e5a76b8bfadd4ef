"""System routes: liveness, the OpenAPI document and the caller's identity. No data access."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from docuserve.api import build_resolver, current_caller
from docuserve.observability import api_entry

app = build_resolver()


class Health(BaseModel):
    status: str


class Me(BaseModel):
    id: str
    email: str
    groups: list[str]


@app.get("/health")
def health() -> Health:
    return Health(status="ok")


@app.get("/openapi.json")
def openapi() -> dict[str, Any]:
    # Imported here: only this route pays for loading every function's routes.
    from handlers.openapi_doc import openapi_document

    return openapi_document()


@app.get("/me")
def me() -> Me:
    caller = current_caller(app)
    return Me(id=caller.user_id, email=caller.email, groups=list(caller.groups))


handler = api_entry(app.resolve)
