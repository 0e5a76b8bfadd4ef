"""Workspaces and membership against moto: my workspaces, roles, the last owner, deleting when empty."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.documents import User, add_member, create_document, create_workspace, make_user, ok
from tests.support.gateway import call


@pytest.fixture
def alice(aws: Any) -> User:
    return make_user(aws, "alice@example.com")


@pytest.fixture
def bob(aws: Any) -> User:
    return make_user(aws, "bob@example.com")


def test_the_creator_becomes_owner_and_lists_only_their_workspaces(alice: User, bob: User) -> None:
    mine = create_workspace(alice, "Mine")
    create_workspace(bob, "Bob's")
    listed = ok(call("GET", "/workspaces", claims=alice.claims))
    assert [(w["id"], w["name"], w["my_role"]) for w in listed["items"]] == [(mine, "Mine", "owner")]


def test_workspaces_page_through_cursors(alice: User) -> None:
    created = {create_workspace(alice, f"W{n}") for n in range(5)}
    seen: set[str] = set()
    cursor = None
    while True:
        query = {"limit": "2"} | ({"cursor": cursor} if cursor else {})
        page = ok(call("GET", "/workspaces", claims=alice.claims, query=query))
        assert len(page["items"]) <= 2
        seen |= {w["id"] for w in page["items"]}
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == created


def test_members_are_added_by_email_and_see_their_role(alice: User, bob: User) -> None:
    ws = create_workspace(alice)
    body = {"email": "BOB@example.com", "role": "viewer"}
    reply = call("POST", f"/workspaces/{ws}/members", claims=alice.claims, body=body)
    assert reply.status == 201
    member = reply.json()
    assert (member["user_id"], member["email"], member["role"]) == (bob.id, "bob@example.com", "viewer")
    again = call("POST", f"/workspaces/{ws}/members", claims=alice.claims, body={**body, "role": "editor"})
    assert again.status == 200
    assert again.json()["role"] == "editor"
    assert ok(call("GET", f"/workspaces/{ws}", claims=bob.claims))["my_role"] == "editor"


def test_a_user_whose_email_is_not_verified_cannot_be_added_by_it(aws: Any, alice: User) -> None:
    """A membership binds to an address Cognito verified, never to one a user typed in."""
    mallory = make_user(aws, "ceo@example.com", verified=False)
    ws = create_workspace(alice)
    body = {"email": "ceo@example.com", "role": "editor"}
    reply = call("POST", f"/workspaces/{ws}/members", claims=alice.claims, body=body)
    assert reply.status == 422
    assert "email" in reply.json()["fields"]
    assert call("GET", f"/workspaces/{ws}", claims=mallory.claims).status == 404


def test_an_unverified_email_claim_never_names_the_caller(alice: User) -> None:
    claims = {**alice.claims, "email_verified": "false"}
    assert ok(call("GET", "/me", claims=claims))["email"] == ""


def test_a_members_role_is_changed_by_user_id(alice: User, bob: User) -> None:
    ws = create_workspace(alice)
    add_member(alice, ws, bob, "viewer")
    reply = call("PUT", f"/workspaces/{ws}/members/{bob.id}", claims=alice.claims, body={"role": "editor"})
    assert reply.status == 200
    assert (reply.json()["user_id"], reply.json()["role"]) == (bob.id, "editor")
    assert ok(call("GET", f"/workspaces/{ws}", claims=bob.claims))["my_role"] == "editor"


def test_changing_the_role_of_a_non_member_is_404_and_adds_nobody(alice: User, bob: User) -> None:
    ws = create_workspace(alice)
    reply = call("PUT", f"/workspaces/{ws}/members/{bob.id}", claims=alice.claims, body={"role": "editor"})
    assert reply.status == 404
    assert call("GET", f"/workspaces/{ws}", claims=bob.claims).status == 404


def test_an_unknown_email_is_a_422_naming_email(alice: User) -> None:
    ws = create_workspace(alice)
    body = {"email": "nobody@example.com", "role": "viewer"}
    reply = call("POST", f"/workspaces/{ws}/members", claims=alice.claims, body=body)
    assert reply.status == 422
    assert "email" in reply.json()["fields"]


@pytest.mark.parametrize("email", ["x'@example.com", "not-an-email", "a@b", "a" * 400 + "@example.com"])
def test_malformed_emails_are_422(alice: User, email: str) -> None:
    ws = create_workspace(alice)
    reply = call("POST", f"/workspaces/{ws}/members", claims=alice.claims, body={"email": email, "role": "viewer"})
    assert reply.status == 422
    assert "email" in reply.json()["fields"]


def test_the_last_owner_can_neither_leave_nor_be_demoted(alice: User, bob: User) -> None:
    ws = create_workspace(alice)
    add_member(alice, ws, bob, "editor")
    demote = call("PUT", f"/workspaces/{ws}/members/{alice.id}", claims=alice.claims, body={"role": "editor"})
    assert demote.status == 409
    assert call("DELETE", f"/workspaces/{ws}/members/{alice.id}", claims=alice.claims).status == 409
    add_member(alice, ws, bob, "owner")
    assert call("DELETE", f"/workspaces/{ws}/members/{alice.id}", claims=alice.claims).status == 204
    assert call("GET", f"/workspaces/{ws}", claims=alice.claims).status == 404
    assert call("DELETE", f"/workspaces/{ws}/members/{bob.id}", claims=bob.claims).status == 409


def test_two_owners_removing_each_other_at_once_leave_one_owner(
    aws: Any, alice: User, bob: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Bob's removal of Alice lands between Alice's checks and her own write. (Interleaved
    deterministically: moto does not lock items between threads.)"""
    from docuserve.adapters.store import Store

    ws = create_workspace(alice)
    add_member(alice, ws, bob, "owner")
    real = Store.transact
    overtaken: list[int] = []

    def transact_after_bob(self: Store, actions: list[dict[str, Any]]) -> None:
        if not overtaken:
            monkeypatch.setattr(Store, "transact", real)
            overtaken.append(call("DELETE", f"/workspaces/{ws}/members/{alice.id}", claims=bob.claims).status)
        real(self, actions)

    monkeypatch.setattr(Store, "transact", transact_after_bob)
    reply = call("DELETE", f"/workspaces/{ws}/members/{bob.id}", claims=alice.claims)
    assert (overtaken, reply.status) == ([204], 409)
    members = ok(call("GET", f"/workspaces/{ws}/members", claims=bob.claims))["items"]
    assert [(m["user_id"], m["role"]) for m in members] == [(bob.id, "owner")]


def test_a_workspace_is_deleted_only_when_empty(aws: Any, alice: User) -> None:
    ws = create_workspace(alice)
    doc = create_document(alice, ws)["document"]["id"]
    assert call("DELETE", f"/workspaces/{ws}", claims=alice.claims).status == 409
    ok(call("DELETE", f"/documents/{doc}", claims=alice.claims), 204)
    assert call("DELETE", f"/workspaces/{ws}", claims=alice.claims).status == 409  # the trash counts
    ok(call("DELETE", f"/documents/{doc}", claims=alice.claims, query={"purge": "true"}), 204)
    assert call("DELETE", f"/workspaces/{ws}", claims=alice.claims).status == 204
    assert call("GET", f"/workspaces/{ws}", claims=alice.claims).status == 404
    assert ok(call("GET", "/workspaces", claims=alice.claims))["items"] == []


def test_rename_and_describe(alice: User) -> None:
    ws = create_workspace(alice)
    got = ok(call("PATCH", f"/workspaces/{ws}", claims=alice.claims, body={"name": "Renamed", "description": "d"}))
    assert (got["name"], got["description"], got["my_role"]) == ("Renamed", "d", "owner")
    audit = ok(call("GET", f"/workspaces/{ws}/audit", claims=alice.claims))["items"]
    assert audit[0]["action"] == "workspace.updated"
