"""SPEC promise 10 for the folder routes' bodies: the property of ``test_property_bad_input`` (odd
values, odd JSON, odd content types and encodings) over ``POST`` and ``DELETE
/workspaces/{workspace_id}/folders``: never a 5xx, a 422 names a field that was sent or the model
has, and a refusal leaves every stored item as it was."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings

from docuserve.models.folders import FolderBody
from tests.integration.test_property_bad_input import EXAMPLES, RANDOM, BodyRoute, _check, requests
from tests.support.gateway import call
from tests.support.world import World, build_world, snapshot

FOLDER_ROUTES = [
    BodyRoute("POST", "/workspaces/{workspace_id}/folders", FolderBody),
    BodyRoute("DELETE", "/workspaces/{workspace_id}/folders", FolderBody),
]


@pytest.mark.parametrize("route", FOLDER_ROUTES, ids=lambda r: r.key)
def test_no_generated_folder_body_fails_the_server_or_changes_state_when_refused(aws: Any, route: BodyRoute) -> None:
    world: World = build_world(aws)
    path = route.path.format(**world.params)
    # Something to delete, so a DELETE that gets past validation can really change state.
    created = call("POST", path, claims=world.owner.claims, body={"path": "/a"})
    assert created.status == 201, created.text
    cases = 0

    @given(request=requests(route))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=not RANDOM,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(request: tuple[bytes | str, str]) -> None:
        nonlocal cases
        cases += 1
        body, content_type = request
        before = snapshot(aws)
        reply = call(
            route.method, path, claims=world.owner.claims, raw_body=body, headers={"content-type": content_type}
        )
        _check(route, reply, body, lambda: snapshot(aws) != before)

    run()
    assert cases >= 1
