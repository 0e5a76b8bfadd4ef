"""A small REST resolver for the partner-facing function, where cold start is the partner's wait.

Powertools' event handler with Pydantic validation costs about as much to import as boto3 itself
(see docs/performance.md); the public function has two routes and one optional one-field body, so
it routes and validates by hand here and answers exactly as ``docuserve.api.build_resolver`` would:
the same error shape and codes, the same security headers, 422 naming the offending fields.

The OpenAPI document still describes these routes with their Pydantic models: each route names
its models as ``"module:Class"`` strings, and ``get_openapi_json_schema`` (called only by the
system function that serves ``/openapi.json``) builds an equivalent Powertools resolver from them.
Nothing here logs a route argument: the public function's path carries the share token.
"""

from __future__ import annotations

import base64
import binascii
import importlib
import inspect
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from docuserve.errors import DomainError, Throttled, busy

logger = logging.getLogger("docuserve.lean_api")

JSON = "application/json"
# Must equal docuserve.api.SECURITY_HEADERS (tests/unit/test_lean_api.py checks it).
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}

Endpoint = Callable[..., Any]


class Invalid(Exception):
    """Request validation failed: ``fields`` maps each offending field to a message."""

    def __init__(self, fields: dict[str, str]) -> None:
        super().__init__("invalid request")
        self.fields = fields


@dataclass(frozen=True)
class Answer:
    """An endpoint's answer with a status other than its route's (a bundle's 202 'preparing')."""

    status: int
    body: Any
    headers: dict[str, str] | None = None


@dataclass(frozen=True)
class LeanRoute:
    method: str
    rule: str  # Powertools style: /public/shares/<token>
    endpoint: Endpoint
    body: str | None = None  # "module:Model" documented as the (optional) JSON body
    response: str | None = None  # "module:Model" documented as the answer
    status: int = 200  # the success status (202 for a request accepted without saying what it did)
    body_required: bool = False  # documented as required (the endpoint refuses an empty body itself)
    # Further success answers the endpoint may give: {status: ("module:Model", description)}.
    also: dict[int, tuple[str, str]] = field(default_factory=dict)

    @property
    def template(self) -> str:
        """API Gateway's resource template: /public/shares/{token}."""
        return self.rule.replace("<", "{").replace(">", "}")


def response(status: int, body: Any) -> dict[str, Any]:
    """An API Gateway REST proxy answer with a compact JSON body and the security headers."""
    return {
        "statusCode": status,
        "headers": {"Content-Type": JSON, **SECURITY_HEADERS},
        "body": "" if status == 204 else json.dumps(body, separators=(",", ":")),  # as Powertools serializes
        "isBase64Encoded": False,
    }


def error(
    status: int, code: str, message: str, fields: dict[str, str] | None = None, details: dict[str, Any] | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "message": message}
    if fields:
        body["fields"] = fields
    if details:
        body["details"] = details
    return response(status, body)


def _import(ref: str) -> Any:
    module, _, name = ref.partition(":")
    return getattr(importlib.import_module(module), name)


class LeanResolver:
    """Routes API Gateway REST events to plain functions that take path parameters and return JSON."""

    def __init__(self) -> None:
        self.routes: list[LeanRoute] = []
        self.current_event: dict[str, Any] = {}

    def route(
        self,
        method: str,
        rule: str,
        *,
        body: str | None = None,
        response: str | None = None,
        status: int = 200,
        body_required: bool = False,
        also: dict[int, tuple[str, str]] | None = None,
    ) -> Callable[[Endpoint], Endpoint]:
        def register(endpoint: Endpoint) -> Endpoint:
            self.routes.append(
                LeanRoute(method.upper(), rule, endpoint, body, response, status, body_required, dict(also or {}))
            )
            return endpoint

        return register

    def get(self, rule: str, *, response: str | None = None) -> Callable[[Endpoint], Endpoint]:
        return self.route("GET", rule, response=response)

    def post(
        self,
        rule: str,
        *,
        body: str | None = None,
        response: str | None = None,
        status: int = 200,
        body_required: bool = False,
        also: dict[int, tuple[str, str]] | None = None,
    ) -> Callable[[Endpoint], Endpoint]:
        return self.route(
            "POST", rule, body=body, response=response, status=status, body_required=body_required, also=also
        )

    # --- request helpers for endpoints ------------------------------------------------------------

    def json_body(self) -> Any:
        """The JSON body (None when empty); undecodable bytes or invalid JSON are a 422 on ``body``."""
        raw = self.current_event.get("body")
        if raw is None or raw == "":
            return None
        try:
            text = base64.b64decode(raw).decode("utf-8") if self.current_event.get("isBase64Encoded") else raw
        except (binascii.Error, UnicodeDecodeError):
            raise Invalid({"body": "not UTF-8 JSON"}) from None
        try:
            return json.loads(text)
        except ValueError:
            raise Invalid({"body": "JSON decode error"}) from None

    def header(self, name: str) -> str | None:
        """A request header, case-insensitively."""
        wanted = name.lower()
        for key, value in (self.current_event.get("headers") or {}).items():
            if key.lower() == wanted:
                return str(value)
        return None

    def source_ip(self) -> str | None:
        identity = (self.current_event.get("requestContext") or {}).get("identity") or {}
        ip = identity.get("sourceIp")
        return str(ip) if ip else None

    # --- dispatch ---------------------------------------------------------------------------------

    def _find(self, method: str, resource: str) -> LeanRoute | None:
        return next((r for r in self.routes if r.method == method and r.template == resource), None)

    def resolve(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        self.current_event = event
        try:
            route = self._find(str(event.get("httpMethod", "")).upper(), str(event.get("resource", "")))
            if route is None:
                return error(404, "not_found", "no such route")
            params = {k: str(v) for k, v in (event.get("pathParameters") or {}).items()}
            result = route.endpoint(**params)
            if isinstance(result, Answer):
                answer = response(result.status, result.body)
                answer["headers"].update(result.headers or {})
                return answer
            return response(route.status, result)
        except Invalid as exc:
            names = ", ".join(sorted(exc.fields))
            return error(422, "validation_error", f"invalid request: {names}", exc.fields)
        except DomainError as exc:
            answer = error(exc.status, exc.code, exc.message, exc.fields, exc.details)
            if isinstance(exc, Throttled) and exc.retry_after:
                answer["headers"]["Retry-After"] = str(exc.retry_after)
            return answer
        except Exception as exc:
            if (throttled := busy(exc)) is not None:
                logger.warning("AWS throttled the request past the SDK's retries", extra={"error": str(exc)})
                answer = error(throttled.status, throttled.code, throttled.message)
                answer["headers"]["Retry-After"] = str(throttled.retry_after)
                return answer
            logger.exception("unhandled error")
            return error(500, "internal_error", "internal error; quote the request id to support")
        finally:
            self.current_event = {}

    # --- documentation ----------------------------------------------------------------------------

    def documented(self) -> Any:
        """An equivalent Powertools resolver, for the OpenAPI document only (never serves requests)."""
        from typing import Annotated

        from aws_lambda_powertools.event_handler.openapi.params import Body

        from docuserve.api import build_resolver

        twin = build_resolver()
        for route in self.routes:
            parameters = [
                inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=str)
                for name in inspect.signature(route.endpoint).parameters
            ]
            if route.body:
                model = _import(route.body)
                parameters.append(
                    inspect.Parameter(
                        "body", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Annotated[model, Body()]
                    )
                    if route.body_required
                    else inspect.Parameter(
                        "body",
                        inspect.Parameter.POSITIONAL_OR_KEYWORD,
                        default=None,
                        annotation=Annotated[model | None, Body()],
                    )
                )
            returns = _import(route.response) if route.response else inspect.Signature.empty
            # A route that answers another success status documents its model under that status.
            responses: dict[int, Any] | None = None
            if route.status != 200 and route.response:
                responses = {
                    route.status: {"description": "Accepted", "content": {JSON: {"model": returns}}},
                }
                returns = inspect.Signature.empty
            elif route.status == 204:  # no content: documented without a body
                responses = {204: {"description": "No Content"}}
            if route.also:
                if responses is None and returns is not inspect.Signature.empty:
                    responses = {200: {"description": "Successful Response", "content": {JSON: {"model": returns}}}}
                    returns = inspect.Signature.empty
                responses = dict(responses or {})
                for status, (model_ref, description) in route.also.items():
                    responses[status] = {"description": description, "content": {JSON: {"model": _import(model_ref)}}}

            def stub(*args: Any, **kwargs: Any) -> Any:  # pragma: no cover - documentation only
                raise NotImplementedError

            stub.__name__ = route.endpoint.__name__
            stub.__doc__ = route.endpoint.__doc__
            stub.__signature__ = inspect.Signature(parameters, return_annotation=returns)  # type: ignore[attr-defined]
            twin.route(route.rule, route.method, responses=responses)(stub)
        return twin

    def get_openapi_json_schema(self, **kwargs: Any) -> str:
        schema: str = self.documented().get_openapi_json_schema(**kwargs)
        return schema
