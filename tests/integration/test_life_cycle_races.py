"""One document life cycle under real concurrency (SPEC amendments, issue 13).

Each test forces one interleaving deterministically: the other operation runs to completion just
before a chosen AWS call of the first (``tests.support.interleave``), or a call is answered with
the fault real DynamoDB or S3 would give (transaction conflicts, partial delete failures).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.support import interleave
from tests.support.documents import User, create_document, create_workspace, make_user, ok
from tests.support.gateway import call


@pytest.fixture
def alice(aws: Any) -> User:
    return make_user(aws, "alice@example.com")


@pytest.fixture
def ws(alice: User) -> str:
    return create_workspace(alice)


@pytest.fixture(autouse=True)
def no_backoff_sleep(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Record the adapter's backoff pauses instead of sleeping through them."""
    from docuserve.adapters import store

    pauses: list[float] = []
    monkeypatch.setattr(store, "_pause", pauses.append)
    return pauses


# --- 7: transactions cancelled by a conflict are retried, never mapped to a wrong status -------


def _conflict_on_workspace(times: int) -> Any:
    """Cancel the first ``times`` transactions that write the workspace item with TransactionConflict."""
    left = [times]

    def answer(request: dict[str, Any]) -> tuple[int, dict[str, Any]] | None:
        items = interleave.transact_items(request)
        touches = ["Update" in i and i["Update"]["Key"]["sk"] == {"S": "WS"} for i in items]
        if left[0] <= 0 or not any(touches):
            return None
        left[0] -= 1
        return interleave.cancelled(*("TransactionConflict" if t else "None" for t in touches))

    return answer


def test_an_upload_whose_transaction_meets_a_concurrent_one_is_retried_and_created(
    alice: User, ws: str, no_backoff_sleep: list[float]
) -> None:
    with interleave.fail("dynamodb:TransactWriteItems", _conflict_on_workspace(2)) as answered:
        created = create_document(alice, ws)
    assert answered == [400, 400]
    assert ok(call("GET", f"/documents/{created['document']['id']}", claims=alice.claims))["name"] == "plan.pdf"
    assert len(no_backoff_sleep) == 2
    assert all(0 <= p <= 1.0 for p in no_backoff_sleep)


def test_a_conflict_that_outlasts_the_retries_is_a_retryable_429_not_a_404(alice: User, ws: str) -> None:
    body = {"name": "a.pdf", "content_type": "application/pdf", "size": 1, "sha256": "x" * 43 + "="}
    with interleave.fail("dynamodb:TransactWriteItems", _conflict_on_workspace(100)):
        reply = call("POST", f"/workspaces/{ws}/documents", claims=alice.claims, body=body)
    assert reply.status == 429, reply.text
    assert reply.json()["code"] == "contended"
    assert reply.headers.get("retry-after") == "1"


def test_a_failed_condition_is_not_retried_even_beside_a_conflict(alice: User, ws: str) -> None:
    from docuserve.adapters.store import Store, TransactionCancelled

    def answer(request: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        return interleave.cancelled("ConditionalCheckFailed", "TransactionConflict")

    with interleave.fail("dynamodb:TransactWriteItems", answer) as answered, pytest.raises(TransactionCancelled):
        Store().transact([{"ConditionCheck": {"Key": {"pk": "a", "sk": "b"}, "ConditionExpression": "x"}}] * 2)
    assert answered == [400]


def test_backoff_is_jittered_and_bounded() -> None:
    from docuserve.adapters import store

    pauses = [store.backoff(attempt) for attempt in range(store.TRANSACT_ATTEMPTS) for _ in range(50)]
    assert all(0 <= p <= store.BACKOFF_CAP_SECONDS for p in pauses)
    assert len(set(pauses)) > 10  # jittered, not a fixed schedule
