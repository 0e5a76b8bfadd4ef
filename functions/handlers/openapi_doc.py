"""The OpenAPI 3 document of the whole API, generated from every function's own resolver."""

from __future__ import annotations

import importlib
import json
from functools import cache
from typing import Any

from docuserve.routes import ROUTES, Function

TITLE = "DocuServe API"
VERSION = "1.0.0"


def _resolver_schema(function: Function) -> dict[str, Any]:
    module = importlib.import_module(f"handlers.{function.value}")
    schema: dict[str, Any] = json.loads(module.app.get_openapi_json_schema(title=TITLE, version=VERSION))
    return schema


@cache
def openapi_document() -> dict[str, Any]:
    """Merge the per-function schemas and mark every non-public route as bearer-protected."""
    document: dict[str, Any] = {
        "openapi": "3.0.3",
        "info": {
            "title": TITLE,
            "version": VERSION,
            "description": "Secure document management and distribution. Errors are "
            '{"code", "message", "fields"?}; validation failures are 422 and name the fields.',
        },
        "paths": {},
        "components": {
            "schemas": {},
            "securitySchemes": {
                "cognito": {"type": "http", "scheme": "bearer", "bearerFormat": "Cognito ID token (JWT)"}
            },
        },
    }
    for function in Function:
        schema = _resolver_schema(function)
        document["paths"].update(schema.get("paths", {}))
        document["components"]["schemas"].update(schema.get("components", {}).get("schemas", {}))
    for route in ROUTES:
        operation = document["paths"].get(route.path, {}).get(route.method.lower())
        if operation is None:
            continue
        if not route.public:
            operation["security"] = [{"cognito": []}]
            operation.setdefault("responses", {})["401"] = {"description": "Missing or invalid token"}
    if not document["components"]["schemas"]:
        del document["components"]["schemas"]
    return document
