"""A cancelled transaction passes for a conflict only when the data said no (SPEC amendments:
"transactions cancelled by conflicts ... never mapped to a wrong status")."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from docuserve.adapters.store import Store, TransactionCancelled


def _cancelled(*reasons: str) -> ClientError:
    return ClientError(
        {
            "Error": {"Code": "TransactionCanceledException", "Message": "cancelled"},
            "CancellationReasons": [{"Code": r} for r in reasons],
        },
        "TransactWriteItems",
    )


class _Client:
    def __init__(self, error: ClientError) -> None:
        self.error = error

    def transact_write_items(self, **_: Any) -> None:
        raise self.error


@pytest.mark.usefixtures("aws")
@pytest.mark.parametrize(
    "reasons", [("None", "ConditionalCheckFailed"), ("ConditionalCheckFailed", "TransactionConflict")]
)
def test_a_condition_or_a_concurrent_transaction_is_a_cancellation(
    monkeypatch: pytest.MonkeyPatch, reasons: tuple[str, ...]
) -> None:
    monkeypatch.setattr(Store, "_client", _Client(_cancelled(*reasons)))
    with pytest.raises(TransactionCancelled) as raised:
        Store().transact([{"Put": {"Item": {"pk": "a", "sk": "b"}}}])
    assert raised.value.reasons == list(reasons)


@pytest.mark.usefixtures("aws")
def test_a_concurrent_transaction_alone_is_retried_then_contended(monkeypatch: pytest.MonkeyPatch) -> None:
    from docuserve.adapters import store

    monkeypatch.setattr(store, "_pause", lambda _seconds: None)
    monkeypatch.setattr(Store, "_client", _Client(_cancelled("TransactionConflict", "None")))
    with pytest.raises(store.Contended):
        Store().transact([{"Put": {"Item": {"pk": "a", "sk": "b"}}}])


@pytest.mark.usefixtures("aws")
@pytest.mark.parametrize(
    "reasons", [("None", "ValidationError"), ("UnicodeEncodeError",), ("ConditionalCheckFailed", "ValidationError")]
)
def test_any_other_reason_is_a_failure_not_a_conflict(
    monkeypatch: pytest.MonkeyPatch, reasons: tuple[str, ...]
) -> None:
    monkeypatch.setattr(Store, "_client", _Client(_cancelled(*reasons)))
    with pytest.raises(ClientError):
        Store().transact([{"Put": {"Item": {"pk": "a", "sk": "b"}}}])


def test_an_unencodable_name_reaching_the_logic_is_not_reported_as_a_conflict(aws: Any) -> None:
    # The edge refuses such a name with a 422 (docuserve.screening); were it ever bypassed, the
    # update must fail loudly rather than answer the misleading 409 "changing concurrently".
    from docuserve import documents
    from docuserve.identity import Caller
    from tests.support.world import build_world

    world = build_world(aws)
    caller = Caller(user_id=world.owner.id, email=world.owner.email, groups=("admins",))
    with pytest.raises(ClientError):  # a failure (500), not Conflict (409)
        documents.update(caller, world.document_id, name="x\ud800", folder=None, tags=None, description=None)
