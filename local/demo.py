"""Demo sign-ins and a demo workspace, so a developer can use the local stack at once.

The users are created in the moto user pool with permanent passwords; the workspace is created
through the real API with the member's ID token, exactly as the web app would create it.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

import boto3

from docuserve import routes
from docuserve.schema import ADMINS_GROUP


@dataclass(frozen=True)
class DemoUser:
    email: str
    password: str
    groups: tuple[str, ...] = ()


# Fixed so that docs, browser tests and muscle memory can rely on them; they exist only in memory.
DEMO_ADMIN = DemoUser("admin@example.com", "Admin-Demo-2026!", (ADMINS_GROUP,))
DEMO_MEMBER = DemoUser("member@example.com", "Member-Demo-2026!")
DEMO_USERS = (DEMO_ADMIN, DEMO_MEMBER)
DEMO_WORKSPACE = {"name": "Demo workspace", "description": "Created by the local stack at start."}


def cognito_client(endpoint_url: str, region: str) -> Any:
    return boto3.session.Session(region_name=region).client("cognito-idp", endpoint_url=endpoint_url)


def create_user(cognito: Any, user_pool_id: str, user: DemoUser) -> str:
    """Create a confirmed user with a permanent password; returns its ``sub``."""
    created = cognito.admin_create_user(
        UserPoolId=user_pool_id,
        Username=user.email,
        UserAttributes=[{"Name": "email", "Value": user.email}, {"Name": "email_verified", "Value": "true"}],
        MessageAction="SUPPRESS",
    )
    cognito.admin_set_user_password(
        UserPoolId=user_pool_id, Username=user.email, Password=user.password, Permanent=True
    )
    for group in user.groups:
        cognito.admin_add_user_to_group(UserPoolId=user_pool_id, Username=user.email, GroupName=group)
    attributes = {a["Name"]: a["Value"] for a in created["User"].get("Attributes", [])}
    return str(attributes.get("sub", created["User"]["Username"]))


def sign_in(cognito: Any, client_id: str, user: DemoUser) -> str:
    """The user's ID token, from the same ``USER_PASSWORD_AUTH`` flow the web app may use."""
    result = cognito.initiate_auth(
        ClientId=client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": user.email, "PASSWORD": user.password},
    )
    return str(result["AuthenticationResult"]["IdToken"])


def create_workspace(api_url: str, id_token: str) -> tuple[str, str]:
    """POST the demo workspace through the API; ``(outcome, detail)`` for the console."""
    if routes.match("POST", "/workspaces") is None:
        return "skipped", "POST /workspaces is not in the route table yet"
    request = urllib.request.Request(  # noqa: S310 (our own loopback URL)
        f"{api_url}/workspaces",
        data=json.dumps(DEMO_WORKSPACE).encode(),
        method="POST",
        headers={"Authorization": f"Bearer {id_token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=15) as response:  # noqa: S310
            created = json.load(response)
    except urllib.error.HTTPError as exc:
        return "failed", f"POST /workspaces answered {exc.code}: {exc.read()[:300].decode(errors='replace')}"
    except (OSError, ValueError) as exc:  # unreachable front or a body that is not JSON
        return "failed", f"POST /workspaces: {exc}"
    return "created", f"{created.get('name', DEMO_WORKSPACE['name'])!r} (id {created.get('id', '?')})"
