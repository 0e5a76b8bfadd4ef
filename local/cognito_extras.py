"""What the local stack adds to moto's Cognito user-pool API so that it behaves as the real one.

- ``RevokeToken`` (sign-out): moto does not implement it; here it revokes the refresh token in
  moto's user pool, so a signed-out session cannot be refreshed, as in AWS.
- ``AdminCreateUser`` (an admin's invitation): Cognito makes up a temporary password and mails it;
  moto does neither, so the invited user could never sign in. Here a temporary password that meets
  the pool's policy is made up, and the invitation mail (recipient, temporary password, sign-in
  URL) is printed to the local stack's console, until a local outbox exists.
"""

from __future__ import annotations

import io
import json
import os
import secrets
import string
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from moto.cognitoidp.models import CognitoIdpUserPool, cognitoidp_backends

from docuserve.schema import PASSWORD_POLICY

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

TARGET_PREFIX = "AWSCognitoIdentityProviderService."
JSON_TYPE = "application/x-amz-json-1.1"


def _pools() -> Iterator[CognitoIdpUserPool]:
    for regions in cognitoidp_backends.values():
        for backend in regions.values():
            yield from backend.user_pools.values()


def revoke_refresh_token(token: str) -> bool:
    """Revoke ``token`` in whichever pool issued it; False when no pool knows it."""
    for pool in _pools():
        if pool.refresh_tokens.get(token) is not None:
            pool.refresh_tokens[token] = None  # moto's own mark for a signed-out token
            return True
    return False


def _read_json(environ: dict[str, Any]) -> dict[str, Any]:
    """The request's JSON body; the stream is replaced so that moto can read it again."""
    length = int(environ.get("CONTENT_LENGTH") or 0)
    raw = environ["wsgi.input"].read(length) if length else b""
    environ["wsgi.input"] = io.BytesIO(raw)
    try:
        body = json.loads(raw or b"{}")
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def temporary_password() -> str:
    """A random password that meets ``PASSWORD_POLICY`` (the pool's rule), as Cognito would make up."""
    symbols = "!-_+=#%"
    classes = [string.ascii_lowercase, string.ascii_uppercase, string.digits, symbols]
    alphabet = "".join(classes)
    chosen = [secrets.choice(chars) for chars in classes]
    chosen += [secrets.choice(alphabet) for _ in range(max(PASSWORD_POLICY.min_length, 16) - len(chosen))]
    secrets.SystemRandom().shuffle(chosen)
    return "".join(chosen)


def invitation_mail(recipient: str, password: str, sign_in_url: str) -> str:
    """The invitation as the local console prints it (infra/identity.py words the deployed one)."""
    return "\n".join(
        [
            "==> invitation mail (local stack: printed, not sent)",
            f"    to                  {recipient}",
            "    subject             Your DocuServe account",
            f"    temporary password  {password}",
            f"    sign in at          {sign_in_url}",
            "    You have been invited to DocuServe. Sign in with this e-mail address and the temporary",
            "    password; you will choose your own password at first sign-in.",
        ]
    )


def _recipient(body: dict[str, Any]) -> str:
    for attribute in body.get("UserAttributes") or []:
        if isinstance(attribute, dict) and attribute.get("Name") == "email":
            return str(attribute.get("Value") or "")
    return str(body.get("Username") or "")


def _invite(
    app: WSGIApp, environ: dict[str, Any], start_response: StartResponse, log: Callable[[str], None]
) -> Iterable[bytes]:
    body = _read_json(environ)
    if body.get("TemporaryPassword") or body.get("MessageAction") == "SUPPRESS":
        return app(environ, start_response)  # the caller chose the password, or asked for no mail
    password = temporary_password()
    raw = json.dumps({**body, "TemporaryPassword": password}).encode()
    environ["wsgi.input"] = io.BytesIO(raw)
    environ["CONTENT_LENGTH"] = str(len(raw))
    status: list[str] = []

    def capture(code: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        status.append(code)
        return start_response(code, headers, exc_info)

    answer = list(app(environ, capture))
    if status and status[0].startswith("200"):
        origin = os.environ.get("WEB_ORIGIN", "").rstrip("/")
        log(invitation_mail(_recipient(body), password, f"{origin}/"))
    return answer


def _say(message: str) -> None:
    print(message, flush=True)


def _answer(start_response: StartResponse, payload: dict[str, Any]) -> list[bytes]:
    body = json.dumps(payload).encode()
    start_response("200 OK", [("Content-Type", JSON_TYPE), ("Content-Length", str(len(body)))])
    return [body]


def cognito_extras(app: WSGIApp, log: Callable[[str], None] = _say) -> WSGIApp:
    """Wrap moto's WSGI app with the Cognito operations above; ``log`` prints invitation mails."""

    def wrapped(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if target == TARGET_PREFIX + "RevokeToken":
            token = str(_read_json(environ).get("Token") or "")
            revoke_refresh_token(token)  # Cognito answers 200 for a token it does not know as well
            return _answer(start_response, {})
        if target == TARGET_PREFIX + "AdminCreateUser":
            return _invite(app, environ, start_response, log)
        return app(environ, start_response)

    return wrapped
