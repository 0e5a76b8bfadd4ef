"""One document life cycle under real concurrency (SPEC amendments, issue 13).

Each test forces one interleaving deterministically: the other operation runs to completion just
before a chosen AWS call of the first (``tests.support.interleave``), or a call is answered with
the fault real DynamoDB or S3 would give (transaction conflicts, partial delete failures).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import boto3
import pytest

from docuserve import documents, keys, workspaces
from docuserve.adapters.store import Store
from docuserve.identity import Caller
from docuserve.roles import Role
from tests.support import interleave
from tests.support.documents import (
    User,
    create_document,
    create_workspace,
    deliver,
    land,
    make_user,
    ok,
    sha256_b64,
    upload,
)
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


def _conflict_on_workspace(times: int, reason: str = "TransactionConflict") -> Any:
    """Cancel the first ``times`` transactions that write the workspace item with ``reason`` on it."""
    left = [times]

    def answer(request: dict[str, Any]) -> tuple[int, dict[str, Any]] | None:
        items = interleave.transact_items(request)
        touches = ["Update" in i and i["Update"]["Key"]["sk"] == {"S": "WS"} for i in items]
        if left[0] <= 0 or not any(touches):
            return None
        left[0] -= 1
        return interleave.cancelled(*(reason if t else "None" for t in touches))

    return answer


@pytest.mark.parametrize("reason", ["TransactionConflict", "ThrottlingError"])
def test_an_upload_whose_transaction_meets_a_concurrent_one_is_retried_and_created(
    alice: User, ws: str, no_backoff_sleep: list[float], reason: str
) -> None:
    with interleave.fail("dynamodb:TransactWriteItems", _conflict_on_workspace(2, reason)) as answered:
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


# --- invariants checked after each interleaving --------------------------------------------------


def _available(aws: Any, alice: User, ws: str, data: bytes = b"one") -> str:
    created = create_document(alice, ws, data)
    upload(aws, created["upload"]["upload_id"], data)
    return str(created["document"]["id"])


def _object_versions(aws: Any, ws: str, doc: str) -> list[str]:
    s3 = boto3.client("s3", region_name=aws.region)
    listed = s3.list_object_versions(Bucket=aws.bucket_name, Prefix=f"documents/{ws}/{doc}/")
    return [v["VersionId"] for v in [*listed.get("Versions", []), *listed.get("DeleteMarkers", [])]]


def _items(doc: str) -> list[dict[str, Any]]:
    return Store().query(f"DOC#{doc}", limit=1000, consistent=True).items


def assert_purged_leaving_nothing(aws: Any, alice: User, ws: str, doc: str) -> None:
    assert _object_versions(aws, ws, doc) == []
    assert _items(doc) == []
    assert call("GET", f"/documents/{doc}", claims=alice.claims).status == 404
    for link in Store().query(keys.document_shares_pk(doc), index="gsi2", limit=100).items:
        assert link.get("document_status") != "available"


def assert_available_with_its_bytes(aws: Any, alice: User, ws: str, doc: str) -> None:
    got = ok(call("GET", f"/documents/{doc}", claims=alice.claims))
    assert got["status"] == "available"
    landed = [v for v in got["versions"] if v["status"] == "available"]
    assert landed
    assert got["current_version"] in {v["id"] for v in landed}
    s3 = boto3.client("s3", region_name=aws.region)
    for version in landed:
        item = Store().get(keys.version(doc, version["id"]))
        assert item is not None
        s3.head_object(Bucket=aws.bucket_name, Key=item["object_key"], VersionId=item["s3_version_id"])
    ok(call("GET", f"/documents/{doc}/download", claims=alice.claims))


def _purge(alice: User, doc: str) -> int:
    return call("DELETE", f"/documents/{doc}", claims=alice.claims, query={"purge": "true"}).status


def _trash(alice: User, doc: str) -> None:
    ok(call("DELETE", f"/documents/{doc}", claims=alice.claims), 204)


def caller(user: User) -> Caller:
    return Caller(user_id=user.id, email=user.email, groups=())


def _restore(alice: User, doc: str) -> Callable[[], int]:
    return lambda: interleave.status_of(lambda: documents.restore(caller(alice), doc))


# --- 1: a purge racing a restore never loses data ------------------------------------------------


def test_a_restore_while_the_bytes_are_being_deleted_is_refused_and_the_purge_finishes(
    aws: Any, alice: User, ws: str
) -> None:
    doc = _available(aws, alice, ws)
    _trash(alice, doc)
    with interleave.before("s3:DeleteObjects", _restore(alice, doc)) as restore:
        purged = _purge(alice, doc)
    assert (restore.result, purged) == (409, 204)
    assert_purged_leaving_nothing(aws, alice, ws, doc)


def test_a_restore_at_any_point_of_a_purge_leaves_either_the_document_whole_or_nothing(
    aws: Any, alice: User, ws: str
) -> None:
    probe = _available(aws, alice, ws)
    _trash(alice, probe)
    with interleave.calls() as seen:
        assert _purge(alice, probe) == 204
    explored = 0
    for point in range(1, len(seen) + 1):
        doc = _available(aws, alice, ws)
        _trash(alice, doc)
        with interleave.before(None, _restore(alice, doc), nth=point) as restore:
            purged = _purge(alice, doc)
        assert restore.ran
        assert restore.error is None
        outcome = (restore.result, purged)
        # Restored first (the purge refuses), refused while purging, or too late: the document is gone.
        assert outcome in {(200, 409), (409, 204), (404, 204)}, (point, seen[point - 1], outcome)
        if purged == 204:
            assert_purged_leaving_nothing(aws, alice, ws, doc)
        else:
            assert_available_with_its_bytes(aws, alice, ws, doc)
        explored += 1
    assert explored == len(seen) >= 6


def test_the_trash_sweeper_claims_the_document_the_same_way(
    aws: Any, alice: User, ws: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from docuserve import clock, retention
    from docuserve.settings import get_settings

    doc = _available(aws, alice, ws)
    _trash(alice, doc)
    later = clock.now() + timedelta(days=get_settings().limits.trash_days + 1)
    monkeypatch.setattr(clock, "now", lambda: later)
    with interleave.before("s3:DeleteObjects", _restore(alice, doc)) as restore:
        result = retention.sweep()
    assert (restore.result, result.purged) == (409, 1)
    assert_purged_leaving_nothing(aws, alice, ws, doc)


# --- 2: a version landing during a purge leaves no bytes behind ---------------------------------


def _with_pending_version(aws: Any, alice: User, ws: str, data: bytes) -> tuple[str, str]:
    """A trashed document with one landed version and one upload started before the trash."""
    doc = _available(aws, alice, ws)
    body = {"size": len(data), "sha256": sha256_b64(data)}
    started = ok(call("POST", f"/documents/{doc}/versions", claims=alice.claims, body=body), 201)
    _trash(alice, doc)
    return doc, str(started["upload_id"])


def _landing(aws: Any, upload_id: str, data: bytes) -> Callable[[], Any]:
    """The client's PUT and then its S3 event, delivered to the upload-events function."""
    return lambda: deliver(aws, land(aws, upload_id, data))


def test_a_version_landing_while_the_purge_deletes_bytes_is_refused_and_its_bytes_deleted(
    aws: Any, alice: User, ws: str
) -> None:
    doc, upload_id = _with_pending_version(aws, alice, ws, b"late")
    with interleave.before("s3:DeleteObjects", _landing(aws, upload_id, b"late")) as landing:
        assert _purge(alice, doc) == 204
    assert landing.error is None
    assert landing.result == {"batchItemFailures": []}
    assert_purged_leaving_nothing(aws, alice, ws, doc)


def test_a_version_landing_at_any_point_of_a_purge_leaves_nothing_behind(aws: Any, alice: User, ws: str) -> None:
    probe, _ = _with_pending_version(aws, alice, ws, b"late")
    with interleave.calls() as seen:
        assert _purge(alice, probe) == 204
    for point in range(1, len(seen) + 1):
        doc, upload_id = _with_pending_version(aws, alice, ws, b"late")
        with interleave.before(None, _landing(aws, upload_id, b"late"), nth=point) as landing:
            assert _purge(alice, doc) == 204, point
        assert landing.error is None
        assert_purged_leaving_nothing(aws, alice, ws, doc)


# --- 8: a purge whose object deletes fail fails loudly and keeps what a retry needs ------------


def _refuse_every_object(request: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """S3's answer when DeleteObjects (Quiet) could delete none of the objects: 200 with ``Errors``."""
    import re

    body = request["body"].decode() if isinstance(request["body"], bytes) else request["body"]
    keys_ = re.findall(r"<Key>([^<]+)</Key>", body)
    versions = re.findall(r"<VersionId>([^<]+)</VersionId>", body)
    errors = [
        {"Key": k, "VersionId": v, "Code": "AccessDenied", "Message": "Access Denied"}
        for k, v in zip(keys_, versions, strict=True)
    ]
    return 200, {"Errors": errors}


def test_a_purge_whose_object_deletes_fail_fails_and_purging_again_finishes(aws: Any, alice: User, ws: str) -> None:
    doc = _available(aws, alice, ws)
    _trash(alice, doc)
    with interleave.fail("s3:DeleteObjects", _refuse_every_object) as answered:
        reply = call("DELETE", f"/documents/{doc}", claims=alice.claims, query={"purge": "true"})
    assert answered == [200]
    assert reply.status == 500, reply.text
    assert _object_versions(aws, ws, doc) != []
    kept = {i["sk"].split("#")[0] for i in _items(doc)}
    assert kept == {"DOC", "VER"}  # nothing deleted that a retry needs
    assert ok(call("GET", f"/documents/{doc}", claims=alice.claims))["status"] == "purging"
    assert call("POST", f"/documents/{doc}/restore", claims=alice.claims).status == 409

    assert _purge(alice, doc) == 204
    assert_purged_leaving_nothing(aws, alice, ws, doc)


def test_the_sweeper_counts_a_purge_whose_object_deletes_fail_as_failed(
    aws: Any, alice: User, ws: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from docuserve import clock, retention
    from docuserve.settings import get_settings

    doc = _available(aws, alice, ws)
    _trash(alice, doc)
    later = clock.now() + timedelta(days=get_settings().limits.trash_days + 1)
    monkeypatch.setattr(clock, "now", lambda: later)
    with interleave.fail("s3:DeleteObjects", _refuse_every_object):
        assert retention.sweep().failed == 1
    assert _object_versions(aws, ws, doc) != []
    assert retention.sweep().purged == 1  # the next run finishes the claimed purge
    assert_purged_leaving_nothing(aws, alice, ws, doc)


# --- 3: a link is created only for a document that is still available ---------------------------


def _share(user: User, doc: str, body: dict[str, Any] | None = None) -> Any:
    return call("POST", f"/documents/{doc}/shares", claims=user.claims, body=body or {})


def _trashing(user: User, doc: str) -> Callable[[], int]:
    return lambda: interleave.status_of(lambda: documents.trash(caller(user), doc))


def test_a_link_created_while_its_document_is_being_trashed_is_refused(aws: Any, alice: User, ws: str) -> None:
    doc = _available(aws, alice, ws)
    with interleave.before("dynamodb:TransactWriteItems", _trashing(alice, doc)) as trashing:
        reply = _share(alice, doc)
    assert trashing.result == 200
    assert reply.status == 409, reply.text
    assert Store().query(keys.document_shares_pk(doc), index="gsi2", limit=10).items == []


def test_a_link_and_a_trash_at_any_point_never_leave_a_redeemable_link_to_a_trashed_document(
    aws: Any, alice: User, ws: str
) -> None:
    probe = _available(aws, alice, ws)
    with interleave.calls() as seen:
        ok(_share(alice, probe), 201)
    for point in range(1, len(seen) + 1):
        doc = _available(aws, alice, ws)
        with interleave.before(None, _trashing(alice, doc), nth=point) as trashing:
            reply = _share(alice, doc)
        assert trashing.result == 200
        assert reply.status in (201, 409), (point, reply.text)
        if reply.status == 201:
            token = reply.json()["token"]
            assert call("POST", f"/public/shares/{token}/download", body={}).status == 410, point


# --- 6: every write that depends on a role re-checks it in its own transaction ------------------


@pytest.fixture
def bob(aws: Any, alice: User, ws: str) -> User:
    from tests.support.documents import add_member

    user = make_user(aws, "bob@example.com")
    add_member(alice, ws, user, "editor")
    return user


def _removing(owner: User, ws: str, member: User) -> Callable[[], int]:
    return lambda: interleave.status_of(lambda: workspaces.remove_member(caller(owner), ws, member.id))


def _demoting(owner: User, ws: str, member: User) -> Callable[[], int]:
    return lambda: interleave.status_of(
        lambda: workspaces.change_member_role(caller(owner), ws, member.id, Role.VIEWER)
    )


def test_a_member_removed_after_the_access_check_cannot_create_a_link(
    aws: Any, alice: User, bob: User, ws: str
) -> None:
    doc = _available(aws, alice, ws)
    with interleave.before("dynamodb:TransactWriteItems", _removing(alice, ws, bob)) as removal:
        reply = _share(bob, doc)
    assert removal.result == 200
    assert reply.status == 404, reply.text
    assert Store().query(keys.document_shares_pk(doc), index="gsi2", limit=10).items == []


def test_a_removal_before_any_call_of_a_link_create_leaves_no_link(aws: Any, alice: User, bob: User, ws: str) -> None:
    from tests.support.documents import add_member

    probe = _available(aws, alice, ws)
    ok(_share(bob, probe), 201)  # warm: Bob's account status is remembered for 30 s
    with interleave.calls() as seen:
        ok(_share(bob, probe), 201)
    for point in range(1, len(seen) + 1):
        doc = _available(aws, alice, ws)
        with interleave.before(None, _removing(alice, ws, bob), nth=point) as removal:
            reply = _share(bob, doc)
        assert removal.result == 200
        made = Store().query(keys.document_shares_pk(doc), index="gsi2", limit=10).items
        # The removal committed before the create's last call (its write): no link, and a 404.
        assert (reply.status, len(made)) == (404, 0), (point, seen[point - 1], reply.status)
        add_member(alice, ws, bob, "editor")


@pytest.mark.parametrize(
    ("operation", "demoted_status"),
    [("create_document", 403), ("new_version", 403), ("rename", 403), ("trash", 403)],
)
def test_a_demotion_after_the_access_check_refuses_the_write(
    aws: Any, alice: User, bob: User, ws: str, operation: str, demoted_status: int
) -> None:
    doc = _available(aws, alice, ws)
    requests = {
        "create_document": (
            "POST",
            f"/workspaces/{ws}/documents",
            {"name": "b", "content_type": "text/plain", "size": 1, "sha256": sha256_b64(b"b")},
        ),
        "new_version": ("POST", f"/documents/{doc}/versions", {"size": 1, "sha256": sha256_b64(b"b")}),
        "rename": ("PATCH", f"/documents/{doc}", {"name": "renamed.pdf"}),
        "trash": ("DELETE", f"/documents/{doc}", None),
    }
    method, path, body = requests[operation]
    with interleave.before("dynamodb:TransactWriteItems", _demoting(alice, ws, bob)) as demotion:
        reply = call(method, path, claims=bob.claims, body=body)
    assert demotion.result == 200
    assert reply.status == demoted_status, reply.text
    got = ok(call("GET", f"/documents/{doc}", claims=alice.claims))
    assert (got["name"], got["status"], len(got["versions"])) == ("plan.pdf", "available", 1)


def test_a_demoted_owner_cannot_purge(aws: Any, alice: User, bob: User, ws: str) -> None:
    from tests.support.documents import add_member

    add_member(alice, ws, bob, "owner")
    doc = _available(aws, alice, ws)
    _trash(alice, doc)
    with interleave.before("dynamodb:TransactWriteItems", _demoting(alice, ws, bob)) as demotion:
        reply = call("DELETE", f"/documents/{doc}", claims=bob.claims, query={"purge": "true"})
    assert demotion.result == 200
    assert reply.status == 403, reply.text
    assert ok(call("GET", f"/documents/{doc}", claims=alice.claims))["status"] == "deleted"


# --- 5: version numbers are 1, 2, 3... without gaps or repeats ------------------------------------


def _starting_version(user: User, doc: str, data: bytes) -> Callable[[], Any]:
    from docuserve.uploads import Declared

    declared = Declared(size=len(data), sha256=sha256_b64(data), content_type="")
    return lambda: documents.new_version(caller(user), doc, declared)


def test_a_rename_racing_a_new_version_never_makes_a_version_number_repeat(aws: Any, alice: User, ws: str) -> None:
    doc = _available(aws, alice, ws)
    with interleave.before("dynamodb:TransactWriteItems", _starting_version(alice, doc, b"two")) as second:
        ok(call("PATCH", f"/documents/{doc}", claims=alice.claims, body={"name": "renamed.pdf"}))
    third = _starting_version(alice, doc, b"three!")()
    upload(aws, second.result.upload_id, b"two")
    upload(aws, third.upload_id, b"three!")
    got = ok(call("GET", f"/documents/{doc}", claims=alice.claims))
    numbers = sorted(v["number"] for v in got["versions"])
    assert numbers == [1, 2, 3]
    newest = max(got["versions"], key=lambda v: v["number"])
    assert got["name"] == "renamed.pdf"
    assert got["current_version"] == newest["id"]


def test_a_new_version_at_any_point_of_an_edit_keeps_the_numbers_unique(aws: Any, alice: User, ws: str) -> None:
    probe = _available(aws, alice, ws)
    with interleave.calls() as seen:
        ok(call("PATCH", f"/documents/{probe}", claims=alice.claims, body={"tags": ["x"]}))
    for point in range(1, len(seen) + 1):
        doc = _available(aws, alice, ws)
        with interleave.before(None, _starting_version(alice, doc, b"two"), nth=point) as second:
            ok(call("PATCH", f"/documents/{doc}", claims=alice.claims, body={"tags": ["x"]}))
        assert second.error is None
        _starting_version(alice, doc, b"three!")()
        numbers = sorted(v["number"] for v in ok(call("GET", f"/documents/{doc}", claims=alice.claims))["versions"])
        assert numbers == [1, 2, 3], point


# --- 4: link refreshes carry the document's revision and never go backwards ----------------------


def _link_item(token: str) -> dict[str, Any]:
    from docuserve.sharing.tokens import token_hash

    item = Store().get(keys.link(token_hash(token)))
    assert item is not None
    return item


def test_a_renames_late_link_refresh_does_not_re_enable_the_link_of_a_trashed_document(
    aws: Any, alice: User, ws: str
) -> None:
    doc = _available(aws, alice, ws)
    token = ok(_share(alice, doc), 201)["token"]
    with interleave.before("dynamodb:UpdateItem", _trashing(alice, doc)) as trashing:
        ok(call("PATCH", f"/documents/{doc}", claims=alice.claims, body={"name": "renamed.pdf"}))
    assert trashing.result == 200
    assert call("POST", f"/public/shares/{token}/download", body={}).status == 410
    assert _link_item(token)["document_status"] == "deleted"


def test_an_older_versions_late_link_refresh_does_not_overwrite_the_newer_one(aws: Any, alice: User, ws: str) -> None:
    doc = _available(aws, alice, ws)
    token = ok(_share(alice, doc), 201)["token"]
    v2 = _starting_version(alice, doc, b"two")()
    v3 = _starting_version(alice, doc, b"three!")()
    second, third = land(aws, v2.upload_id, b"two"), land(aws, v3.upload_id, b"three!")
    with interleave.before("dynamodb:Query", lambda: deliver(aws, third)) as late:
        deliver(aws, second)
    assert late.result == {"batchItemFailures": []}
    got = ok(call("GET", f"/documents/{doc}", claims=alice.claims))
    assert got["current_version"] == v3.version_id
    assert _link_item(token)["version_id"] == v3.version_id


# --- 12: links of a trashed document are unavailable; a restore resumes them only when asked -----


def _link_state(user: User, doc: str) -> list[str]:
    return [s["state"] for s in ok(call("GET", f"/documents/{doc}/shares", claims=user.claims))["items"]]


def test_the_links_of_a_trashed_document_read_unavailable(aws: Any, alice: User, ws: str) -> None:
    doc = _available(aws, alice, ws)
    ok(_share(alice, doc), 201)
    _trash(alice, doc)
    assert _link_state(alice, doc) == ["unavailable"]


def test_a_restore_resumes_no_link_unless_asked_and_says_how_many_came_back(aws: Any, alice: User, ws: str) -> None:
    doc = _available(aws, alice, ws)
    first = ok(_share(alice, doc), 201)["token"]
    revoked = ok(_share(alice, doc), 201)["id"]
    ok(call("DELETE", f"/shares/{revoked}", claims=alice.claims), 204)
    _trash(alice, doc)
    restored = ok(call("POST", f"/documents/{doc}/restore", claims=alice.claims))
    assert (restored["status"], restored["links_resumed"]) == ("available", 0)
    assert sorted(_link_state(alice, doc)) == ["revoked", "unavailable"]
    assert call("POST", f"/public/shares/{first}/download", body={}).status == 410
    ok(call("PATCH", f"/documents/{doc}", claims=alice.claims, body={"name": "renamed.pdf"}))
    assert call("POST", f"/public/shares/{first}/download", body={}).status == 410  # a later change neither

    _trash(alice, doc)
    body = {"resume_links": True}
    restored = ok(call("POST", f"/documents/{doc}/restore", claims=alice.claims, body=body))
    assert restored["links_resumed"] == 1
    assert sorted(_link_state(alice, doc)) == ["active", "revoked"]
    assert call("POST", f"/public/shares/{first}/download", body={}).status == 200


# --- 9: a removed or demoted editor's upload never lands ----------------------------------------


def _bobs_upload(aws: Any, alice: User, bob: User, ws: str) -> tuple[str, str, dict[str, Any]]:
    """A document of Alice's and a new version Bob (an editor) has started: (doc, upload id, v1)."""
    doc = _available(aws, alice, ws)
    v1 = ok(call("GET", f"/documents/{doc}", claims=alice.claims))
    body = {"size": 4, "sha256": sha256_b64(b"evil")}
    started = ok(call("POST", f"/documents/{doc}/versions", claims=bob.claims, body=body), 201)
    return doc, str(started["upload_id"]), v1


@pytest.mark.parametrize("index_lag", [False, True], ids=["aborted", "missed_by_the_stale_index"])
@pytest.mark.parametrize("change", ["removed", "demoted"])
def test_an_upload_url_issued_before_the_role_was_lost_never_replaces_the_current_version(
    aws: Any, alice: User, bob: User, ws: str, change: str, index_lag: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    from docuserve import uploads

    doc, upload_id, before = _bobs_upload(aws, alice, bob, ws)
    if index_lag:  # the uploader index has not caught up: the removal finds no upload to abort
        monkeypatch.setattr(uploads, "abort_pending_of", lambda *args, **kwargs: 0)
    if change == "removed":
        ok(call("DELETE", f"/workspaces/{ws}/members/{bob.id}", claims=alice.claims), 204)
    else:
        ok(call("PUT", f"/workspaces/{ws}/members/{bob.id}", claims=alice.claims, body={"role": "viewer"}))
    landed = land(aws, upload_id, b"evil")  # the URL is still within its 15 minutes
    assert deliver(aws, landed) == {"batchItemFailures": []}

    after = ok(call("GET", f"/documents/{doc}", claims=alice.claims))
    assert after["current_version"] == before["current_version"]
    assert [v["status"] for v in after["versions"]] == ["failed", "available"]
    assert landed["version_id"] not in _object_versions(aws, ws, doc)  # the bytes are gone
    session = Store().get(keys.upload(upload_id))
    assert session is not None
    assert session["status"] in ("aborted", "failed")
    actions = [e["action"] for e in ok(call("GET", f"/documents/{doc}/audit", claims=alice.claims))["items"]]
    assert actions.count("version.available") == 1  # version 1 only
    assert actions[0] == ("upload.refused" if index_lag else "upload.aborted")


@pytest.mark.parametrize("change", ["removed", "demoted"])
def test_losing_the_editor_role_aborts_the_pending_uploads(
    aws: Any, alice: User, bob: User, ws: str, change: str
) -> None:
    _, upload_id, _ = _bobs_upload(aws, alice, bob, ws)
    if change == "removed":
        ok(call("DELETE", f"/workspaces/{ws}/members/{bob.id}", claims=alice.claims), 204)
    else:
        ok(call("PUT", f"/workspaces/{ws}/members/{bob.id}", claims=alice.claims, body={"role": "viewer"}))
    session = Store().get(keys.upload(upload_id))
    assert session is not None
    assert (session["status"], session.get("failure_reason")) == ("aborted", "the uploader lost the editor role")
    events = ok(call("GET", f"/workspaces/{ws}/audit", claims=alice.claims))["items"]
    assert any(e["action"] == "upload.aborted" for e in events)


def test_a_removal_at_any_point_of_a_landing_never_lets_a_version_of_a_non_member_land(
    aws: Any, alice: User, bob: User, ws: str
) -> None:
    from tests.support.documents import add_member

    _, upload_id, _ = _bobs_upload(aws, alice, bob, ws)
    with interleave.calls() as seen:
        deliver(aws, land(aws, upload_id, b"evil"))
    for point in range(1, len(seen) + 1):
        doc, upload_id, before = _bobs_upload(aws, alice, bob, ws)
        landed = land(aws, upload_id, b"evil")
        with interleave.before(None, _removing(alice, ws, bob), nth=point) as removal:
            assert deliver(aws, landed) == {"batchItemFailures": []}
        if not removal.ran:  # this landing made fewer calls than the probe (the probe read more)
            break
        assert removal.result == 200
        after = ok(call("GET", f"/documents/{doc}", claims=alice.claims))
        newest = max(after["versions"], key=lambda v: v["number"])
        # The transaction that makes a version available is the landing's first TransactWriteItems.
        if "dynamodb:TransactWriteItems" not in removal.seen[:-1]:  # removed before it: never lands
            assert newest["status"] == "failed", (point, removal.seen)
            assert after["current_version"] == before["current_version"]
            assert landed["version_id"] not in _object_versions(aws, ws, doc)
        else:  # landed while Bob was still an editor
            assert after["current_version"] == newest["id"], (point, removal.seen)
        add_member(alice, ws, bob, "editor")


def test_a_trash_at_any_point_of_a_rename_never_leaves_a_redeemable_link(aws: Any, alice: User, ws: str) -> None:
    probe = _available(aws, alice, ws)
    ok(_share(alice, probe), 201)
    with interleave.calls() as seen:
        ok(call("PATCH", f"/documents/{probe}", claims=alice.claims, body={"name": "renamed.pdf"}))
    for point in range(1, len(seen) + 1):
        doc = _available(aws, alice, ws)
        token = ok(_share(alice, doc), 201)["token"]
        with interleave.before(None, _trashing(alice, doc), nth=point) as trashing:
            reply = call("PATCH", f"/documents/{doc}", claims=alice.claims, body={"name": "renamed.pdf"})
        assert trashing.result == 200
        assert reply.status in (200, 409), (point, reply.text)  # renamed first, or refused in the trash
        assert call("POST", f"/public/shares/{token}/download", body={}).status == 410, (point, seen[point - 1])
        assert _link_state(alice, doc) == ["unavailable"]
