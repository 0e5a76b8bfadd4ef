"""Who is calling: built from the Cognito claims API Gateway's authorizer has already verified."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from docuserve.errors import Forbidden, Unauthorized
from docuserve.schema import ADMINS_GROUP


@dataclass(frozen=True)
class Caller:
    user_id: str
    email: str
    groups: tuple[str, ...]

    @property
    def is_admin(self) -> bool:
        return ADMINS_GROUP in self.groups

    def require_admin(self) -> None:
        if not self.is_admin:
            raise Forbidden("this action needs the admins group")


def _groups(raw: Any) -> tuple[str, ...]:
    # The REST authorizer flattens list claims into strings like "[admins, other]" or "admins".
    if raw is None or raw == "":
        return ()
    if isinstance(raw, list):
        return tuple(str(g) for g in raw)
    text = str(raw).strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    return tuple(g.strip() for g in text.replace(",", " ").split() if g.strip())


def caller_from_claims(claims: dict[str, Any] | None, audience: str) -> Caller:
    """The caller of an authorized request; 401 when the authorizer passed no usable identity.

    API Gateway's Cognito authorizer checks signature, issuer and expiry, but accepts an ID token
    of any app client of the pool: the audience is checked here, against this deployment's client.
    """
    if not claims or not claims.get("sub") or claims.get("token_use") not in (None, "id"):
        raise Unauthorized("a valid Cognito ID token is required")
    if not audience or claims.get("aud") != audience:
        raise Unauthorized("the token was not issued to this application")
    return Caller(
        user_id=str(claims["sub"]),
        # Only a verified address names the caller (in audit records, in membership lookups).
        email=str(claims.get("email", "")).lower() if str(claims.get("email_verified")).lower() == "true" else "",
        groups=_groups(claims.get("cognito:groups")),
    )
