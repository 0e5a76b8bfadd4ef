"""Explicit folders (``/workspaces/{workspace_id}/folders``) through the real routes on moto: a folder
exists on its own, parents come with it, creating is idempotent, only an empty folder is deleted,
and the races between creating, deleting and uploading leave nothing invisible."""

from __future__ import annotations

from typing import Any

import pytest

from docuserve import folders, keys
from docuserve.adapters.store import Store
from tests.support.documents import (
    User,
    add_member,
    create_document,
    create_workspace,
    make_user,
    ok,
    sha256_b64,
    upload,
)
from tests.support.gateway import Reply, call
from tests.support.schedule import handler_copies

# A request made while another is in flight runs in a second copy of the handler modules, as it
# would in a second Lambda execution environment (one resolver serves one request at a time).
SECOND = handler_copies("folders-second")


class Setup:
    def __init__(self, resources: Any) -> None:
        self.resources = resources
        self.owner = make_user(resources, "owner@example.com")
        self.editor = make_user(resources, "editor@example.com")
        self.viewer = make_user(resources, "viewer@example.com")
        self.stranger = make_user(resources, "stranger@example.com")
        self.ws = create_workspace(self.owner)
        add_member(self.owner, self.ws, self.editor, "editor")
        add_member(self.owner, self.ws, self.viewer, "viewer")

    def create(self, path: Any, user: User | None = None, **kwargs: Any) -> Reply:
        claims = (user or self.editor).claims
        return call("POST", f"/workspaces/{self.ws}/folders", claims=claims, body={"path": path}, **kwargs)

    def delete(self, path: str, user: User | None = None, **kwargs: Any) -> Reply:
        claims = (user or self.editor).claims
        return call("DELETE", f"/workspaces/{self.ws}/folders", claims=claims, query={"path": path}, **kwargs)

    def paths(self, user: User | None = None, **query: str) -> list[str]:
        page = ok(call("GET", f"/workspaces/{self.ws}/folders", claims=(user or self.viewer).claims, query=query))
        return [f["path"] for f in page["items"]]

    def audit(self) -> list[dict[str, Any]]:
        return list(ok(call("GET", f"/workspaces/{self.ws}/audit", claims=self.owner.claims))["items"])

    def document_in(self, folder: str, *, trashed: bool = False, **kwargs: Any) -> str:
        if kwargs:
            body = {"name": "plan.pdf", "content_type": "application/pdf", "size": 5, "sha256": sha256_b64(b"bytes")}
            path = f"/workspaces/{self.ws}/documents"
            created = ok(call("POST", path, claims=self.editor.claims, body={**body, "folder": folder}, **kwargs), 201)
        else:
            created = create_document(self.editor, self.ws, b"bytes", folder=folder)
        upload(self.resources, created["upload"]["upload_id"], b"bytes")
        doc = str(created["document"]["id"])
        if trashed:
            ok(call("DELETE", f"/documents/{doc}", claims=self.editor.claims), 204)
        return doc


@pytest.fixture
def s(aws: Any) -> Setup:
    return Setup(aws)


# --- create ---


def test_an_empty_folder_exists_on_its_own_with_its_parents(s: Setup) -> None:
    created = ok(s.create("/projects/launch/"), 201)
    assert created["path"] == "/projects/launch"
    assert created["name"] == "launch"
    assert created["parent"] == "/projects"
    assert created["created_by"] == s.editor.id
    assert set(created) == {"path", "name", "parent", "created_at", "created_by"}
    assert s.paths() == ["/projects", "/projects/launch"]
    # Still no document anywhere: the folder stands on its own.
    assert ok(call("GET", f"/workspaces/{s.ws}/documents", claims=s.viewer.claims))["items"] == []


def test_creating_an_existing_folder_answers_200_with_it_and_writes_nothing(s: Setup) -> None:
    first = ok(s.create("/a"), 201)
    again = ok(s.create("/a", s.owner), 200)
    assert again == first  # the first creation's time and author
    created = [e for e in s.audit() if e["action"] == "folder.created"]
    assert [e["details"]["path"] for e in created] == ["/a"]


def test_each_folder_created_is_audited_parents_included(s: Setup) -> None:
    ok(s.create("/x"), 201)
    ok(s.create("/x/y/z"), 201)
    created = [e for e in s.audit() if e["action"] == "folder.created"]
    assert sorted(e["details"]["path"] for e in created) == ["/x", "/x/y", "/x/y/z"]
    assert all(e["actor"]["id"] == s.editor.id for e in created)


def test_a_path_deeper_than_one_transaction_holds_is_created_whole(s: Setup) -> None:
    deep = "/" + "/".join(f"l{i}" for i in range(120))  # 120 levels: three transactions of <= 45
    ok(s.create(deep), 201)
    paths = s.paths(limit="200")
    assert len(paths) == 120
    assert deep in paths
    assert ok(s.create(deep), 200)["path"] == deep


@pytest.mark.parametrize(
    ("path", "says"),
    [
        ("/", "root"),
        ("", "root"),
        ("/a/../b", "'.' or '..'"),
        ("/a/ /b", "blank"),
        ("/a\u0000b", "control"),
        ("/a\u202eb", "control"),
        ("/" + "x" * 1024, "1024"),
        ("/" + "é" * 600, "bytes"),
        (17, "string"),
    ],
)
def test_a_bad_path_is_a_422_naming_path(s: Setup, path: Any, says: str) -> None:
    reply = s.create(path)
    assert reply.status == 422, reply.text
    body = reply.json()
    assert "path" in str(body.get("fields")) or "path" in body["message"]
    assert says in reply.text
    assert s.paths() == []


def test_unknown_fields_and_a_missing_path_are_refused(s: Setup) -> None:
    reply = call("POST", f"/workspaces/{s.ws}/folders", claims=s.editor.claims, body={"path": "/a", "x": 1})
    assert reply.status == 422
    reply = call("POST", f"/workspaces/{s.ws}/folders", claims=s.editor.claims, body={})
    assert reply.status == 422
    assert "path" in reply.text


def test_viewers_cannot_create_or_delete_and_strangers_learn_nothing(s: Setup) -> None:
    ok(s.create("/a"), 201)
    assert s.create("/b", s.viewer).status == 403
    assert s.delete("/a", s.viewer).status == 403
    assert s.create("/b", s.stranger).status == 404
    assert s.delete("/a", s.stranger).status == 404
    assert call("GET", f"/workspaces/{s.ws}/folders", claims=s.stranger.claims).status == 404
    assert s.paths() == ["/a"]


# --- list ---


def test_the_list_pages_by_path_with_a_cursor(s: Setup) -> None:
    for name in ("c", "a", "b/d", "e"):
        ok(s.create(f"/{name}"), 201)
    first = ok(call("GET", f"/workspaces/{s.ws}/folders", claims=s.viewer.claims, query={"limit": "3"}))
    assert [f["path"] for f in first["items"]] == ["/a", "/b", "/b/d"]
    rest = ok(
        call(
            "GET",
            f"/workspaces/{s.ws}/folders",
            claims=s.viewer.claims,
            query={"limit": "3", "cursor": first["next_cursor"]},
        )
    )
    assert [f["path"] for f in rest["items"]] == ["/c", "/e"]
    assert rest["next_cursor"] is None
    bad = call("GET", f"/workspaces/{s.ws}/folders", claims=s.viewer.claims, query={"cursor": "nonsense"})
    assert bad.status == 422
    assert "cursor" in bad.text
    assert call("GET", f"/workspaces/{s.ws}/folders", claims=s.viewer.claims, query={"limit": "201"}).status == 422


# --- delete ---


def test_an_empty_folder_is_deleted_and_audited(s: Setup) -> None:
    ok(s.create("/a/b"), 201)
    assert s.delete("/a/b").status == 204
    assert s.paths() == ["/a"]
    deleted = [e for e in s.audit() if e["action"] == "folder.deleted"]
    assert [e["details"]["path"] for e in deleted] == ["/a/b"]
    assert s.delete("/a/b").status == 404  # gone


def test_the_path_may_come_in_the_body_instead_of_the_query(s: Setup) -> None:
    ok(s.create("/a"), 201)
    reply = call("DELETE", f"/workspaces/{s.ws}/folders", claims=s.editor.claims, body={"path": "/a/"})
    assert reply.status == 204, reply.text
    assert s.paths() == []
    missing = call("DELETE", f"/workspaces/{s.ws}/folders", claims=s.editor.claims)
    assert missing.status == 422
    assert list(missing.json()["fields"]) == ["query.path"]
    bad = call("DELETE", f"/workspaces/{s.ws}/folders", claims=s.editor.claims, query={"path": "/a/../b"})
    assert bad.status == 422
    assert "path" in bad.text


def test_a_folder_with_a_subfolder_is_not_deleted(s: Setup) -> None:
    ok(s.create("/a/b"), 201)
    reply = s.delete("/a")
    assert reply.status == 409
    assert "subfolder" in reply.json()["message"]
    assert s.paths() == ["/a", "/a/b"]


def test_a_sibling_with_a_longer_name_is_not_a_subfolder(s: Setup) -> None:
    ok(s.create("/a"), 201)
    ok(s.create("/ab"), 201)
    s.document_in("/ab")
    assert s.delete("/a").status == 204


@pytest.mark.parametrize("where", ["/a", "/a/deeper/still"])
@pytest.mark.parametrize("trashed", [False, True], ids=["live", "trashed"])
def test_a_folder_holding_a_document_in_it_or_below_is_not_deleted(s: Setup, where: str, trashed: bool) -> None:
    ok(s.create("/a"), 201)
    s.document_in(where, trashed=trashed)
    reply = s.delete("/a")
    assert reply.status == 409, reply.text
    assert "not empty" in reply.json()["message"]
    assert s.paths() == ["/a"]


def test_a_folder_emptied_by_a_purge_can_be_deleted(s: Setup) -> None:
    ok(s.create("/a"), 201)
    doc = s.document_in("/a", trashed=True)
    assert s.delete("/a").status == 409
    ok(call("DELETE", f"/documents/{doc}", claims=s.owner.claims, query={"purge": "true"}), 204)
    assert s.delete("/a").status == 204


def test_a_folder_only_implied_by_documents_is_not_there_to_delete(s: Setup) -> None:
    s.document_in("/implied")
    assert s.delete("/implied").status == 409  # not empty comes first: the documents are there
    assert s.delete("/never").status == 404


# --- races ---


def test_a_subfolder_created_after_the_delete_checked_makes_the_delete_fail(
    s: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Delete reads "no subfolder", then a create of /a/b commits, then the delete writes: 409."""
    ok(s.create("/a"), 201)
    real = folders._holds_documents

    def then_create(*args: Any, **kwargs: Any) -> bool:
        ok(s.create("/a/b", s.owner, handler_of=SECOND), 201)
        return real(*args, **kwargs)

    monkeypatch.setattr(folders, "_holds_documents", then_create)
    reply = s.delete("/a")
    assert reply.status == 409, reply.text
    monkeypatch.undo()
    assert s.paths() == ["/a", "/a/b"]


def test_a_create_that_read_its_parent_before_a_delete_puts_the_parent_back(
    s: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Create /a/b reads "/a exists", then /a is deleted, then the create writes: /a comes back."""
    ok(s.create("/a"), 201)
    store_get_many = Store.get_many
    deleted = []

    def read_then_delete(self: Store, wanted: Any, **kwargs: Any) -> Any:
        found = store_get_many(self, wanted, **kwargs)
        if not deleted and wanted and wanted[0] == keys.folder(s.ws, "/a"):
            deleted.append(s.delete("/a", s.owner, handler_of=SECOND).status)
        return found

    monkeypatch.setattr(Store, "get_many", read_then_delete)
    reply = s.create("/a/b")
    monkeypatch.undo()
    assert deleted == [204]
    assert reply.status == 201, reply.text
    assert s.paths() == ["/a", "/a/b"]  # never a folder without its parent


def test_an_upload_into_a_folder_deleted_meanwhile_stays_listed_under_that_folder(
    s: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The delete checked "empty" before the document arrived: the document still shows the folder."""
    ok(s.create("/drop"), 201)
    real = folders._holds_documents
    docs: list[str] = []

    def then_upload(*args: Any, **kwargs: Any) -> bool:
        empty = real(*args, **kwargs)
        docs.append(s.document_in("/drop", handler_of=SECOND))
        return empty

    monkeypatch.setattr(folders, "_holds_documents", then_upload)
    assert s.delete("/drop").status == 204
    monkeypatch.undo()
    assert s.paths() == []
    listed = ok(call("GET", f"/workspaces/{s.ws}/documents", claims=s.viewer.claims, query={"folder": "/drop"}))
    assert [d["id"] for d in listed["items"]] == docs
    everything = ok(call("GET", f"/workspaces/{s.ws}/documents", claims=s.viewer.claims))["items"]
    assert {d["folder"] for d in everything} == {"/drop"}  # what the web app derives the folder from


def test_a_member_removed_mid_create_gets_404_and_nothing_is_written(s: Setup, monkeypatch: pytest.MonkeyPatch) -> None:
    from docuserve import access

    real = access.workspace_access

    def then_remove(*args: Any, **kwargs: Any) -> Any:
        found = real(*args, **kwargs)
        path = f"/workspaces/{s.ws}/members/{s.editor.id}"
        ok(call("DELETE", path, claims=s.owner.claims, handler_of=SECOND), 204)
        return found

    monkeypatch.setattr(folders, "workspace_access", then_remove)
    reply = s.create("/a")
    monkeypatch.undo()
    assert reply.status == 404, reply.text
    assert s.paths() == []


def test_deleting_an_empty_workspace_takes_its_empty_folders_with_it(s: Setup) -> None:
    ok(s.create("/a/b"), 201)
    assert call("DELETE", f"/workspaces/{s.ws}", claims=s.owner.claims).status == 204
    assert Store().query(keys.folders_pk(s.ws), limit=10, consistent=True).items == []
