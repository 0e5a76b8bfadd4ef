"""GET /health, /openapi.json and /me as real API Gateway REST events."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from docuserve.routes import ROUTES
from tests.support.gateway import call, claims_for

pytestmark = pytest.mark.usefixtures("aws")


def test_health_answers_without_a_token() -> None:
    reply = call("GET", "/health")
    assert reply.status == 200
    assert reply.json() == {"status": "ok"}


def test_openapi_lists_every_route_in_the_route_table() -> None:
    reply = call("GET", "/openapi.json")
    assert reply.status == 200
    doc = reply.json()
    assert doc["openapi"].startswith("3.")
    for route in ROUTES:
        assert route.method.lower() in doc["paths"][route.path], route.key


def test_openapi_marks_protected_routes_with_bearer_security_and_public_ones_without() -> None:
    doc = call("GET", "/openapi.json").json()
    for route in ROUTES:
        operation = doc["paths"][route.path][route.method.lower()]
        if route.public:
            assert "security" not in operation, route.key
        else:
            assert operation["security"] == [{"cognito": []}], route.key


@pytest.fixture(autouse=True)
def app_client(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The deployment's app client id, as the stack sets it (the audience the functions accept)."""
    from docuserve.settings import get_settings

    monkeypatch.setenv("USER_POOL_CLIENT_ID", "web-client-id")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_me_returns_the_callers_identity_from_the_authorizer_claims() -> None:
    reply = call("GET", "/me", claims=claims_for("user-1", "Alice@Example.com", ("admins",)))
    assert reply.status == 200
    assert reply.json() == {"id": "user-1", "email": "alice@example.com", "groups": ["admins"]}


def test_me_without_claims_is_401_even_if_the_gateway_were_bypassed() -> None:
    # Defence in depth: the handler itself refuses an event with no authorizer claims.
    import handlers.system as system
    from local.events import rest_event
    from tests.support.gateway import FakeContext

    result = system.handler(rest_event("GET", "/me", "/me"), FakeContext())
    assert result["statusCode"] == 401
    assert '"code":"unauthorized"' in result["body"].replace(" ", "")


@pytest.mark.parametrize("audience", ["another-app-client", "", None])
def test_a_token_issued_to_another_app_client_is_401(audience: str | None) -> None:
    """The Cognito authorizer accepts any client of the pool; the function checks the audience."""
    claims = claims_for("user-1", "alice@example.com")
    if audience is None:
        del claims["aud"]
    else:
        claims["aud"] = audience
    reply = call("GET", "/me", claims=claims)
    assert reply.status == 401
    assert reply.json()["code"] == "unauthorized"


def test_unknown_route_is_a_json_404() -> None:
    import handlers.system as system
    from local.events import rest_event
    from tests.support.gateway import FakeContext

    result = system.handler(rest_event("GET", "/nope", "/nope"), FakeContext())
    assert result["statusCode"] == 404
    assert "not_found" in result["body"]


def test_responses_carry_no_store_and_nosniff_headers() -> None:
    reply = call("GET", "/me", claims=claims_for("u", "u@example.com"))
    assert reply.headers["cache-control"] == "no-store"
    assert reply.headers["x-content-type-options"] == "nosniff"


def test_openapi_documents_the_415_on_every_operation_with_a_body() -> None:
    doc = call("GET", "/openapi.json").json()
    operations = [op for item in doc["paths"].values() for op in item.values() if isinstance(op, dict)]
    with_body = [op for op in operations if "requestBody" in op]
    assert with_body
    assert all("415" in op["responses"] for op in with_body)


def test_openapi_documents_the_status_each_route_answers_on_success_and_no_body_for_204() -> None:
    doc = call("GET", "/openapi.json").json()
    assert "201" in doc["paths"]["/documents/{document_id}/shares"]["post"]["responses"]
    deletes = [item["delete"] for item in doc["paths"].values() if "delete" in item]
    assert deletes
    for operation in deletes:
        assert "204" in operation["responses"], operation["responses"].keys()
        assert "content" not in operation["responses"]["204"]


def test_openapi_links_chain_each_created_id_into_the_calls_that_take_it() -> None:
    doc = call("GET", "/openapi.json").json()
    operations = {
        op["operationId"]: (path, op)
        for path, item in doc["paths"].items()
        for op in item.values()
        if "operationId" in op
    }
    created = doc["paths"]["/workspaces"]["post"]["responses"]["201"]["links"]
    targets = {operations[link["operationId"]][0] for link in created.values()}
    assert "/workspaces/{workspace_id}/documents" in targets
    linked = 0
    for item in doc["paths"].values():
        for op in item.values():
            for response in op.get("responses", {}).values():
                for link in response.get("links", {}).values():
                    path, target = operations[link["operationId"]]
                    in_path = {p["name"] for p in target.get("parameters", []) if p["in"] == "path"}
                    assert set(link["parameters"]) == in_path, (path, link)
                    assert all(e.startswith("$response.body#/") for e in link["parameters"].values())
                    linked += 1
    from handlers.openapi_doc import LINKS

    assert linked == len(LINKS)
    share = doc["paths"]["/documents/{document_id}/shares"]["post"]["responses"]["201"]["links"]
    assert {"$response.body#/token"} <= {e for link in share.values() for e in link["parameters"].values()}
