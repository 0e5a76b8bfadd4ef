"""Sign-in against the Cognito user pool (USER_PASSWORD_AUTH, as the web app), and the saved session.

The session (ID token and refresh token, per web origin) is kept in ``session.json`` in the CLI's
config directory, created with mode 0600 inside a 0700 directory: the spec allows the OS keyring
or a 0600 file, and a file works the same on every machine, headless ones included. The ID token
is refreshed with the refresh token when it has less than a minute left.
"""

from __future__ import annotations

import base64
import json
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from docuserve_cli.config import Deployment, config_dir
from docuserve_cli.errors import AUTH, NETWORK, CliError

REFRESH_MARGIN_S = 60

# A prompt for a challenge answer: (text, hide_input) -> answer.
Prompt = Callable[[str, bool], str]


def session_path() -> Path:
    return config_dir() / "session.json"


def _read_all(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def save_session(web_origin: str, session: dict[str, Any], path: Path | None = None) -> None:
    """Keep ``session`` for ``web_origin`` (0600 file, written atomically)."""
    path = path or session_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    sessions = _read_all(path)
    sessions[web_origin] = session
    tmp = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")  # threads may refresh at once
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(sessions, handle)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def load_session(web_origin: str, path: Path | None = None) -> dict[str, Any] | None:
    session = _read_all(path or session_path()).get(web_origin)
    return session if isinstance(session, dict) else None


def forget_session(web_origin: str, path: Path | None = None) -> None:
    path = path or session_path()
    sessions = _read_all(path)
    if sessions.pop(web_origin, None) is not None:
        save_session_all(sessions, path)


def save_session_all(sessions: dict[str, Any], path: Path) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(sessions, handle)


def jwt_claims(token: str) -> dict[str, Any]:
    """A JWT's payload, unverified (the API verifies; the CLI only reads expiry and e-mail)."""
    try:
        part = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    except (IndexError, ValueError):
        return {}
    return claims if isinstance(claims, dict) else {}


def _cognito(deployment: Deployment) -> Any:
    return boto3.session.Session().client(
        "cognito-idp",
        region_name=deployment.region,
        endpoint_url=deployment.cognito_endpoint,
        config=Config(signature_version=UNSIGNED, retries={"max_attempts": 3}),
    )


def _cognito_error(exc: Exception) -> CliError:
    if isinstance(exc, ClientError):
        code = exc.response.get("Error", {}).get("Code", "")
        text = exc.response.get("Error", {}).get("Message", "")
        if code in ("NotAuthorizedException", "UserNotFoundException"):
            if "disabled" in text.lower():
                return CliError("This account is disabled. Ask an administrator to enable it.", AUTH, code=code)
            return CliError("The e-mail or password is not right.", AUTH, code=code)
        if code in ("CodeMismatchException", "ExpiredCodeException", "EnableSoftwareTokenMFAException"):
            return CliError(
                "That code is not right: enter the current code from your authenticator app.", AUTH, code=code
            )
        if code == "InvalidPasswordException":
            return CliError(f"That password does not meet the rules: {text}", AUTH, code=code)
        return CliError(f"Sign-in failed ({code}).", AUTH, code=code)
    return CliError(f"Cannot reach the sign-in service: {type(exc).__name__}", NETWORK, code="network")


def _session_from(result: dict[str, Any], refresh_token: str | None = None) -> dict[str, Any]:
    id_token = str(result["IdToken"])
    claims = jwt_claims(id_token)
    return {
        "id_token": id_token,
        "refresh_token": str(result.get("RefreshToken") or refresh_token or ""),
        "expires_at": float(claims.get("exp") or time.time() + float(result.get("ExpiresIn", 3600))),
        "email": claims.get("email"),
    }


def sign_in(deployment: Deployment, email: str, password: str, prompt: Prompt) -> dict[str, Any]:
    """USER_PASSWORD_AUTH, answering NEW_PASSWORD_REQUIRED and SOFTWARE_TOKEN_MFA by ``prompt``."""
    cognito = _cognito(deployment)
    try:
        answer = cognito.initiate_auth(
            ClientId=deployment.client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": email, "PASSWORD": password},
        )
        for _ in range(5):  # one challenge after another: new password, then TOTP
            if "AuthenticationResult" in answer:
                return _session_from(answer["AuthenticationResult"])
            name = answer.get("ChallengeName")
            username = answer.get("ChallengeParameters", {}).get("USER_ID_FOR_SRP", email)
            if name == "NEW_PASSWORD_REQUIRED":
                responses = {"USERNAME": username, "NEW_PASSWORD": prompt("Choose a new password", True)}
            elif name == "SOFTWARE_TOKEN_MFA":
                responses = {"USERNAME": username, "SOFTWARE_TOKEN_MFA_CODE": prompt("Authenticator code", False)}
            else:
                raise CliError(
                    f"Sign-in needs a step the CLI does not support ({name}): sign in once in the web app.", AUTH
                )
            answer = cognito.respond_to_auth_challenge(
                ClientId=deployment.client_id,
                ChallengeName=name,
                Session=answer["Session"],
                ChallengeResponses=responses,
            )
    except (ClientError, BotoCoreError) as exc:
        raise _cognito_error(exc) from None
    raise CliError("Sign-in did not finish after several challenges.", AUTH)


def refresh(deployment: Deployment, refresh_token: str) -> dict[str, Any]:
    """A new ID token from the refresh token; an ended session is an ``AUTH`` error."""
    try:
        answer = _cognito(deployment).initiate_auth(
            ClientId=deployment.client_id,
            AuthFlow="REFRESH_TOKEN_AUTH",
            AuthParameters={"REFRESH_TOKEN": refresh_token},
        )
    except ClientError:
        raise CliError("Your session has expired: run `docuserve login`.", AUTH, code="session_expired") from None
    except BotoCoreError as exc:
        raise _cognito_error(exc) from None
    return _session_from(answer["AuthenticationResult"], refresh_token)


def id_token(deployment: Deployment, *, force_refresh: bool = False) -> str:
    """A valid ID token for ``deployment``: the saved one, or a refreshed one (then saved)."""
    session = load_session(deployment.web_origin)
    if not session or not session.get("refresh_token"):
        raise CliError(f"Not signed in to {deployment.web_origin}: run `docuserve login`.", AUTH, code="not_signed_in")
    if force_refresh or float(session.get("expires_at", 0)) - REFRESH_MARGIN_S < time.time():
        session = refresh(deployment, str(session["refresh_token"]))
        save_session(deployment.web_origin, session)
    return str(session["id_token"])
