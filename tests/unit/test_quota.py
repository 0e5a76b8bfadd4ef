"""Quota arithmetic and the reservation/release actions (``docuserve.quota``, ``uploads.release_actions``)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from docuserve import keys, quota, uploads
from docuserve.errors import QuotaExceeded

WS = "6m1q9ahwhwt4ggwa"


@pytest.fixture(autouse=True)
def default_quota(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(quota, "get_settings", lambda: SimpleNamespace(default_quota_bytes=1_000))


def test_an_older_workspace_without_counters_uses_nothing_of_the_stage_default() -> None:
    assert (quota.used_of({}), quota.quota_of({}), quota.remaining({})) == (0, 1_000, 1_000)


def test_its_own_quota_wins_over_the_default_even_when_zero() -> None:
    assert quota.quota_of({"quota_bytes": 0}) == 0
    assert quota.quota_of({"quota_bytes": 5_000}) == 5_000


@pytest.mark.parametrize(
    ("used", "limit", "n", "fits"),
    [(0, 10, 10, True), (0, 10, 11, False), (4, 10, 6, True), (4, 10, 7, False), (12, 10, 0, False)],
)
def test_an_upload_fits_when_used_stays_at_most_the_quota_minus_its_size(
    used: int, limit: int, n: int, fits: bool
) -> None:
    assert quota.fits({"used_bytes": used, "quota_bytes": limit}, n) is fits


def test_nothing_is_left_below_zero_when_the_quota_was_lowered_under_the_usage() -> None:
    assert quota.remaining({"used_bytes": 12, "quota_bytes": 10}) == 0


def test_the_refusal_is_413_quota_exceeded_naming_the_bytes_left() -> None:
    refused = quota.refuse({"used_bytes": 7, "quota_bytes": 10}, 5)
    assert isinstance(refused, QuotaExceeded)
    assert (refused.status, refused.code) == (413, "quota_exceeded")
    assert refused.details == {"remaining_bytes": 3, "quota_bytes": 10, "used_bytes": 7}


def test_the_reservation_guards_used_at_most_quota_minus_n_and_the_quota_it_read() -> None:
    action = quota.workspace_update(WS, add_bytes=4, add_documents=1, workspace={"used_bytes": 3, "quota_bytes": 10})[
        "Update"
    ]
    assert action["Key"] == keys.workspace(WS)
    assert action["UpdateExpression"] == "ADD used_bytes :n, document_count :d"
    assert action["ExpressionAttributeValues"] == {":n": 4, ":d": 1, ":room": 6, ":q": 10}
    assert "used_bytes <= :room" in action["ConditionExpression"]
    assert "quota_bytes = :q" in action["ConditionExpression"]


def test_a_workspace_on_the_default_quota_is_guarded_against_getting_its_own_meanwhile() -> None:
    action = quota.workspace_update(WS, add_bytes=4, workspace={"used_bytes": 3})["Update"]
    assert action["UpdateExpression"] == "ADD used_bytes :n"
    assert action["ExpressionAttributeValues"][":room"] == 996
    assert "attribute_not_exists(quota_bytes)" in action["ConditionExpression"]


def test_a_reservation_that_cannot_fit_is_refused_before_any_write() -> None:
    with pytest.raises(QuotaExceeded):
        quota.workspace_update(WS, add_bytes=8, workspace={"used_bytes": 3, "quota_bytes": 10})


def _session(*reservations: dict[str, Any]) -> dict[str, Any]:
    return {"id": "u", "reservations": list(reservations)}


def test_release_negates_every_reservation_one_action_per_item() -> None:
    request = {"pk": "REQUEST#r", "sk": "REQUEST", "add": {"files_used": 1, "bytes_used": 40}}
    actions = uploads.release_actions(_session(quota.reservation_entry(WS, 40), request))
    assert [a["Update"]["Key"] for a in actions] == [keys.workspace(WS), {"pk": "REQUEST#r", "sk": "REQUEST"}]
    by_key = {a["Update"]["Key"]["pk"]: a["Update"] for a in actions}
    ws = by_key[keys.workspace(WS)["pk"]]
    assert ws["ExpressionAttributeNames"] == {"#a0": "used_bytes"}
    assert ws["ExpressionAttributeValues"] == {":a0": -40}
    req = by_key["REQUEST#r"]
    assert dict(
        zip(req["ExpressionAttributeNames"].values(), req["ExpressionAttributeValues"].values(), strict=True)
    ) == {
        "files_used": -1,
        "bytes_used": -40,
    }


def test_a_discard_merges_its_document_count_into_the_workspace_release() -> None:
    ws = keys.workspace(WS)
    (action,) = uploads.release_actions(
        _session(quota.reservation_entry(WS, 40)), also={(ws["pk"], ws["sk"]): {"document_count": -1}}
    )
    update = action["Update"]
    assert update["UpdateExpression"] == "ADD #a0 :a0, #a1 :a1"
    assert update["ExpressionAttributeValues"] == {":a0": -40, ":a1": -1}


def test_a_session_from_before_quotas_releases_nothing() -> None:
    assert uploads.release_actions({"id": "u"}) == []
