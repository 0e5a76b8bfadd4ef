"""``GET/PUT /me/notifications``: each user's own mail choices, every mail on until turned off."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.gateway import call, claims_for

pytestmark = pytest.mark.usefixtures("aws")


def _alice() -> dict[str, str]:
    # Built per test: the claims name the app client the ``aws`` fixture provisions.
    return claims_for("alice-id", "alice@example.com")


def _bob() -> dict[str, str]:
    return claims_for("bob-id", "bob@example.com")


ALL_ON = {"link_downloaded": True, "threat_found": True, "files_arrived": True}


def _put(body: Any, claims: dict[str, str] | None = None) -> Any:
    return call("PUT", "/me/notifications", claims=claims or _alice(), body=body)


def test_a_user_who_never_chose_gets_every_mail() -> None:
    reply = call("GET", "/me/notifications", claims=_alice())
    assert reply.status == 200, reply.text
    assert reply.json() == ALL_ON


def test_a_put_changes_only_the_named_choices_and_is_read_back() -> None:
    reply = _put({"link_downloaded": False})
    assert reply.status == 200, reply.text
    assert reply.json() == {**ALL_ON, "link_downloaded": False}
    reply = _put({"threat_found": False, "files_arrived": False})
    assert reply.json() == {"link_downloaded": False, "threat_found": False, "files_arrived": False}
    assert call("GET", "/me/notifications", claims=_alice()).json() == reply.json()
    assert _put({"link_downloaded": True}).json()["link_downloaded"] is True


def test_choices_are_per_user() -> None:
    _put({"link_downloaded": False}, _alice())
    assert call("GET", "/me/notifications", claims=_bob()).json() == ALL_ON


def test_without_sign_in_the_routes_are_refused() -> None:
    assert call("GET", "/me/notifications").status == 401
    assert call("PUT", "/me/notifications", body={"link_downloaded": False}).status == 401


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"link_downloaded": "no"}, "link_downloaded"),
        ({"threat_found": 0}, "threat_found"),
        ({"files_arrived": None, "link_downloaded": 1}, "link_downloaded"),
        ({"link_downloaded": False, "mail_me_everything": True}, "mail_me_everything"),
        ({}, "body"),
        ([{"link_downloaded": False}], "body"),
    ],
)
def test_a_bad_or_unknown_field_is_a_422_naming_it_and_changes_nothing(body: Any, field: str) -> None:
    _put({"threat_found": False})
    reply = _put(body)
    assert reply.status == 422, reply.text
    assert field in reply.json()["fields"], reply.json()
    assert call("GET", "/me/notifications", claims=_alice()).json() == {**ALL_ON, "threat_found": False}


def test_a_body_that_is_not_json_is_refused_not_a_server_error() -> None:
    reply = call("PUT", "/me/notifications", claims=_alice(), raw_body="link_downloaded=false")
    assert 400 <= reply.status < 500, reply.text
