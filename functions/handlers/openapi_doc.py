"""The OpenAPI 3 document of the whole API, generated from every function's own resolver."""

from __future__ import annotations

import importlib
import json
from functools import cache
from typing import Any

from docuserve.routes import ROUTES, Function

TITLE = "DocuServe API"
VERSION = "1.0.0"

# Every error body (``docuserve.api.error_response``). API Gateway's own 401/403 bodies carry only
# ``message``, so those answers are documented with the smaller shape both satisfy.
ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "Error",
    "required": ["code", "message"],
    "properties": {
        "code": {"type": "string", "description": "stable, machine-readable"},
        "message": {"type": "string"},
        "fields": {"type": "object", "additionalProperties": {"type": "string"}},
    },
}
GATEWAY_ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "GatewayError",
    "required": ["message"],
    "properties": {"message": {"type": "string"}},
}
ERROR_STATUSES = {
    "403": "Role too low for this object",
    "404": "Unknown, or not visible to the caller",
    "409": "Conflicts with the object's state",
    "413": "Over a size limit",
    "422": "Invalid input; `fields` names each offending field",
    "429": "Throttled or locked out",
}
PUBLIC_ERROR_STATUSES = {"410": "Link expired, revoked or used up"}
# Any operation that takes a body (docuserve.screening): JSON only, as application/json.
BODY_ERROR_STATUSES = {"415": "The body is not JSON sent as `application/json` (any case, any parameters)"}


# OpenAPI links: how an answer's ids feed the next calls (clients and schemathesis' stateful mode
# follow them). (source operation, its status, target operation, {target parameter: expression}).
LINKS: tuple[tuple[str, str, str, dict[str, str]], ...] = (
    ("POST /workspaces", "201", "GET /workspaces/{workspace_id}", {"workspace_id": "$response.body#/id"}),
    ("POST /workspaces", "201", "PATCH /workspaces/{workspace_id}", {"workspace_id": "$response.body#/id"}),
    ("POST /workspaces", "201", "GET /workspaces/{workspace_id}/members", {"workspace_id": "$response.body#/id"}),
    ("POST /workspaces", "201", "POST /workspaces/{workspace_id}/members", {"workspace_id": "$response.body#/id"}),
    ("POST /workspaces", "201", "POST /workspaces/{workspace_id}/documents", {"workspace_id": "$response.body#/id"}),
    ("POST /workspaces", "201", "GET /workspaces/{workspace_id}/documents", {"workspace_id": "$response.body#/id"}),
    ("POST /workspaces", "201", "GET /workspaces/{workspace_id}/links", {"workspace_id": "$response.body#/id"}),
    *(
        ("POST /workspaces/{workspace_id}/documents", "201", target, {"document_id": "$response.body#/document/id"})
        for target in (
            "GET /documents/{document_id}",
            "PATCH /documents/{document_id}",
            "DELETE /documents/{document_id}",
            "POST /documents/{document_id}/restore",
            "POST /documents/{document_id}/versions",
            "GET /documents/{document_id}/download",
            "POST /documents/{document_id}/shares",
            "GET /documents/{document_id}/shares",
        )
    ),
    *(
        ("POST /documents/{document_id}/shares", "201", target, {"share_id": "$response.body#/id"})
        for target in ("GET /shares/{share_id}", "PATCH /shares/{share_id}", "DELETE /shares/{share_id}")
    ),
    ("POST /documents/{document_id}/shares", "201", "GET /public/shares/{token}", {"token": "$response.body#/token"}),
    (
        "POST /documents/{document_id}/shares",
        "201",
        "POST /public/shares/{token}/download",
        {"token": "$response.body#/token"},
    ),
)


def _operation(document: dict[str, Any], ref: str) -> dict[str, Any] | None:
    method, path = ref.split(" ", 1)
    found: dict[str, Any] | None = document["paths"].get(path, {}).get(method.lower())
    return found


def _add_links(document: dict[str, Any]) -> None:
    for source, status, target, parameters in LINKS:
        operation, goal = _operation(document, source), _operation(document, target)
        if operation is None or goal is None or status not in operation.get("responses", {}):
            raise ValueError(f"OpenAPI link {source} {status} -> {target} names an operation that is not documented")
        name = goal["operationId"]
        links = operation["responses"][status].setdefault("links", {})
        links[name] = {"operationId": name, "parameters": parameters}


def _json(ref: str, description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": {"$ref": ref}}}}


def _document_errors(operation: dict[str, Any], *, public: bool) -> None:
    """Describe the error answers with the shapes the API really sends (Powertools' default 422 is not it)."""
    responses = operation.setdefault("responses", {})
    statuses = ERROR_STATUSES | (PUBLIC_ERROR_STATUSES if public else {})
    if "requestBody" in operation:
        statuses |= BODY_ERROR_STATUSES
    for status, description in statuses.items():
        responses[status] = _json("#/components/schemas/Error", description)
    if not public:
        responses["401"] = _json("#/components/schemas/GatewayError", "Missing or invalid token")


def _resolver_schema(function: Function) -> dict[str, Any]:
    module = importlib.import_module(f"handlers.{function.value}")
    schema: dict[str, Any] = json.loads(module.app.get_openapi_json_schema(title=TITLE, version=VERSION))
    return schema


@cache
def openapi_document() -> dict[str, Any]:
    """Merge the per-function schemas and mark every non-public route as bearer-protected."""
    document: dict[str, Any] = {
        "openapi": "3.1.0",  # what Powertools generates (``"type": "null"`` in optional bodies is 3.1)
        "info": {
            "title": TITLE,
            "version": VERSION,
            "description": "Secure document management and distribution. Errors are "
            '{"code", "message", "fields"?}; validation failures are 422 and name the fields; '
            "a body that is not JSON (application/json, UTF-8) is 415; a 204 has no body.",
        },
        "paths": {},
        "components": {
            "schemas": {"Error": ERROR_SCHEMA, "GatewayError": GATEWAY_ERROR_SCHEMA},
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
        _document_errors(operation, public=route.public)
        no_content = operation["responses"].get("204")
        if no_content is not None:
            # A 204 has no body (docuserve.screening removes whatever a resolver serialised).
            operation["responses"]["204"] = {"description": no_content.get("description") or "No Content"}
    for unused in ("HTTPValidationError", "ValidationError"):
        document["components"]["schemas"].pop(unused, None)
    _add_links(document)
    return document
