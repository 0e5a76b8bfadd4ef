"""Bundles: one link for several documents, a download per file or all of them as one ZIP (issue 17)."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import threading
import zipfile
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import pytest
import requests

from docuserve import ids, keys
from docuserve.adapters import aws as adapters
from docuserve.adapters.store import Store
from docuserve.roles import Role
from docuserve.settings import get_settings
from docuserve.sharing import archive, bundles
from tests.support.calls import aws_calls
from tests.support.documents import run_jobs
from tests.support.gateway import call
from tests.support.links import OWNER, add_member, add_version, claims, fast_passwords, seed  # noqa: F401  (fixture)
from tests.support.streams import audit_stream

pytestmark = pytest.mark.usefixtures("aws", "fast_passwords")


def _sha(content: bytes) -> str:
    return base64.b64encode(hashlib.sha256(content).digest()).decode()


def _document(workspace_id: str, name: str, content: bytes) -> str:
    """Another available document in ``workspace_id`` (seeded like ``tests.support.links.seed``)."""
    doc = ids.new_child_id(workspace_id)
    version_id, key, s3_version = add_version(doc, content)
    Store().put(
        {
            **keys.document(doc),
            "id": doc,
            "workspace_id": workspace_id,
            "name": name,
            "folder": "/",
            "content_type": "application/pdf",
            "size": len(content),
            "sha256": _sha(content),
            "status": "available",
            "created_at": "2026-12-01T00:00:00Z",
            "created_by": OWNER,
            "updated_at": "2026-12-01T00:00:00Z",
            "updated_by": OWNER,
            "current_version": version_id,
            "current_object_key": key,
            "current_s3_version_id": s3_version,
            "version_count": 1,
            "link_refs": True,
        }
    )
    return doc


FILES = {"plan.pdf": b"%PDF plan " * 50, "budget.pdf": b"%PDF budget " * 70, "team.pdf": b"%PDF team " * 30}


def _bundle(**terms: Any) -> tuple[str, list[str], dict[str, Any]]:
    """A workspace with three documents and a bundle of them: (workspace, document ids, creation answer)."""
    ws = seed().workspace_id
    docs = [_document(ws, name, content) for name, content in FILES.items()]
    reply = call("POST", f"/workspaces/{ws}/shares", claims=claims(OWNER), body={"document_ids": docs, **terms})
    assert reply.status == 201, reply.text
    return ws, docs, reply.json()


def _download(token: str, **body: Any) -> Any:
    return call("POST", f"/public/shares/{token}/download", body=body)


def _fetch(url: str) -> bytes:
    """The bytes behind a presigned GET (moto serves it in-process)."""
    parsed = requests.utils.urlparse(url)
    bucket = get_settings().bucket_name
    key = requests.utils.unquote(parsed.path.split(f"/{bucket}/", 1)[-1].lstrip("/"))
    query = dict(q.split("=", 1) for q in parsed.query.split("&"))
    params: dict[str, Any] = {"Bucket": bucket, "Key": key}
    if "versionId" in query:
        params["VersionId"] = requests.utils.unquote(query["versionId"])
    body: bytes = adapters.s3().get_object(**params)["Body"].read()
    return body


# --- creating ----------------------------------------------------------------------------------


def test_a_bundle_is_created_with_its_files_listed_for_members() -> None:
    _, docs, created = _bundle(max_downloads=5, label="Q3 pack")
    assert created["kind"] == "bundle"
    assert created["document_id"] is None
    assert [f["document_id"] for f in created["files"]] == docs
    assert [f["name"] for f in created["files"]] == list(FILES)
    assert [f["sha256"] for f in created["files"]] == [_sha(c) for c in FILES.values()]
    assert created["url"].endswith(created["token"])
    shown = call("GET", f"/shares/{created['id']}", claims=claims(OWNER)).json()
    assert shown["files"] == created["files"]
    assert shown["state"] == "active"


def _all_shares(doc: str, limit: int) -> list[dict[str, Any]]:
    """Every page of ``GET /documents/{doc}/shares`` at ``limit`` per page."""
    found: list[dict[str, Any]] = []
    cursor: str | None = None
    for _ in range(20):
        query = {"limit": str(limit), **({"cursor": cursor} if cursor else {})}
        reply = call("GET", f"/documents/{doc}/shares", claims=claims(OWNER), query=query)
        assert reply.status == 200, reply.text
        page = reply.json()
        assert len(page["items"]) <= limit
        found += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            return found
    raise AssertionError("the listing never ended")


def test_a_documents_links_include_the_bundles_it_is_in_with_their_state() -> None:
    ws, docs, created = _bundle(max_downloads=5, label="Q3 pack")
    own = call("POST", f"/documents/{docs[0]}/shares", claims=claims(OWNER), body={"label": "Own"}).json()
    listed = call("GET", f"/documents/{docs[0]}/shares", claims=claims(OWNER)).json()
    assert [(s["id"], s["kind"], s["state"]) for s in listed["items"]] == [
        (own["id"], "document", "active"),
        (created["id"], "bundle", "active"),
    ]
    assert listed["next_cursor"] is None
    bundle = listed["items"][1]
    assert bundle["downloads_remaining"] == 5
    assert bundle["label"] == "Q3 pack"
    assert "token" not in bundle
    assert not any("hash" in k for k in bundle)
    # Another document of the bundle lists it too; a document outside it does not.
    assert [s["id"] for s in call("GET", f"/documents/{docs[2]}/shares", claims=claims(OWNER)).json()["items"]] == [
        created["id"]
    ]
    outside = _document(ws, "outside.pdf", b"%PDF outside")
    assert call("GET", f"/documents/{outside}/shares", claims=claims(OWNER)).json()["items"] == []
    # A revoked bundle is listed as revoked (a review sees what was taken away, as for own links).
    assert call("DELETE", f"/shares/{created['id']}", claims=claims(OWNER)).status == 204
    states = {
        s["id"]: s["state"] for s in call("GET", f"/documents/{docs[0]}/shares", claims=claims(OWNER)).json()["items"]
    }
    assert states == {own["id"]: "active", created["id"]: "revoked"}


def test_a_documents_links_page_through_own_links_then_bundles_without_loss() -> None:
    ws = seed().workspace_id
    docs = [_document(ws, name, content) for name, content in FILES.items()]
    own = {
        call("POST", f"/documents/{docs[0]}/shares", claims=claims(OWNER), body={"label": f"own {i}"}).json()["id"]
        for i in range(3)
    }
    made = {
        call("POST", f"/workspaces/{ws}/shares", claims=claims(OWNER), body={"document_ids": docs[: i + 1]}).json()[
            "id"
        ]
        for i in range(3)
    }
    # A single link of another document never shows up here.
    call("POST", f"/documents/{docs[1]}/shares", claims=claims(OWNER), body={})
    for limit in (1, 2, 3, 4, 50):
        listed = _all_shares(docs[0], limit)
        ids_listed = [s["id"] for s in listed]
        assert len(ids_listed) == len(set(ids_listed)) == 6, limit
        assert set(ids_listed) == own | made
        assert {s["kind"] for s in listed[:3]} == {"document"}
        assert {s["kind"] for s in listed[3:]} == {"bundle"}


@pytest.mark.parametrize("cursor", ["~bundles!", "~bundlesX", "~bundles.bm90LWEtY3Vyc29y", "~bundles.e30"])
def test_a_forged_bundles_cursor_is_a_422_naming_the_cursor(cursor: str) -> None:
    _, docs, _ = _bundle()
    reply = call("GET", f"/documents/{docs[0]}/shares", claims=claims(OWNER), query={"cursor": cursor})
    assert reply.status == 422, reply.text
    assert "cursor" in reply.text


@pytest.mark.parametrize(
    ("case", "field"),
    [("other workspace", "document_ids.1"), ("trashed", "document_ids.0"), ("unknown", "document_ids.0")],
)
def test_a_bundle_names_only_available_documents_of_its_workspace(case: str, field: str) -> None:
    s = seed()
    mine = _document(s.workspace_id, "mine.pdf", b"mine")
    if case == "other workspace":
        document_ids = [mine, seed().document_id]
    elif case == "trashed":
        Store().update(keys.document(mine), "SET #s = :d", names={"#s": "status"}, expression_values={":d": "deleted"})
        document_ids = [mine]
    else:
        document_ids = [ids.new_child_id(s.workspace_id)]
    reply = call(
        "POST", f"/workspaces/{s.workspace_id}/shares", claims=claims(OWNER), body={"document_ids": document_ids}
    )
    assert reply.status == 422, reply.text
    assert field in reply.json()["fields"]


def test_a_bundle_holds_at_most_100_documents_each_once() -> None:
    s = seed()
    too_many = call(
        "POST",
        f"/workspaces/{s.workspace_id}/shares",
        claims=claims(OWNER),
        body={"document_ids": [s.document_id] * 101},
    )
    assert too_many.status == 422
    assert "document_ids" in too_many.json()["fields"]
    twice = call(
        "POST",
        f"/workspaces/{s.workspace_id}/shares",
        claims=claims(OWNER),
        body={"document_ids": [s.document_id, s.document_id]},
    )
    assert twice.status == 422
    assert "document_ids" in twice.json()["fields"]


def test_a_viewer_cannot_make_a_bundle_and_a_stranger_learns_nothing() -> None:
    s = seed()
    add_member(s.workspace_id, "victor", Role.VIEWER)
    body = {"document_ids": [s.document_id]}
    assert call("POST", f"/workspaces/{s.workspace_id}/shares", claims=claims("victor"), body=body).status == 403
    assert call("POST", f"/workspaces/{s.workspace_id}/shares", claims=claims("mallory"), body=body).status == 404


def test_a_bundle_of_60_documents_is_made_in_more_than_one_transaction() -> None:
    s = seed()
    docs = [_document(s.workspace_id, f"f{i}.pdf", b"x%d" % i) for i in range(60)]
    reply = call("POST", f"/workspaces/{s.workspace_id}/shares", claims=claims(OWNER), body={"document_ids": docs})
    assert reply.status == 201, reply.text
    token = reply.json()["token"]
    assert len(call("GET", f"/public/shares/{token}").json()["files"]) == 60
    assert _download(token, document_id=docs[59]).status == 200


# --- the partner side --------------------------------------------------------------------------


def test_the_partner_page_lists_names_sizes_and_sha256() -> None:
    _, _, created = _bundle()
    page = call("GET", f"/public/shares/{created['token']}").json()
    assert page["kind"] == "bundle"
    assert page["archive_available"] is True
    assert [(f["name"], f["size"], f["sha256"]) for f in page["files"]] == [
        (n, len(c), _sha(c)) for n, c in FILES.items()
    ]
    assert page["size"] == sum(len(c) for c in FILES.values())


def test_one_file_download_is_one_write_and_counts_one() -> None:
    _, docs, created = _bundle(max_downloads=5)
    with aws_calls() as calls:
        reply = _download(created["token"], document_id=docs[1])
    assert reply.status == 200, reply.text
    assert calls == ["dynamodb:UpdateItem"]
    assert reply.json()["downloads_remaining"] == 4
    assert _fetch(reply.json()["url"]) == FILES["budget.pdf"]
    assert "budget.pdf" in reply.json()["url"]  # the attachment's file name


def test_a_bundle_without_a_target_or_with_a_foreign_file_is_refused() -> None:
    _, _, created = _bundle()
    no_target = _download(created["token"])
    assert no_target.status == 422
    assert "document_id" in no_target.json()["fields"]
    assert _download(created["token"], document_id=seed().document_id).status == 404


def test_the_archive_answers_202_until_built_then_200_and_counts_only_when_served(aws: Any) -> None:
    _, _, created = _bundle(max_downloads=5)
    token = created["token"]
    first = _download(token, archive=True)
    assert first.status == 202, first.text
    assert first.json()["status"] == "preparing"
    assert int(first.headers["retry-after"]) > 0
    assert _download(token, archive=True).status == 202  # still preparing: no second job
    assert call("GET", f"/public/shares/{token}").json()["downloads_remaining"] == 5
    assert run_jobs(aws) == ["archive"]
    with aws_calls() as calls:
        ready = _download(token, archive=True)
    assert ready.status == 200, ready.text
    assert calls == ["dynamodb:UpdateItem"]
    assert ready.json()["downloads_remaining"] == 4
    content = _fetch(ready.json()["url"])
    with zipfile.ZipFile(io.BytesIO(content)) as zipped:
        assert zipped.testzip() is None
        got = {info.filename: zipped.read(info) for info in zipped.infolist()}
        assert all(info.compress_type == zipfile.ZIP_STORED for info in zipped.infolist())
    assert {n: _sha(c) for n, c in got.items()} == {n: _sha(c) for n, c in FILES.items()}


def test_max_downloads_counts_file_and_archive_downloads_together(aws: Any) -> None:
    _, docs, created = _bundle(max_downloads=3)
    token = created["token"]
    assert _download(token, document_id=docs[0]).status == 200
    assert _download(token, archive=True).status == 202
    run_jobs(aws)
    assert _download(token, archive=True).status == 200
    assert _download(token, document_id=docs[2]).status == 200
    spent = _download(token, document_id=docs[0])
    assert spent.status == 410
    assert spent.json()["code"] == "link_exhausted"
    assert _download(token, archive=True).status == 410


@pytest.fixture
def one_writer_per_item(monkeypatch: pytest.MonkeyPatch) -> None:
    # As in test_shares_attacks: moto does not apply a request to an item atomically; DynamoDB does.
    from moto.dynamodb.responses import DynamoHandler

    lock = threading.RLock()
    original = DynamoHandler.call_action

    def serialised(self: Any) -> Any:
        with lock:
            return original(self)

    monkeypatch.setattr(DynamoHandler, "call_action", serialised)


@pytest.mark.usefixtures("one_writer_per_item")
def test_concurrent_redemptions_never_exceed_max_downloads() -> None:
    _, docs, created = _bundle(max_downloads=4)
    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(lambda i: _download(created["token"], document_id=docs[i % 3]).status, range(12)))
    assert statuses.count(200) == 4
    assert set(statuses) == {200, 410}


def _trash(doc: str) -> None:
    assert call("DELETE", f"/documents/{doc}", claims=claims(OWNER)).status == 204


def test_trashing_one_document_makes_only_its_entry_unavailable(aws: Any) -> None:
    _, docs, created = _bundle()
    token = created["token"]
    _trash(docs[0])
    gone = _download(token, document_id=docs[0])
    assert gone.status == 410
    assert gone.json()["code"] == "document_unavailable"
    assert _download(token, document_id=docs[1]).status == 200
    page = call("GET", f"/public/shares/{token}").json()
    assert [f["available"] for f in page["files"]] == [False, True, True]
    assert call("GET", f"/shares/{created['id']}", claims=claims(OWNER)).json()["state"] == "active"
    # The archive holds the files still shared, and only those.
    assert _download(token, archive=True).status == 202
    run_jobs(aws)
    ready = _download(token, archive=True)
    with zipfile.ZipFile(io.BytesIO(_fetch(ready.json()["url"]))) as zipped:
        assert sorted(zipped.namelist()) == ["budget.pdf", "team.pdf"]


def test_a_restore_that_resumes_links_brings_the_entry_back() -> None:
    _, docs, created = _bundle()
    _trash(docs[2])
    restored = call("POST", f"/documents/{docs[2]}/restore", claims=claims(OWNER), body={"resume_links": True})
    assert restored.status == 200, restored.text
    assert restored.json()["links_resumed"] == 1
    assert _download(created["token"], document_id=docs[2]).status == 200


def test_purging_a_document_leaves_the_others_and_all_gone_makes_the_link_unavailable() -> None:
    _, docs, created = _bundle()
    token = created["token"]
    _trash(docs[0])
    purged = call("DELETE", f"/documents/{docs[0]}", claims=claims(OWNER), query={"purge": "true"})
    assert purged.status == 204, purged.text
    assert _download(token, document_id=docs[0]).status == 410
    assert _download(token, document_id=docs[1]).status == 200
    _trash(docs[1])
    _trash(docs[2])
    assert call("GET", f"/shares/{created['id']}", claims=claims(OWNER)).json()["state"] == "unavailable"
    page = call("GET", f"/public/shares/{token}")
    assert page.status == 410
    assert page.json()["code"] == "document_unavailable"


def test_a_changed_entry_drops_the_ready_archive_so_a_new_one_is_built(aws: Any) -> None:
    _, docs, created = _bundle()
    token = created["token"]
    _download(token, archive=True)
    run_jobs(aws)
    renamed = call("PATCH", f"/documents/{docs[0]}", claims=claims(OWNER), body={"name": "plan-v2.pdf"})
    assert renamed.status == 200, renamed.text
    assert _download(token, archive=True).status == 202
    run_jobs(aws)
    ready = _download(token, archive=True)
    with zipfile.ZipFile(io.BytesIO(_fetch(ready.json()["url"]))) as zipped:
        assert "plan-v2.pdf" in zipped.namelist()


def test_the_archive_job_redelivered_makes_one_zip(aws: Any) -> None:
    _, _, created = _bundle()
    token = created["token"]
    assert _download(token, archive=True).status == 202
    sqs = boto3.client("sqs", region_name=aws.region)
    (message,) = sqs.receive_message(QueueUrl=aws.jobs_queue_url, MaxNumberOfMessages=1)["Messages"]
    job = json.loads(message["Body"])
    link = Store().get({"pk": job["link"], "sk": "LINK"})
    assert link is not None
    outcomes = [archive.build(job["link"], job["fingerprint"]) for _ in range(3)]
    assert outcomes == ["built", "already ready", "already ready"]
    # An earlier delivery that built the object but died before marking it ready: found, not rebuilt.
    Store().update({"pk": job["link"], "sk": "LINK"}, "SET bundle_zip.#st = :p", names={"#st": "status"},
                   expression_values={":p": "preparing"})  # fmt: skip
    assert archive.build(job["link"], job["fingerprint"]) == "found built"
    versions = adapters.s3().list_object_versions(Bucket=get_settings().bucket_name, Prefix="archives/")
    keys_made = [v["Key"] for v in versions.get("Versions", [])]
    assert keys_made == [bundles.archive_key(link["share_id"], job["fingerprint"])]


def test_an_archive_above_the_limit_is_refused_but_files_still_download(monkeypatch: pytest.MonkeyPatch) -> None:
    _, docs, created = _bundle()
    monkeypatch.setattr(bundles, "ARCHIVE_MAX_BYTES", 100)
    assert call("GET", f"/public/shares/{created['token']}").json()["archive_available"] is False
    refused = _download(created["token"], archive=True)
    assert refused.status == 413
    assert refused.json()["code"] == "archive_too_large"
    assert _download(created["token"], document_id=docs[0]).status == 200
    # The refusal is in the link's activity, with its reason, as every refused attempt is.
    audit_stream(get_settings().table_name).drain()
    events = call("GET", f"/shares/{created['id']}/activity", claims=claims(OWNER)).json()["items"]
    refusals = [e["details"] for e in events if e["action"] == "share.download_refused"]
    assert [r["reason"] for r in refusals] == ["archive_too_large"]


def test_a_password_protects_files_and_archive_alike() -> None:
    _, docs, created = _bundle(password="open sesame")
    assert _download(created["token"], document_id=docs[0]).status == 403
    assert _download(created["token"], document_id=docs[0], password="open sesame").status == 200
    assert _download(created["token"], archive=True).status == 403
    assert _download(created["token"], archive=True, password="open sesame").status == 202


def test_a_single_document_link_refuses_a_bundle_target() -> None:
    s = seed()
    token = call("POST", f"/documents/{s.document_id}/shares", claims=claims(OWNER), body={}).json()["token"]
    assert _download(token, archive=True).status == 422
    assert _download(token).status == 200
