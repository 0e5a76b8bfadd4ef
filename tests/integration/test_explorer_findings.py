"""What the schedule explorer found at one switch over every pair, each pinned to one interleaving
(``tests.support.interleave``: the other operation slips in whole just before a chosen call)."""

from __future__ import annotations

from typing import Any

import pytest

from docuserve import workspaces
from docuserve.identity import Caller
from tests.support import interleave
from tests.support.documents import User, add_member, create_document, create_workspace, make_user, ok, upload
from tests.support.gateway import call


@pytest.fixture
def alice(aws: Any) -> User:
    return make_user(aws, "alice@example.com")


@pytest.fixture
def bob(aws: Any) -> User:
    return make_user(aws, "bob@example.com")


def test_a_demotion_whose_member_is_removed_right_after_it_commits_answers_the_demotion(alice: User, bob: User) -> None:
    """remove-bob + demote-bob: the demotion commits, then reads the membership back to answer; a
    removal in between left it answering 500 (``KeyError: 'workspace_id'``)."""
    ws = create_workspace(alice)
    add_member(alice, ws, bob, "editor")
    owner = Caller(user_id=alice.id, email=alice.email, groups=())

    def removal() -> Any:
        return workspaces.remove_member(owner, ws, bob.id)

    path = f"/workspaces/{ws}/members/{bob.id}"
    with interleave.before("dynamodb:GetItem", removal, nth=2) as slot:
        demoted = call("PUT", path, claims=alice.claims, body={"role": "viewer"})
    assert slot.ran
    assert slot.error is None, slot.error
    assert demoted.status == 200, demoted.text  # the demotion applied when it committed
    assert demoted.json()["role"] == "viewer"
    assert call("GET", f"/workspaces/{ws}/members", claims=alice.claims).json()["items"][0]["user_id"] == alice.id


def _shared_document(aws: Any, alice: User) -> tuple[str, str]:
    ws = create_workspace(alice)
    created = create_document(alice, ws, b"version one")
    upload(aws, created["upload"]["upload_id"], b"version one")
    return ws, created["document"]["id"]


def _link(alice: User, doc: str) -> dict[str, Any]:
    return dict(ok(call("POST", f"/documents/{doc}/shares", claims=alice.claims, body={"expires_in_days": 1}), 201))


def _redeem(token: str) -> Any:
    from docuserve.sharing import redeem

    return redeem.redeem(token, None, redeem.Visitor(ip=None, user_agent=None))


def test_a_partner_download_between_the_trash_and_its_link_refresh_is_refused(aws: Any, alice: User) -> None:
    """The trash commits, and only then refreshes its links; a partner redeeming in between got a
    200 for a document already in the trash. The trash now holds its links before it commits."""
    _, doc = _shared_document(aws, alice)
    link = _link(alice, doc)
    partner = interleave.before("dynamodb:UpdateItem", lambda: _redeem(link["token"]), nth=2)
    with interleave.calls() as seen, partner as slot:
        assert call("DELETE", f"/documents/{doc}", claims=alice.claims).status == 204
    assert slot.ran
    before = seen[: seen.index("dynamodb:UpdateItem", seen.index("dynamodb:UpdateItem") + 1)]
    assert "dynamodb:TransactWriteItems" in before  # the partner came after the trash's commit
    assert slot.error is not None, "the partner was granted a download of a trashed document"
    assert getattr(slot.error, "status", None) == 410


def test_a_link_created_while_a_trash_commits_is_stopped_too(aws: Any, alice: User) -> None:
    """The trash reads the document's links and holds them; a link committed after that read, just
    before the trash's commit, is one the trash never held. Creating a link bumps the document's
    revision, so the trash's commit fails, and its retry holds the new link as well."""
    from docuserve.sharing import manage

    _, doc = _shared_document(aws, alice)
    owner = Caller(user_id=alice.id, email=alice.email, groups=())

    def share() -> Any:  # the domain call (a nested HTTP call would reuse the resolver mid-request)
        return manage.create_share(owner, doc, manage.Terms(expires_in_days=1))

    with interleave.before("dynamodb:TransactWriteItems", share) as slot:
        assert call("DELETE", f"/documents/{doc}", claims=alice.claims).status == 204
    assert slot.ran
    assert slot.error is None, slot.error
    token = slot.result.token
    assert call("POST", f"/public/shares/{token}/download", body={}).status == 410
    listed = ok(call("GET", f"/documents/{doc}/shares", claims=alice.claims))["items"]
    assert [item["state"] for item in listed] == ["unavailable"]


def test_a_trash_refused_for_a_lost_role_gives_the_links_back(aws: Any, alice: User) -> None:
    """The trash held the links, then its commit failed because the caller lost the editor role:
    the links serve again (the trash released them), and the caller learns they were removed."""
    bob = make_user(aws, "bob@example.com")
    ws, doc = _shared_document(aws, alice)
    add_member(alice, ws, bob, "editor")
    link = _link(alice, doc)
    owner = Caller(user_id=alice.id, email=alice.email, groups=())
    with interleave.before("dynamodb:TransactWriteItems", lambda: workspaces.remove_member(owner, ws, bob.id)):
        assert call("DELETE", f"/documents/{doc}", claims=bob.claims).status == 404
    assert ok(call("GET", f"/documents/{doc}", claims=alice.claims))["status"] == "available"
    assert call("POST", f"/public/shares/{link['token']}/download", body={}).status == 200


def test_a_link_made_before_refs_existed_is_still_stopped_by_a_trash(aws: Any, alice: User) -> None:
    """An upgraded deployment: a document and a link written before links had refs in their
    document's partition. The trash finds such a link through the document-shares index."""
    from docuserve import keys
    from docuserve.adapters.store import Store

    _, doc = _shared_document(aws, alice)
    link = _link(alice, doc)
    store = Store()
    refs = store.query(keys.document_pk(doc), sk_prefix=keys.LINK_PREFIX, limit=10, consistent=True).items
    assert len(refs) == 1
    store.delete({"pk": refs[0]["pk"], "sk": refs[0]["sk"]})  # as the older code wrote them: no ref
    store.update(keys.document(doc), "REMOVE link_refs", return_values="NONE")
    assert call("DELETE", f"/documents/{doc}", claims=alice.claims).status == 204
    assert call("POST", f"/public/shares/{link['token']}/download", body={}).status == 410
