"""The HTTP edge shared by every API function: resolver, error shape, caller extraction.

Every error leaves as ``{"code": ..., "message": ..., "fields": {...}}``; validation failures are
422 and name each offending field. No handler builds an error body by hand.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)

from docuserve import accounts
from docuserve.errors import DomainError, Throttled, busy
from docuserve.identity import Caller, caller_from_claims
from docuserve.settings import get_settings

logger = Logger()

JSON = "application/json"
# Applied to every API response: nothing here is meant to be cached, sniffed or framed.
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def error_response(
    status: int, code: str, message: str, fields: dict[str, str] | None = None, details: dict[str, Any] | None = None
) -> Response:
    body: dict[str, Any] = {"code": code, "message": message}
    if fields:
        body["fields"] = fields
    if details:
        body["details"] = details
    return Response(status_code=status, content_type=JSON, body=body, headers=dict(SECURITY_HEADERS))


def _field_name(loc: tuple[Any, ...] | list[Any]) -> str:
    # Powertools locations look like ("body", "name") or ("query", "limit"); keep the part a
    # client recognises: the field path without the "body" prefix.
    parts = [str(p) for p in loc]
    if parts and parts[0] == "body":
        parts = parts[1:]
    return ".".join(parts) or "body"


def validation_fields(errors: list[dict[str, Any]]) -> dict[str, str]:
    """Map Pydantic/Powertools error entries to ``{field: message}``."""
    fields: dict[str, str] = {}
    for err in errors:
        name = _field_name(err.get("loc", ()))
        fields.setdefault(name, str(err.get("msg", "invalid value")))
    return fields


def _security_headers(app: APIGatewayRestResolver, next_middleware: NextMiddleware) -> Response:
    response = next_middleware(app)
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def build_resolver() -> APIGatewayRestResolver:
    """A REST resolver with Pydantic validation and DocuServe's error mapping installed."""
    app = APIGatewayRestResolver(enable_validation=True)
    app.use(middlewares=[_security_headers])

    @app.exception_handler(DomainError)
    def _domain(exc: DomainError) -> Response:
        response = error_response(exc.status, exc.code, exc.message, exc.fields, exc.details)
        if isinstance(exc, Throttled) and exc.retry_after:
            response.headers["Retry-After"] = str(exc.retry_after)
        return response

    @app.exception_handler(RequestValidationError)
    def _invalid(exc: RequestValidationError) -> Response:
        fields = validation_fields(list(exc.errors()))
        names = ", ".join(sorted(fields))
        return error_response(422, "validation_error", f"invalid request: {names}", fields)

    @app.exception_handler(UnicodeDecodeError)
    def _undecodable(exc: UnicodeDecodeError) -> Response:
        # Powertools decodes a base64 body as UTF-8 before validating it; bytes that are not
        # UTF-8 are the client's mistake, not a server error.
        return error_response(422, "validation_error", "invalid request: body", {"body": "not UTF-8 JSON"})

    @app.exception_handler(RequestUnsupportedContentType)
    def _unsupported(exc: RequestUnsupportedContentType) -> Response:
        # docuserve.screening refuses these before routing; this keeps any path that skips it honest.
        return error_response(
            415, "unsupported_media_type", "the body must be JSON sent as Content-Type: application/json"
        )

    @app.not_found
    def _not_found(_: Exception) -> Response:
        return error_response(404, "not_found", "no such route")

    @app.exception_handler(Exception)
    def _unexpected(exc: Exception) -> Response:
        if (throttled := busy(exc)) is not None:
            logger.warning("AWS throttled the request past the SDK's retries", extra={"error": str(exc)})
            return _domain(throttled)
        logger.exception("unhandled error")
        return error_response(500, "internal_error", "internal error; quote the request id to support")

    return app


def current_caller(app: APIGatewayRestResolver | Router) -> Caller:
    """The signed-in caller, from the claims API Gateway's Cognito authorizer verified."""
    event = app.current_event
    request_context = event.get("requestContext") or {}
    authorizer = request_context.get("authorizer") or {}
    caller = caller_from_claims(authorizer.get("claims"), get_settings().user_pool_client_id)
    accounts.require_enabled(caller.user_id)
    return caller
