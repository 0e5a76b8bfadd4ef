"""Documents against moto: listing with filters and cursors, editing, trash, restore, purge, download."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

import boto3
import pytest

from docuserve.sharing import links
from tests.support.documents import User, create_document, create_workspace, make_user, ok, sha256_b64, upload
from tests.support.gateway import call


@pytest.fixture
def alice(aws: Any) -> User:
    return make_user(aws, "alice@example.com")


@pytest.fixture
def ws(alice: User) -> str:
    return create_workspace(alice)


def _names(alice: User, ws: str, **query: str) -> list[str]:
    page = ok(call("GET", f"/workspaces/{ws}/documents", claims=alice.claims, query=query or None))
    return [d["name"] for d in page["items"]]


def _available(aws: Any, alice: User, ws: str, data: bytes = b"bytes", **fields: Any) -> str:
    created = create_document(alice, ws, data, **fields)
    upload(aws, created["upload"]["upload_id"], data)
    return str(created["document"]["id"])


def test_listing_filters_by_folder_tag_and_name(aws: Any, alice: User, ws: str) -> None:
    create_document(alice, ws, name="Roadmap.pdf", folder="/plans", tags=["Q3"])
    create_document(alice, ws, name="Budget.xlsx", folder="/plans/finance", tags=["q3", "money"])
    create_document(alice, ws, name="Team photo.jpg", folder="/", tags=["fun"])

    assert _names(alice, ws) == ["Budget.xlsx", "Roadmap.pdf", "Team photo.jpg"]
    assert _names(alice, ws, folder="/plans/") == ["Roadmap.pdf"]
    assert _names(alice, ws, folder="plans//finance") == ["Budget.xlsx"]
    assert _names(alice, ws, tag="Q3") == ["Budget.xlsx", "Roadmap.pdf"]
    assert _names(alice, ws, tag="q3", folder="/plans") == ["Roadmap.pdf"]
    assert _names(alice, ws, q="o") == ["Roadmap.pdf", "Team photo.jpg"]
    assert _names(alice, ws, q="PHOTO") == ["Team photo.jpg"]
    assert _names(alice, ws, tag="nothing") == []


def test_listing_pages_through_cursors_without_gaps_even_with_filters(aws: Any, alice: User, ws: str) -> None:
    for n in range(7):
        create_document(alice, ws, name=f"doc-{n}.txt" if n % 2 else f"other-{n}.txt")
    seen: list[str] = []
    cursor = None
    while True:
        query = {"limit": "2", "q": "doc"} | ({"cursor": cursor} if cursor else {})
        page = ok(call("GET", f"/workspaces/{ws}/documents", claims=alice.claims, query=query))
        assert len(page["items"]) <= 2
        seen += [d["name"] for d in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == ["doc-1.txt", "doc-3.txt", "doc-5.txt"]


def test_a_cursor_from_another_workspace_is_422(aws: Any, alice: User, ws: str) -> None:
    other = create_workspace(alice, "Other")
    for n in range(3):
        create_document(alice, other, name=f"{n}.txt")
    cursor = ok(call("GET", f"/workspaces/{other}/documents", claims=alice.claims, query={"limit": "1"}))["next_cursor"]
    reply = call("GET", f"/workspaces/{ws}/documents", claims=alice.claims, query={"cursor": cursor})
    assert reply.status == 422
    assert "cursor" in reply.json()["fields"]


def test_editing_renames_moves_retags_and_describes(aws: Any, alice: User, ws: str) -> None:
    doc = create_document(alice, ws, name="a.pdf", tags=["old", "keep"])["document"]["id"]
    body = {"name": "b.pdf", "folder": "/x/y", "tags": ["keep", "new"], "description": "the plan"}
    got = ok(call("PATCH", f"/documents/{doc}", claims=alice.claims, body=body))
    assert (got["name"], got["folder"], got["tags"], got["description"]) == (
        "b.pdf",
        "/x/y",
        ["keep", "new"],
        "the plan",
    )
    assert _names(alice, ws, tag="old") == []
    assert _names(alice, ws, tag="new", folder="/x/y") == ["b.pdf"]
    assert _names(alice, ws, folder="/") == []
    assert call("PATCH", f"/documents/{doc}", claims=alice.claims, body={}).status == 422


def test_trash_restore_and_the_trash_listing(aws: Any, alice: User, ws: str) -> None:
    doc = _available(aws, alice, ws, name="t.pdf", tags=["x"])
    ok(call("DELETE", f"/documents/{doc}", claims=alice.claims), 204)
    assert _names(alice, ws) == []
    assert _names(alice, ws, status="deleted") == ["t.pdf"]
    assert _names(alice, ws, status="deleted", tag="x") == ["t.pdf"]
    assert call("GET", f"/documents/{doc}/download", claims=alice.claims).status == 409
    assert call("PATCH", f"/documents/{doc}", claims=alice.claims, body={"name": "u.pdf"}).status == 409
    assert call("DELETE", f"/documents/{doc}", claims=alice.claims).status == 409
    restored = ok(call("POST", f"/documents/{doc}/restore", claims=alice.claims))
    assert restored["status"] == "available"
    assert _names(alice, ws, tag="x") == ["t.pdf"]
    assert call("POST", f"/documents/{doc}/restore", claims=alice.claims).status == 409


def test_purge_removes_every_object_version_and_only_from_the_trash(aws: Any, alice: User, ws: str) -> None:
    doc = _available(aws, alice, ws, b"one")
    second = ok(
        call("POST", f"/documents/{doc}/versions", claims=alice.claims, body={"size": 3, "sha256": sha256_b64(b"two")}),
        201,
    )
    upload(aws, second["upload_id"], b"two")
    assert call("DELETE", f"/documents/{doc}", claims=alice.claims, query={"purge": "true"}).status == 409
    ok(call("DELETE", f"/documents/{doc}", claims=alice.claims), 204)
    ok(call("DELETE", f"/documents/{doc}", claims=alice.claims, query={"purge": "true"}), 204)

    s3 = boto3.client("s3", region_name=aws.region)
    listed = s3.list_object_versions(Bucket=aws.bucket_name, Prefix=f"documents/{ws}/{doc}/")
    assert listed.get("Versions", []) == []
    assert listed.get("DeleteMarkers", []) == []
    assert call("GET", f"/documents/{doc}", claims=alice.claims).status == 404
    assert _names(alice, ws, status="deleted") == []
    actions = [e["action"] for e in ok(call("GET", f"/workspaces/{ws}/audit", claims=alice.claims))["items"]]
    assert actions[0] == "document.purged"


def test_every_change_that_links_copy_is_announced_to_the_sharing_feature(
    aws: Any, alice: User, ws: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[str, str, str | None]] = []
    original = links.document_changed

    def spy(document: Any, store: Any = None, **kwargs: Any) -> int:
        seen.append((document.name, document.status, document.current_version))
        return original(document, store, **kwargs)

    monkeypatch.setattr(links, "document_changed", spy)
    doc = _available(aws, alice, ws, name="a.pdf")
    ok(call("PATCH", f"/documents/{doc}", claims=alice.claims, body={"name": "b.pdf"}))
    ok(call("DELETE", f"/documents/{doc}", claims=alice.claims), 204)
    ok(call("POST", f"/documents/{doc}/restore", claims=alice.claims))
    ok(call("DELETE", f"/documents/{doc}", claims=alice.claims), 204)
    ok(call("DELETE", f"/documents/{doc}", claims=alice.claims, query={"purge": "true"}), 204)
    assert [(name, status) for name, status, _ in seen] == [
        ("a.pdf", "available"),
        ("b.pdf", "available"),
        ("b.pdf", "deleted"),
        ("b.pdf", "available"),
        ("b.pdf", "deleted"),
        ("b.pdf", "purging"),
        ("b.pdf", "purged"),
    ]
    assert seen[0][2] is not None
    assert seen[-1][2] is None


def test_download_is_attachment_with_rfc6266_name_and_inline_only_for_safe_types(
    aws: Any, alice: User, ws: str
) -> None:
    pdf = _available(aws, alice, ws, name="Prüfbericht.pdf", content_type="application/pdf")
    html = _available(aws, alice, ws, name="page.html", content_type="text/html")

    url = ok(call("GET", f"/documents/{pdf}/download", claims=alice.claims))["url"]
    disposition = parse_qs(urlparse(url).query)["response-content-disposition"][0]
    assert disposition.startswith("attachment; filename=\"Prufbericht.pdf\"; filename*=UTF-8''Pr%C3%BCfbericht.pdf")
    inline = ok(call("GET", f"/documents/{pdf}/download", claims=alice.claims, query={"disposition": "inline"}))
    assert parse_qs(urlparse(inline["url"]).query)["response-content-disposition"][0].startswith("inline;")
    refused = call("GET", f"/documents/{html}/download", claims=alice.claims, query={"disposition": "inline"})
    assert refused.status == 422
    assert "disposition" in refused.json()["fields"]
    assert call("GET", f"/documents/{pdf}/download", claims=alice.claims, query={"disposition": "x"}).status == 422


def test_a_download_gives_the_bytes_of_the_chosen_version(aws: Any, alice: User, ws: str) -> None:
    doc = _available(aws, alice, ws, b"one")
    v2 = ok(
        call("POST", f"/documents/{doc}/versions", claims=alice.claims, body={"size": 3, "sha256": sha256_b64(b"two")}),
        201,
    )
    upload(aws, v2["upload_id"], b"two")
    versions = ok(call("GET", f"/documents/{doc}", claims=alice.claims))["versions"]
    s3 = boto3.client("s3", region_name=aws.region)
    for version, expected in zip(versions, (b"two", b"one"), strict=True):
        url = ok(call("GET", f"/documents/{doc}/download", claims=alice.claims, query={"version_id": version["id"]}))
        query = parse_qs(urlparse(url["url"]).query)
        key = unquote(urlparse(url["url"]).path.lstrip("/"))  # virtual-hosted: the path is the key
        body = s3.get_object(Bucket=aws.bucket_name, Key=key, VersionId=query["versionId"][0])["Body"].read()
        assert body == expected


def test_download_costs_two_dynamodb_round_trips_and_no_s3_call(
    aws: Any, alice: User, ws: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from docuserve.adapters import aws as adapters

    doc = _available(aws, alice, ws)
    calls: list[str] = []
    client = adapters.dynamodb()
    for operation in ("get_item", "batch_get_item", "put_item", "query", "update_item", "transact_write_items"):
        real = getattr(client, operation)

        def counted(*args: Any, _real: Any = real, _name: str = operation, **kwargs: Any) -> Any:
            calls.append(_name)
            return _real(*args, **kwargs)

        monkeypatch.setattr(client, operation, counted)
    s3 = adapters.s3()
    s3_calls: list[str] = []
    s3.meta.events.register("before-call.s3", lambda **kw: s3_calls.append(kw["model"].name))
    ok(call("GET", f"/documents/{doc}/download", claims=alice.claims))
    assert calls == ["batch_get_item", "put_item"]
    assert s3_calls == []


def test_viewers_cannot_change_anything(aws: Any, alice: User, ws: str) -> None:
    from tests.support.documents import add_member

    viewer = make_user(aws, "viewer@example.com")
    add_member(alice, ws, viewer, "viewer")
    doc = _available(aws, alice, ws)
    assert call("PATCH", f"/documents/{doc}", claims=viewer.claims, body={"name": "x"}).status == 403
    assert call("DELETE", f"/documents/{doc}", claims=viewer.claims).status == 403
    assert ok(call("GET", f"/documents/{doc}/download", claims=viewer.claims))["url"]
