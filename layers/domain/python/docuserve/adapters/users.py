"""Cognito adapter: the user directory (find by email, invite, list, disable, enable).

In this pool the email is the sign-in alias and each user's ``Username`` is its ``sub``: the
user id every other part of DocuServe knows.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from docuserve.adapters import aws
from docuserve.errors import Conflict, InvalidInput, NotFound
from docuserve.settings import get_settings

COGNITO_PAGE_MAX = 60
_USER_ID = re.compile(r"^[A-Za-z0-9-]{1,128}$")


@dataclass(frozen=True)
class User:
    id: str
    email: str
    status: str
    enabled: bool
    created_at: str | None
    email_verified: bool = False


def _user(raw: dict[str, Any]) -> User:
    attributes = {a["Name"]: a["Value"] for a in raw.get("Attributes", raw.get("UserAttributes", []))}
    created = raw.get("UserCreateDate")
    return User(
        id=attributes.get("sub", raw["Username"]),
        email=attributes.get("email", ""),
        status=raw.get("UserStatus", "UNKNOWN"),
        enabled=bool(raw.get("Enabled", True)),
        created_at=created.isoformat().replace("+00:00", "Z") if created is not None else None,
        email_verified=attributes.get("email_verified", "false").lower() == "true",
    )


def _pool() -> str:
    return get_settings().user_pool_id


def find_by_email(email: str) -> User | None:
    """The user with ``email`` (already validated: no quotes can reach the filter)."""
    raw = aws.cognito().list_users(UserPoolId=_pool(), Filter=f'email = "{email}"', Limit=2)
    users = raw.get("Users", [])
    return _user(users[0]) if users else None


def invite(email: str) -> User:
    """Create the user; Cognito emails the temporary password. 409 if the email is taken."""
    try:
        raw = aws.cognito().admin_create_user(
            UserPoolId=_pool(),
            Username=email,
            UserAttributes=[{"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "true"}],
            DesiredDeliveryMediums=["EMAIL"],
        )
    except ClientError as exc:
        if exc.response["Error"]["Code"] in ("UsernameExistsException", "AliasExistsException"):
            raise Conflict("a user with this email already exists") from None
        raise
    return _user(raw["User"])


def _encode(token: str | None) -> str | None:
    return base64.urlsafe_b64encode(token.encode()).decode().rstrip("=") if token else None


def _decode(cursor: str) -> str:
    try:
        return base64.urlsafe_b64decode((cursor + "=" * (-len(cursor) % 4)).encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidInput("cursor", "not a cursor this API issued") from None


def list_page(*, limit: int, cursor: str | None) -> tuple[list[User], str | None]:
    """Up to ``limit`` users (Cognito pages hold at most 60, so this may call it a few times)."""
    users: list[User] = []
    token = _decode(cursor) if cursor else None
    while len(users) < limit:
        kwargs: dict[str, Any] = {"UserPoolId": _pool(), "Limit": min(COGNITO_PAGE_MAX, limit - len(users))}
        if token:
            kwargs["PaginationToken"] = token
        try:
            raw = aws.cognito().list_users(**kwargs)
        except ClientError as exc:
            if exc.response["Error"]["Code"] in ("InvalidParameterException", "InvalidToken"):
                raise InvalidInput("cursor", "not a cursor this API issued") from None
            raise
        users += [_user(u) for u in raw.get("Users", [])]
        token = raw.get("PaginationToken")
        if not token:
            break
    return users, _encode(token)


def _username(user_id: str) -> str:
    if not _USER_ID.match(user_id):
        raise NotFound("user not found")
    return user_id


def get(user_id: str) -> User:
    try:
        raw = aws.cognito().admin_get_user(UserPoolId=_pool(), Username=_username(user_id))
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "UserNotFoundException":
            raise NotFound("user not found") from None
        raise
    return _user(raw)


def set_enabled(user_id: str, enabled: bool) -> User:
    """Disable (sign-in and token refresh stop) or enable a user."""
    username = _username(user_id)
    operation = aws.cognito().admin_enable_user if enabled else aws.cognito().admin_disable_user
    try:
        operation(UserPoolId=_pool(), Username=username)
        if not enabled:
            # Revoke their refresh tokens too: no new ID token from an open session.
            aws.cognito().admin_user_global_sign_out(UserPoolId=_pool(), Username=username)
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "UserNotFoundException":
            raise NotFound("user not found") from None
        raise
    return get(user_id)


def group_members(group: str) -> list[User]:
    """Every user in ``group`` (the admins, to be told of a threat), page after page."""
    users: list[User] = []
    token: str | None = None
    while True:
        kwargs: dict[str, Any] = {"UserPoolId": _pool(), "GroupName": group, "Limit": COGNITO_PAGE_MAX}
        if token:
            kwargs["NextToken"] = token
        raw = aws.cognito().list_users_in_group(**kwargs)
        users += [_user(u) for u in raw.get("Users", [])]
        token = raw.get("NextToken")
        if not token:
            return users
