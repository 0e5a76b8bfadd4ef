"""Workspace quotas (SPEC Phase 2 "Quotas", issue 17), through the routes on moto.

What counts: every upload from the moment it begins, versions, the trash, until purged. An upload
that ends without its bytes landing gives its reservation back, exactly once. Concurrency is
forced deterministically (``tests.support.interleave``): moto does not lock items between
threads, so a thread race here would test moto; the e2e test runs a real burst on the local stack.
"""

from __future__ import annotations

import importlib
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from docuserve import clock, documents, keys, quota, uploads
from docuserve.adapters.store import Store
from docuserve.errors import Conflict
from docuserve.identity import Caller
from tests.support import interleave
from tests.support.documents import (
    User,
    add_member,
    create_document,
    create_workspace,
    deliver,
    land,
    make_user,
    ok,
    sha256_b64,
    upload,
)
from tests.support.gateway import FakeContext, call

DATA = b"The launch plan.\n"  # 17 bytes
NOW = datetime(2026, 6, 30, 12, 0, tzinfo=UTC)


@pytest.fixture
def alice(aws: Any) -> User:
    return make_user(aws, "alice@example.com")


@pytest.fixture
def admin(aws: Any) -> User:
    return make_user(aws, "root@example.com", admin=True)


@pytest.fixture
def ws(alice: User) -> str:
    return create_workspace(alice)


def _usage(user: User, ws: str) -> tuple[int, int]:
    answer = ok(call("GET", f"/workspaces/{ws}", claims=user.claims))
    return answer["used_bytes"], answer["quota_bytes"]


def _set_quota(admin: User, ws: str, quota_bytes: Any) -> Any:
    return call("PATCH", f"/admin/workspaces/{ws}", claims=admin.claims, body={"quota_bytes": quota_bytes})


def _create(user: User, ws: str, data: bytes, name: str = "plan.pdf") -> Any:
    body = {"name": name, "content_type": "application/pdf", "size": len(data), "sha256": sha256_b64(data)}
    return call("POST", f"/workspaces/{ws}/documents", claims=user.claims, body=body)


def _new_version(user: User, doc: str, data: bytes) -> Any:
    body = {"size": len(data), "sha256": sha256_b64(data)}
    return call("POST", f"/documents/{doc}/versions", claims=user.claims, body=body)


def _listing(user: User, ws: str, **query: str) -> list[str]:
    return [d["name"] for d in ok(call("GET", f"/workspaces/{ws}/documents", claims=user.claims, query=query))["items"]]


# --- what counts ------------------------------------------------------------------------------


def test_a_new_workspace_uses_nothing_of_the_stage_default_quota(alice: User, ws: str) -> None:
    assert _usage(alice, ws) == (0, quota.quota_of({}))
    (listed,) = ok(call("GET", "/workspaces", claims=alice.claims))["items"]
    assert (listed["used_bytes"], listed["quota_bytes"]) == (0, quota.quota_of({}))


def test_an_upload_counts_from_the_moment_it_begins_and_a_new_version_adds_its_size(
    aws: Any, alice: User, ws: str
) -> None:
    created = create_document(alice, ws, DATA)
    assert _usage(alice, ws)[0] == len(DATA)  # reserved before a byte was sent
    upload(aws, created["upload"]["upload_id"], DATA)
    assert _usage(alice, ws)[0] == len(DATA)  # landing changes nothing: it was counted already
    ok(_new_version(alice, created["document"]["id"], b"version two"), 201)
    assert _usage(alice, ws)[0] == len(DATA) + len(b"version two")


def test_restoring_an_older_version_counts_its_copy(aws: Any, alice: User, ws: str) -> None:
    created = create_document(alice, ws, DATA)
    doc = created["document"]["id"]
    upload(aws, created["upload"]["upload_id"], DATA)
    second = ok(_new_version(alice, doc, b"two"), 201)
    upload(aws, second["upload_id"], b"two")
    path = f"/documents/{doc}/versions/{created['upload']['version_id']}/restore"
    ok(call("POST", path, claims=alice.claims), 202)
    assert _usage(alice, ws)[0] == 2 * len(DATA) + 3


# --- enforcement ------------------------------------------------------------------------------


def test_an_upload_that_does_not_fit_is_413_quota_exceeded_naming_the_bytes_left(
    alice: User, admin: User, ws: str
) -> None:
    ok(_set_quota(admin, ws, 30))
    create_document(alice, ws, DATA, name="first.pdf")

    refused = _create(alice, ws, DATA, name="second.pdf")

    assert refused.status == 413, refused.text
    body = refused.json()
    assert body["code"] == "quota_exceeded"
    assert body["details"] == {"remaining_bytes": 13, "quota_bytes": 30, "used_bytes": 17}
    assert "13 bytes left" in body["message"]
    assert _listing(alice, ws) == ["first.pdf"]
    assert _usage(alice, ws) == (17, 30)


def test_an_upload_that_fills_the_quota_exactly_is_accepted(alice: User, admin: User, ws: str) -> None:
    ok(_set_quota(admin, ws, 2 * len(DATA)))
    create_document(alice, ws, DATA, name="a.pdf")
    create_document(alice, ws, DATA, name="b.pdf")
    assert _usage(alice, ws) == (34, 34)
    assert _create(alice, ws, b"x").status == 413


def test_a_new_version_that_does_not_fit_is_413_and_claims_no_number(
    aws: Any, alice: User, admin: User, ws: str
) -> None:
    created = create_document(alice, ws, DATA)
    upload(aws, created["upload"]["upload_id"], DATA)
    ok(_set_quota(admin, ws, 20))

    refused = _new_version(alice, created["document"]["id"], DATA)

    assert (refused.status, refused.json()["details"]["remaining_bytes"]) == (413, 3)
    assert ok(call("GET", f"/documents/{created['document']['id']}", claims=alice.claims))["version_count"] == 1
    assert _usage(alice, ws)[0] == 17


def test_a_quota_lowered_below_the_usage_refuses_every_new_upload_with_nothing_left(
    aws: Any, alice: User, admin: User, ws: str
) -> None:
    create_document(alice, ws, DATA)
    assert ok(_set_quota(admin, ws, 5)) == {"id": ws, "name": "Launch", "used_bytes": 17, "quota_bytes": 5}
    refused = _create(alice, ws, b"")
    assert (refused.status, refused.json()["details"]["remaining_bytes"]) == (413, 0)


def test_of_two_creations_that_fit_alone_but_not_together_the_second_to_commit_is_413(
    alice: User, admin: User, ws: str
) -> None:
    """Both read the workspace before either writes: the reservation's condition decides."""
    ok(_set_quota(admin, ws, 30))
    other = Caller(user_id=alice.id, email=alice.email, groups=())
    declared = uploads.Declared(size=len(DATA), sha256=sha256_b64(DATA), content_type="text/plain")

    def slip_in() -> Any:
        return documents.create(other, ws, name="slipped.txt", folder="/", tags=[], description="", declared=declared)

    with interleave.before("dynamodb:TransactWriteItems", slip_in) as slot:
        refused = _create(alice, ws, DATA, name="mine.pdf")

    assert slot.ran
    assert slot.error is None
    assert refused.status == 413, refused.text
    assert refused.json()["details"]["remaining_bytes"] == 13
    assert _listing(alice, ws) == ["slipped.txt"]
    assert _usage(alice, ws) == (17, 30)


def test_a_quota_raised_between_the_read_and_the_write_lets_the_upload_through(
    alice: User, admin: User, ws: str
) -> None:
    ok(_set_quota(admin, ws, 20))
    root = Caller(user_id=admin.id, email=admin.email, groups=("admins",))
    with interleave.before("dynamodb:TransactWriteItems", lambda: quota.set_quota(root, ws, 40)) as slot:
        created = _create(alice, ws, DATA)
    assert slot.ran
    assert slot.error is None
    assert created.status == 201, created.text
    assert _usage(alice, ws) == (17, 40)


def test_a_quota_lowered_between_the_read_and_the_write_refuses_the_upload(alice: User, admin: User, ws: str) -> None:
    """The condition checks the quota it read too: ``used <= old quota - n`` alone would let it in."""
    ok(_set_quota(admin, ws, 40))
    root = Caller(user_id=admin.id, email=admin.email, groups=("admins",))
    with interleave.before("dynamodb:TransactWriteItems", lambda: quota.set_quota(root, ws, 10)) as slot:
        refused = _create(alice, ws, DATA)
    assert slot.ran
    assert slot.error is None
    assert (refused.status, refused.json()["details"]["remaining_bytes"]) == (413, 10)
    assert _usage(alice, ws) == (0, 10)


# --- release: every end without bytes, exactly once --------------------------------------------


def test_aborting_an_upload_gives_its_bytes_back(alice: User, ws: str) -> None:
    created = create_document(alice, ws, DATA)
    assert call("DELETE", f"/uploads/{created['upload']['upload_id']}", claims=alice.claims).status == 204
    assert _usage(alice, ws)[0] == 0
    assert _listing(alice, ws) == []  # discarded, and its document count with it
    store_ws = Store().get(keys.workspace(ws)) or {}
    assert (store_ws["document_count"], store_ws["used_bytes"]) == (0, 0)


def test_aborting_a_new_version_gives_back_that_version_only(aws: Any, alice: User, ws: str) -> None:
    created = create_document(alice, ws, DATA)
    upload(aws, created["upload"]["upload_id"], DATA)
    second = ok(_new_version(alice, created["document"]["id"], b"version two"), 201)
    assert call("DELETE", f"/uploads/{second['upload_id']}", claims=alice.claims).status == 204
    assert call("DELETE", f"/uploads/{second['upload_id']}", claims=alice.claims).status == 409
    assert _usage(alice, ws)[0] == len(DATA)


def _sweep() -> Any:
    module = importlib.import_module("handlers.trash_sweeper")
    return module.handler({"source": "aws.events", "detail-type": "Scheduled Event"}, _Long())


class _Long(FakeContext):
    def get_remaining_time_in_millis(self) -> int:
        return 600_000


def test_an_expired_upload_gives_its_bytes_back_once_however_often_the_sweep_runs(
    alice: User, ws: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(clock, "now", lambda: NOW)
    created = create_document(alice, ws, DATA)
    monkeypatch.setattr(clock, "now", lambda: NOW + timedelta(hours=2))
    _sweep()
    _sweep()
    upload_id = created["upload"]["upload_id"]
    status = ok(call("GET", f"/uploads/{upload_id}", claims=alice.claims))
    assert (status["status"], status["failure_reason"]) == ("failed", "expired")
    assert _usage(alice, ws)[0] == 0


def test_an_upload_expired_on_read_gives_its_bytes_back(aws: Any, alice: User, ws: str, monkeypatch: Any) -> None:
    monkeypatch.setattr(clock, "now", lambda: NOW)
    created = create_document(alice, ws, DATA)
    upload(aws, created["upload"]["upload_id"], DATA)
    second = ok(_new_version(alice, created["document"]["id"], b"late"), 201)
    monkeypatch.setattr(clock, "now", lambda: NOW + timedelta(hours=2))
    assert ok(call("GET", f"/uploads/{second['upload_id']}", claims=alice.claims))["status"] == "failed"
    ok(call("GET", f"/uploads/{second['upload_id']}", claims=alice.claims))
    assert _usage(alice, ws)[0] == len(DATA)


def test_a_failed_verification_gives_the_bytes_back_once_even_when_the_event_is_redelivered(
    aws: Any, alice: User, ws: str
) -> None:
    created = create_document(alice, ws, DATA)
    landed = land(aws, created["upload"]["upload_id"], b"not what was declared")

    assert deliver(aws, landed, scan=False) == {"batchItemFailures": []}
    assert deliver(aws, landed, scan=False) == {"batchItemFailures": []}  # SQS delivers at least once

    assert _usage(alice, ws)[0] == 0
    status = ok(call("GET", f"/uploads/{created['upload']['upload_id']}", claims=alice.claims))
    assert status["status"] == "failed"


def test_an_infected_version_keeps_counting(aws: Any, alice: User, ws: str) -> None:
    from local import scanner

    created = create_document(alice, ws, DATA)
    scanner.force("THREATS_FOUND")
    try:
        upload(aws, created["upload"]["upload_id"], DATA)
    finally:
        scanner.force(None)
    assert ok(call("GET", f"/documents/{created['document']['id']}", claims=alice.claims))["scan_status"] == "infected"
    assert _usage(alice, ws)[0] == len(DATA)  # its bytes stay in S3 until the purge


# --- trash and purge ----------------------------------------------------------------------------


def test_the_trash_keeps_counting_and_the_purge_gives_back_every_counted_version(
    aws: Any, alice: User, ws: str
) -> None:
    created = create_document(alice, ws, DATA)
    doc = created["document"]["id"]
    upload(aws, created["upload"]["upload_id"], DATA)
    failed = ok(_new_version(alice, doc, b"declared"), 201)
    assert deliver(aws, land(aws, failed["upload_id"], b"other bytes"), scan=False) == {"batchItemFailures": []}
    pending = ok(_new_version(alice, doc, b"never sent"), 201)  # still pending when purged
    assert _usage(alice, ws)[0] == len(DATA) + len(b"never sent")

    assert call("DELETE", f"/documents/{doc}", claims=alice.claims).status in (200, 204)
    assert _usage(alice, ws)[0] == len(DATA) + len(b"never sent")  # the trash counts

    assert call("DELETE", f"/documents/{doc}", claims=alice.claims, query={"purge": "true"}).status in (200, 204)
    assert _usage(alice, ws)[0] == 0
    # The pending upload's expiry later finds its version gone and gives back nothing more.
    session = Store().get(keys.upload(pending["upload_id"]))
    assert session is not None
    assert uploads.expire(session) == 0
    assert _usage(alice, ws)[0] == 0


def test_a_purge_that_is_finished_again_gives_nothing_back_twice(aws: Any, alice: User, ws: str) -> None:
    """A purge interrupted after its version items went (the final transaction failed) is finished
    by a later purge: the bytes went back with the version items, once."""
    from docuserve.audit import Actor
    from docuserve.documents import lifecycle
    from docuserve.documents.common import load

    first = create_document(alice, ws, DATA, name="keep.pdf")
    upload(aws, first["upload"]["upload_id"], DATA)
    created = create_document(alice, ws, b"purge me")
    doc = created["document"]["id"]
    upload(aws, created["upload"]["upload_id"], b"purge me")
    assert call("DELETE", f"/documents/{doc}", claims=alice.claims).status in (200, 204)

    def cancel_final(request: dict[str, Any]) -> Any:
        items = interleave.transact_items(request)
        if any("Delete" in i and i["Delete"]["Key"]["sk"] == {"S": "DOC"} for i in items):
            return interleave.cancelled(*("ConditionalCheckFailed" for _ in items))
        return None

    loaded = load(doc, Store())[0]
    with (
        interleave.fail("dynamodb:TransactWriteItems", cancel_final),
        pytest.raises(Conflict, match="changed while it was being purged"),
    ):
        lifecycle.purge_trashed(loaded, Actor.system(), store=Store())
    assert _usage(alice, ws)[0] == len(DATA)

    again = load(doc, Store())[0]
    lifecycle.purge_trashed(again, Actor.system(), store=Store())
    assert _usage(alice, ws)[0] == len(DATA)
    assert Store().get(keys.document(doc)) is None


# --- the admin's change -------------------------------------------------------------------------


def test_an_admin_sets_a_quota_and_it_is_audited_in_the_admin_trail(alice: User, admin: User, ws: str) -> None:
    answer = ok(_set_quota(admin, ws, 1_000))
    assert answer == {"id": ws, "name": "Launch", "used_bytes": 0, "quota_bytes": 1_000}
    assert _usage(alice, ws) == (0, 1_000)
    events = Store().query(keys.audit_pk(None), forward=False, limit=10).items
    (changed,) = [e for e in events if e["action"] == "workspace.quota_changed"]
    assert changed["details"]["workspace_id"] == ws
    assert changed["details"]["quota_bytes"] == 1_000
    assert admin.id in changed["actor"].values()


@pytest.mark.parametrize("value", [-1, "100", 1.5, True, None, 2**63])
def test_a_quota_that_is_not_a_whole_number_of_bytes_is_422_naming_the_field(admin: User, ws: str, value: Any) -> None:
    refused = _set_quota(admin, ws, value)
    assert refused.status == 422, refused.text
    assert "quota_bytes" in refused.json()["fields"]


def test_a_quota_body_without_the_field_or_with_others_is_422(admin: User, ws: str) -> None:
    assert call("PATCH", f"/admin/workspaces/{ws}", claims=admin.claims, body={}).status == 422
    body = {"quota_bytes": 1, "used_bytes": 0}
    assert call("PATCH", f"/admin/workspaces/{ws}", claims=admin.claims, body=body).status == 422


def test_a_quota_for_an_unknown_workspace_is_404(admin: User, ws: str) -> None:
    other = ws[:-4] + ("aaaa" if not ws.endswith("aaaa") else "bbbb")
    assert _set_quota(admin, other, 10).status == 404
    assert Store().get(keys.workspace(other)) is None


def test_a_member_who_is_not_an_admin_cannot_set_a_quota(alice: User, ws: str) -> None:
    refused = _set_quota(alice, ws, 10**15)
    assert refused.status == 403
    assert _usage(alice, ws)[1] == quota.quota_of({})


def test_uploads_aborted_because_their_uploader_lost_the_role_give_their_bytes_back(
    aws: Any, alice: User, ws: str
) -> None:
    bob = make_user(aws, "bob@example.com")
    add_member(alice, ws, bob, "editor")
    create_document(bob, ws, DATA, name="bobs.pdf")
    assert _usage(alice, ws)[0] == len(DATA)

    assert call("DELETE", f"/workspaces/{ws}/members/{bob.id}", claims=alice.claims).status == 204

    assert _usage(alice, ws)[0] == 0
    assert _listing(alice, ws) == []


def test_restoring_a_version_that_does_not_fit_is_413_and_claims_no_number(
    aws: Any, alice: User, admin: User, ws: str
) -> None:
    created = create_document(alice, ws, DATA)
    doc = created["document"]["id"]
    upload(aws, created["upload"]["upload_id"], DATA)
    second = ok(_new_version(alice, doc, b"two"), 201)
    upload(aws, second["upload_id"], b"two")
    ok(_set_quota(admin, ws, 30))

    refused = call("POST", f"/documents/{doc}/versions/{created['upload']['version_id']}/restore", claims=alice.claims)

    assert refused.status == 413, refused.text
    assert refused.json()["details"]["remaining_bytes"] == 10
    assert ok(call("GET", f"/documents/{doc}", claims=alice.claims))["version_count"] == 2


def test_a_restore_whose_copy_s3_refuses_gives_its_bytes_back(
    aws: Any, alice: User, ws: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from docuserve.adapters import copies

    created = create_document(alice, ws, DATA)
    doc = created["document"]["id"]
    upload(aws, created["upload"]["upload_id"], DATA)
    second = ok(_new_version(alice, doc, b"two"), 201)
    upload(aws, second["upload_id"], b"two")

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise copies.CopyRefused("NoSuchVersion")

    monkeypatch.setattr(copies, "copy_version", refuse)
    path = f"/documents/{doc}/versions/{created['upload']['version_id']}/restore"
    assert call("POST", path, claims=alice.claims).status == 409
    assert _usage(alice, ws)[0] == len(DATA) + 3  # the failed copy (a completing session) released
