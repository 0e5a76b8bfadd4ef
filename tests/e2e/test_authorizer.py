"""The local front lets through only what API Gateway's Cognito authorizer would (SPEC promise 1).

Each rejected token here would be accepted by a front that skipped verification: the functions
trust ``requestContext.authorizer.claims`` as API Gateway hands them over.
"""

from __future__ import annotations

import base64
import functools
import json
import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from docuserve.routes import ROUTES
from tests.e2e.client import LocalStack

pytestmark = pytest.mark.e2e

UNAUTHORIZED = {"message": "Unauthorized"}


def moto_signing_key() -> Any:
    """The private key moto's Cognito signs every token with (``kid`` "dummy", RS256)."""
    from moto.utilities.utils import load_resource

    return jwt.PyJWK.from_dict(load_resource("cognitoidp/resources/jwks-private.json"), algorithm="RS256").key


@functools.cache
def attacker_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def claims(stack: LocalStack, **overrides: Any) -> dict[str, Any]:
    """ID-token claims for this stack's pool and app client, valid for an hour unless overridden."""
    now = int(time.time())
    pool = stack.config["user_pool_id"]
    base = {
        "iss": f"https://cognito-idp.{stack.config['region']}.amazonaws.com/{pool}",
        "sub": "00000000-0000-0000-0000-000000000001",
        "aud": stack.config["user_pool_client_id"],
        "token_use": "id",
        "email": "mallory@example.com",
        "email_verified": True,
        "cognito:groups": ["admins"],
        "iat": now,
        "auth_time": now,
        "exp": now + 3600,
    }
    return base | overrides


def sign(payload: dict[str, Any], key: Any) -> str:
    return jwt.encode(payload, key, algorithm="RS256", headers={"kid": "dummy"})


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def concrete(path: str) -> str:
    return "/".join("x" if part.startswith("{") else part for part in path.split("/"))


def assert_unauthorized(stack: LocalStack, token: str | None, path: str = "/me") -> None:
    reply = stack.api("GET", path, token=token)
    assert reply.status_code == 401, reply.text
    assert reply.json() == UNAUTHORIZED


def test_a_signed_in_member_gets_their_identity(local_stack: LocalStack) -> None:
    user = local_stack.create_user()

    reply = local_stack.api("GET", "/me", token=local_stack.sign_in_user(user))

    assert reply.status_code == 200
    assert reply.json() == {"id": user.sub, "email": user.email, "groups": []}


def test_the_callers_groups_come_from_the_verified_token(local_stack: LocalStack) -> None:
    admin = local_stack.create_user(groups=("admins",))

    reply = local_stack.api("GET", "/me", token=local_stack.sign_in_user(admin))

    assert reply.json()["groups"] == ["admins"]


def test_the_bare_token_without_bearer_is_accepted_like_the_cognito_authorizer_does(local_stack: LocalStack) -> None:
    token = local_stack.member_token()

    reply = local_stack.api("GET", "/me", headers={"Authorization": token})

    assert reply.status_code == 200


def test_public_routes_need_no_token(local_stack: LocalStack) -> None:
    assert local_stack.api("GET", "/health").json() == {"status": "ok"}
    assert local_stack.api("GET", "/openapi.json").status_code == 200


@pytest.mark.parametrize("route", [r for r in ROUTES if not r.public], ids=lambda r: r.key)
def test_every_protected_route_rejects_a_request_without_a_token(local_stack: LocalStack, route: Any) -> None:
    reply = local_stack.api(route.method, concrete(route.path), json={})

    assert reply.status_code == 401
    assert reply.json() == UNAUTHORIZED


@pytest.mark.parametrize("route", [r for r in ROUTES if not r.public], ids=lambda r: r.key)
def test_every_protected_route_rejects_a_forged_token(local_stack: LocalStack, route: Any) -> None:
    forged = sign(claims(local_stack), attacker_key())

    reply = local_stack.api(route.method, concrete(route.path), token=forged, json={})

    assert reply.status_code == 401


def test_a_token_signed_by_another_key_is_rejected(local_stack: LocalStack) -> None:
    # Same kid, issuer, audience and claims as a real one: only the signature gives it away.
    assert_unauthorized(local_stack, sign(claims(local_stack), attacker_key()))


def test_a_token_with_a_tampered_payload_is_rejected(local_stack: LocalStack) -> None:
    header, payload, signature = local_stack.member_token().split(".")
    decoded = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    decoded["cognito:groups"] = ["admins"]
    tampered = ".".join([header, b64url(json.dumps(decoded).encode()), signature])

    assert_unauthorized(local_stack, tampered)


def test_a_token_signed_with_the_pools_own_key_is_accepted_while_valid(local_stack: LocalStack) -> None:
    # The control for the expiry test below: the same construction, not yet expired, passes.
    reply = local_stack.api("GET", "/me", token=sign(claims(local_stack), moto_signing_key()))

    assert reply.status_code == 200
    assert reply.json()["email"] == "mallory@example.com"


def test_an_expired_token_is_rejected(local_stack: LocalStack) -> None:
    past = int(time.time()) - 7200
    expired = sign(claims(local_stack, iat=past, auth_time=past, exp=past + 3600), moto_signing_key())

    assert_unauthorized(local_stack, expired)


def test_a_token_from_another_user_pool_is_rejected(local_stack: LocalStack) -> None:
    cognito = local_stack.cognito
    pool = cognito.create_user_pool(PoolName="other", UsernameAttributes=["email"])["UserPool"]["Id"]
    client = cognito.create_user_pool_client(
        UserPoolId=pool, ClientName="other", ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH"]
    )["UserPoolClient"]["ClientId"]
    cognito.admin_create_user(UserPoolId=pool, Username="eve@example.com", MessageAction="SUPPRESS")
    cognito.admin_set_user_password(
        UserPoolId=pool, Username="eve@example.com", Password="Other-Pool-1!", Permanent=True
    )
    token = cognito.initiate_auth(
        ClientId=client,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "eve@example.com", "PASSWORD": "Other-Pool-1!"},
    )["AuthenticationResult"]["IdToken"]

    assert_unauthorized(local_stack, token)


def test_an_access_token_is_not_an_id_token(local_stack: LocalStack) -> None:
    user = local_stack.create_user()
    access_token = local_stack.tokens(user.email, user.password)["AccessToken"]

    assert_unauthorized(local_stack, access_token)


def test_an_id_token_for_another_app_client_is_rejected(local_stack: LocalStack) -> None:
    other_client = local_stack.cognito.create_user_pool_client(
        UserPoolId=local_stack.config["user_pool_id"],
        ClientName="not-the-web-app",
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH"],
    )["UserPoolClient"]["ClientId"]
    user = local_stack.create_user()
    token = local_stack.tokens(user.email, user.password, client_id=other_client)["IdToken"]

    assert_unauthorized(local_stack, token)


@pytest.mark.parametrize(
    "make_token",
    [
        pytest.param(lambda c: jwt.encode(c, None, algorithm="none"), id="unsigned-alg-none"),
        pytest.param(lambda c: jwt.encode(c, "secret-secret-secret-secret-32b!", algorithm="HS256"), id="hs256"),
        pytest.param(lambda c: "not-a-jwt", id="garbage"),
    ],
)
def test_tokens_that_are_not_rs256_signed_are_rejected(local_stack: LocalStack, make_token: Any) -> None:
    assert_unauthorized(local_stack, make_token(claims(local_stack)))


@pytest.mark.parametrize("missing", ["token_use", "exp", "sub"])
def test_a_validly_signed_token_missing_a_required_claim_is_rejected(local_stack: LocalStack, missing: str) -> None:
    payload = claims(local_stack)
    del payload[missing]

    assert_unauthorized(local_stack, sign(payload, moto_signing_key()))
