"""The round-trip budget of the hot paths (docs/performance.md), counted with botocore hooks.

A regression that adds an AWS call to a partner's download, a member's download or a list page,
or that reaches for Scan anywhere, fails here rather than only showing in ``make bench``.
"""

from __future__ import annotations

from typing import Any

import pytest

from bench import scaling, scenarios


@pytest.fixture
def world(aws: Any) -> scenarios.World:
    return scenarios.world(aws)


def _measure(world: scenarios.World, name: str) -> Any:
    op = next(o for o in scenarios.OPERATIONS if o.name == name)
    reply, tally = scenarios.measure_operation(world, op)
    assert reply.status == op.expect, reply.text
    return tally


@pytest.mark.parametrize("name", [op.name for op in scenarios.OPERATIONS])
def test_no_operation_calls_scan(world: scenarios.World, name: str) -> None:
    tally = _measure(world, name)
    assert not [o for o in tally.operations if o.endswith(":Scan")], tally.operations


def test_redemption_without_password_is_one_dynamodb_round_trip_and_nothing_else(world: scenarios.World) -> None:
    tally = _measure(world, "public redemption, no password")
    assert tally.round_trips == {"dynamodb": 1}, tally.as_dict()


def test_redemption_with_password_takes_at_most_two_round_trips(world: scenarios.World) -> None:
    tally = _measure(world, "public redemption, password")
    assert tally.total_round_trips <= 2, tally.as_dict()
    assert set(tally.round_trips) == {"dynamodb"}, tally.as_dict()


def test_member_download_takes_at_most_two_round_trips(world: scenarios.World) -> None:
    tally = _measure(world, "member download")
    assert tally.total_round_trips <= 2, tally.as_dict()
    assert "s3" not in tally.round_trips, "presigning is local: no S3 call"


def test_a_list_page_reads_the_same_number_of_items_in_a_small_and_a_ten_times_larger_workspace(aws: Any) -> None:
    result = scaling.measure(aws, (100, 1000))
    small, large = (result["workspaces"][k] for k in ("100", "1000"))
    assert small["items_returned"] == large["items_returned"] == scaling.PAGE
    assert small["items_read"] == large["items_read"] == scaling.PAGE, result
