"""What the local stack adds to moto's Cognito (local/cognito_extras.py): sign-out revokes, and an
invitation gets a temporary password that is printed to the console with the sign-in URL."""

from __future__ import annotations

import re
import time
import uuid

import pytest
from botocore.exceptions import ClientError

from docuserve.schema import PASSWORD_POLICY
from tests.e2e.client import LocalStack

pytestmark = pytest.mark.e2e


def test_revoking_a_refresh_token_stops_it_refreshing(local_stack: LocalStack) -> None:
    user = local_stack.create_user()
    client_id = local_stack.config["user_pool_client_id"]
    refresh = local_stack.tokens(user.email, user.password)["RefreshToken"]
    parameters = {"REFRESH_TOKEN": refresh}
    assert local_stack.cognito.initiate_auth(
        ClientId=client_id, AuthFlow="REFRESH_TOKEN_AUTH", AuthParameters=parameters
    )["AuthenticationResult"]["IdToken"]

    local_stack.cognito.revoke_token(ClientId=client_id, Token=refresh)

    with pytest.raises(ClientError) as refused:
        local_stack.cognito.initiate_auth(ClientId=client_id, AuthFlow="REFRESH_TOKEN_AUTH", AuthParameters=parameters)
    assert refused.value.response["Error"]["Code"] == "NotAuthorizedException"
    # Another session of the same user is not affected.
    assert local_stack.tokens(user.email, user.password)["IdToken"]


def test_an_admins_invitation_is_printed_with_a_temporary_password_that_signs_in(local_stack: LocalStack) -> None:
    email = f"invitee-{uuid.uuid4().hex[:8]}@example.com"
    invited = local_stack.api("POST", "/admin/users", token=local_stack.admin_token(), json={"email": email})
    assert invited.status_code == 201, invited.text

    deadline = time.monotonic() + 10
    while email not in local_stack.log() and time.monotonic() < deadline:
        time.sleep(0.1)
    mail = local_stack.log()[local_stack.log().index("==> invitation mail") :]
    found = re.search(rf"to\s+{re.escape(email)}\n.*?temporary password\s+(\S+)\n\s+sign in at\s+(\S+)", mail, re.S)
    assert found, mail[:2000]
    password, url = found.groups()
    assert url == f"{local_stack.base_url}/"
    assert len(password) >= PASSWORD_POLICY.min_length

    # The printed password is the one the pool holds: signing in asks for a new password.
    challenge = local_stack.cognito.initiate_auth(
        ClientId=local_stack.config["user_pool_client_id"],
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": email, "PASSWORD": password},
    )
    assert challenge["ChallengeName"] == "NEW_PASSWORD_REQUIRED"


def test_a_suppressed_invitation_prints_nothing(local_stack: LocalStack) -> None:
    user = local_stack.create_user()  # MessageAction=SUPPRESS and a password of its own
    time.sleep(0.2)
    assert f"to                  {user.email}" not in local_stack.log()
