"""Admin user management against moto's Cognito: invite, list, disable, enable; each audited."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from tests.support.documents import User, add_member, create_workspace, make_user, ok
from tests.support.gateway import call


@pytest.fixture
def admin(aws: Any) -> User:
    return make_user(aws, "root@example.com", admin=True)


def test_invite_creates_the_user_once(aws: Any, admin: User) -> None:
    created = ok(call("POST", "/admin/users", claims=admin.claims, body={"email": "New.Person@Example.com"}), 201)
    assert created["email"] == "new.person@example.com"
    assert created["status"] == "FORCE_CHANGE_PASSWORD"
    assert created["enabled"] is True
    again = call("POST", "/admin/users", claims=admin.claims, body={"email": "new.person@example.com"})
    assert again.status == 409


def test_list_pages_through_every_user(aws: Any, admin: User) -> None:
    for n in range(4):
        make_user(aws, f"u{n}@example.com")
    seen: set[str] = set()
    cursor = None
    while True:
        query = {"limit": "2"} | ({"cursor": cursor} if cursor else {})
        page = ok(call("GET", "/admin/users", claims=admin.claims, query=query))
        assert len(page["items"]) <= 2
        seen |= {u["email"] for u in page["items"]}
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == {"root@example.com", "u0@example.com", "u1@example.com", "u2@example.com", "u3@example.com"}


def test_disable_stops_sign_in_and_keeps_memberships(aws: Any, admin: User) -> None:
    owner = make_user(aws, "owner@example.com")
    target = make_user(aws, "target@example.com")
    ws = create_workspace(owner)
    add_member(owner, ws, target, "editor")

    disabled = ok(call("POST", f"/admin/users/{target.id}/disable", claims=admin.claims))
    assert disabled["enabled"] is False
    cognito = boto3.client("cognito-idp", region_name=aws.region)
    assert cognito.admin_get_user(UserPoolId=aws.user_pool_id, Username=target.id)["Enabled"] is False
    members = ok(call("GET", f"/workspaces/{ws}/members", claims=owner.claims))["items"]
    assert target.id in {m["user_id"] for m in members}

    assert ok(call("POST", f"/admin/users/{target.id}/enable", claims=admin.claims))["enabled"] is True
    assert call("POST", "/admin/users/no-such-user/disable", claims=admin.claims).status == 404


def test_a_disabled_users_still_valid_token_is_refused_on_every_route_kind(aws: Any, admin: User) -> None:
    """Cognito stops sign-in; the ID token they hold stays valid for an hour, so the API refuses it."""
    owner = make_user(aws, "owner@example.com")
    ws = create_workspace(owner)
    assert call("GET", f"/workspaces/{ws}", claims=owner.claims).status == 200
    ok(call("POST", f"/admin/users/{owner.id}/disable", claims=admin.claims))
    for method, path in (("GET", f"/workspaces/{ws}"), ("GET", "/workspaces"), ("POST", "/workspaces"), ("GET", "/me")):
        reply = call(method, path, claims=owner.claims, body={"name": "x"} if method == "POST" else None)
        assert reply.status == 401, (method, path)
        assert reply.json()["code"] == "unauthorized"
    ok(call("POST", f"/admin/users/{owner.id}/enable", claims=admin.claims))
    assert call("GET", f"/workspaces/{ws}", claims=owner.claims).status == 200


def test_a_disable_reaches_a_function_that_checked_recently_within_the_window(
    aws: Any, admin: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another function instance wrote the disable: this one remembers 'enabled' for at most
    CHECK_SECONDS (30 s), well inside SPEC's 60 s."""
    from docuserve import accounts
    from docuserve.adapters.store import Store
    from docuserve.keys import account_status

    now = [1000.0]
    monkeypatch.setattr(accounts, "_now", lambda: now[0])
    owner = make_user(aws, "owner@example.com")
    ws = create_workspace(owner)
    assert call("GET", f"/workspaces/{ws}", claims=owner.claims).status == 200  # checked: enabled
    Store().put({**account_status(owner.id), "disabled": True})  # written by another instance
    now[0] += accounts.CHECK_SECONDS - 1
    assert call("GET", f"/workspaces/{ws}", claims=owner.claims).status == 200
    now[0] += 1
    assert call("GET", f"/workspaces/{ws}", claims=owner.claims).status == 401
    assert accounts.CHECK_SECONDS <= 60


def test_disabling_signs_the_user_out_of_every_session(aws: Any, admin: User, monkeypatch: pytest.MonkeyPatch) -> None:
    from docuserve.adapters import aws as adapters

    target = make_user(aws, "target@example.com")
    signed_out: list[str] = []
    real = adapters.cognito()
    monkeypatch.setattr(real, "admin_user_global_sign_out", lambda **kw: signed_out.append(kw["Username"]))
    ok(call("POST", f"/admin/users/{target.id}/disable", claims=admin.claims))
    assert signed_out == [target.id]


def test_admin_actions_are_audited_and_admins_read_any_workspace_trail(aws: Any, admin: User) -> None:
    from docuserve import audit

    ok(call("POST", "/admin/users", claims=admin.claims, body={"email": "x@example.com"}), 201)
    trail = audit.workspace_events(None, limit=10, cursor=None)
    assert [i["action"] for i in trail.items] == ["user.invited"]

    owner = make_user(aws, "owner@example.com")
    ws = create_workspace(owner)
    assert ok(call("GET", f"/workspaces/{ws}/audit", claims=admin.claims))["items"][0]["action"] == "workspace.created"
    # ...but an admin is no member: the workspace itself stays hidden.
    assert call("GET", f"/workspaces/{ws}", claims=admin.claims).status == 404


def test_non_admins_get_403(aws: Any) -> None:
    member = make_user(aws, "m@example.com")
    assert call("GET", "/admin/users", claims=member.claims).status == 403
    assert call("POST", "/admin/users", claims=member.claims, body={"email": "y@example.com"}).status == 403
