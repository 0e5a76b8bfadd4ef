"""What the local stack adds to moto's Cognito (local/cognito_extras.py): sign-out revokes."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

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
