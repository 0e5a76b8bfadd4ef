"""Invoke handler modules with real API Gateway REST events, resolved from the route table."""

from __future__ import annotations

import base64
import importlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from docuserve.routes import match
from local.events import rest_event


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    text: str

    def json(self) -> Any:
        return json.loads(self.text) if self.text else None


class FakeContext:
    function_name = "test"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:test"
    aws_request_id = "test-request"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 30_000


def claims_for(user_id: str, email: str, groups: tuple[str, ...] = ()) -> dict[str, str]:
    """Claims as API Gateway's Cognito authorizer passes them (all strings, groups flattened)."""
    # ``aud`` is the deployment's app client, as Cognito issues it (the functions check it).
    audience = os.environ.get("USER_POOL_CLIENT_ID", "")
    claims = {"sub": user_id, "email": email, "token_use": "id", "email_verified": "true", "aud": audience}
    if groups:
        claims["cognito:groups"] = ",".join(groups)
    return claims


def _handler_module(function: str) -> Any:
    return importlib.import_module(f"handlers.{function}")


def call(
    method: str,
    path: str,
    *,
    claims: dict[str, Any] | None = None,
    body: Any = None,
    raw_body: bytes | str | None = None,
    query: dict[str, str | list[str]] | None = None,
    headers: dict[str, str] | None = None,
    source_ip: str = "203.0.113.7",
    authorizer: Any = None,
    authorization: str | None = None,
    handler_of: Callable[[str], Any] | None = None,
) -> Reply:
    """Route ``method path`` like API Gateway would and invoke the owning function's handler.

    With ``authorizer`` (a ``local.authorizer.CognitoAuthorizer``), a protected route's
    ``authorization`` header goes through it, as in the local stack: a rejection is API Gateway's
    401 and the function does not run; accepted claims reach the function. Without one, ``claims``
    stand for what the authorizer passed, and a protected route without claims is answered 401 here.
    ``handler_of(function)`` picks the handler module (default: ``handlers.<function>``); two
    requests in flight at once need two copies, as two Lambda execution environments have.
    """
    found = match(method, path)
    if found is None:
        return Reply(403, {}, json.dumps({"message": "Missing Authentication Token"}))
    route, params = found
    if authorizer is not None and not route.public:
        from local.authorizer import Rejected

        try:
            claims = authorizer.verify(authorization)
        except Rejected:
            return Reply(401, {"x-amzn-errortype": "UnauthorizedException"}, json.dumps({"message": "Unauthorized"}))
    if not route.public and claims is None:
        return Reply(401, {}, json.dumps({"message": "Unauthorized"}))
    hdrs = {"content-type": "application/json", "user-agent": "pytest"} | (headers or {})
    payload: bytes | str | None = raw_body if raw_body is not None else (json.dumps(body) if body is not None else None)
    q = {k: (v if isinstance(v, list) else [v]) for k, v in (query or {}).items()}
    event = rest_event(
        method,
        route.path,
        path,
        path_parameters={k: unquote(v) for k, v in params.items()},
        query=q,
        headers=hdrs,
        body=payload,
        claims=None if route.public else claims,
        source_ip=source_ip,
    )
    module = (handler_of or _handler_module)(route.function.value)
    result = module.handler(event, FakeContext())
    text = result.get("body") or ""
    if result.get("isBase64Encoded"):
        text = base64.b64decode(text).decode()
    headers_out = {k.lower(): v for k, v in (result.get("headers") or {}).items()}
    for k, v in (result.get("multiValueHeaders") or {}).items():
        headers_out[k.lower()] = ",".join(v)
    return Reply(result["statusCode"], headers_out, text)
