"""Restoring an older version (``POST /documents/{id}/versions/{version_id}/restore``) through the
real routes on moto: the old bytes become a new, higher-numbered version by S3's server-side copy,
and land through the same object-created event and verification as an upload."""

from __future__ import annotations

import importlib
import json
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

import boto3
import pytest

from docuserve import keys
from docuserve.adapters.store import Store
from tests.support.documents import (
    User,
    add_member,
    create_document,
    create_workspace,
    make_user,
    ok,
    scan_queued,
    sha256_b64,
    upload,
)
from tests.support.gateway import FakeContext, Reply, call

V1, V2 = b"%PDF-1.7 the first draft", b"%PDF-1.7 the second draft, longer"


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
        self.doc, self.v1, self.v2 = self.two_versions()
        drain(resources)  # the object-created events of the setup's own PUTs (delivered above)

    def two_versions(self) -> tuple[str, str, str]:
        created = create_document(self.editor, self.ws, V1)
        upload(self.resources, created["upload"]["upload_id"], V1)
        doc = created["document"]["id"]
        body = {"size": len(V2), "sha256": sha256_b64(V2)}
        second = ok(call("POST", f"/documents/{doc}/versions", claims=self.editor.claims, body=body), 201)
        upload(self.resources, second["upload_id"], V2)
        return doc, created["upload"]["version_id"], second["version_id"]

    def restore(self, user: User, version_id: str | None = None, doc: str | None = None) -> Reply:
        path = f"/documents/{doc or self.doc}/versions/{version_id or self.v1}/restore"
        return call("POST", path, claims=user.claims)

    def detail(self) -> dict[str, Any]:
        return dict(ok(call("GET", f"/documents/{self.doc}", claims=self.viewer.claims)))


@pytest.fixture
def s(aws: Any) -> Setup:
    return Setup(aws)


def drain(resources: Any) -> list[str]:
    """Receive (and delete) every message S3 put on the upload-events queue; returns their bodies."""
    sqs = boto3.client("sqs", region_name=resources.region)
    bodies: list[str] = []
    while True:
        got = sqs.receive_message(QueueUrl=resources.events_queue_url, MaxNumberOfMessages=10).get("Messages", [])
        if not got:
            return bodies
        for message in got:
            bodies.append(message["Body"])
            sqs.delete_message(QueueUrl=resources.events_queue_url, ReceiptHandle=message["ReceiptHandle"])


def deliver_s3_events(resources: Any) -> list[str]:
    """Hand what S3 itself queued (moto's bucket notification) to the upload-processing function,
    then let the stand-in scanner scan what it was told about (its results go the same way)."""
    from local.events import sqs_event

    bodies = drain(resources)
    module = importlib.import_module("handlers.upload_events")
    for n, body in enumerate(bodies):
        result = module.handler(sqs_event([(f"s3-{n}", body)]), FakeContext())
        assert result == {"batchItemFailures": []}, json.dumps(result)
    scan_queued(resources)
    return bodies


def download_bytes(s: Setup, version_id: str | None = None) -> bytes:
    query = {"version_id": version_id} if version_id else None
    url = urlparse(ok(call("GET", f"/documents/{s.doc}/download", claims=s.viewer.claims, query=query))["url"])
    key = unquote(url.path.lstrip("/"))  # virtual-hosted: the path is the key
    s3_version = parse_qs(url.query)["versionId"][0]
    s3 = boto3.client("s3", region_name=s.resources.region)
    data: bytes = s3.get_object(Bucket=s.resources.bucket_name, Key=key, VersionId=s3_version)["Body"].read()
    return data


def test_restoring_v1_makes_its_bytes_version_3_through_the_s3_event_and_verification(s: Setup) -> None:
    reply = s.restore(s.editor)
    assert reply.status == 202, reply.text
    restored = reply.json()
    assert restored["number"] == 3
    assert restored["status"] == "completing"
    assert restored["restored_from_version_id"] == s.v1
    assert restored["restored_from_number"] == 1
    assert set(restored) == {
        "upload_id",
        "document_id",
        "version_id",
        "number",
        "status",
        "restored_from_version_id",
        "restored_from_number",
    }
    # Until S3's event has been processed, the new version is pending and v2 stays current.
    pending = s.detail()
    assert pending["current_version"] == s.v2
    assert [(v["number"], v["status"]) for v in sorted(pending["versions"], key=lambda v: v["number"])] == [
        (1, "available"),
        (2, "available"),
        (3, "pending"),
    ]

    (event,) = deliver_s3_events(s.resources)
    assert json.loads(event)["Records"][0]["eventName"].startswith("ObjectCreated:Copy")

    detail = s.detail()
    assert detail["current_version"] == restored["version_id"]
    assert detail["version_count"] == 3
    assert detail["sha256"] == sha256_b64(V1)
    assert detail["size"] == len(V1)
    numbers = sorted((v["number"], v["status"]) for v in detail["versions"])
    assert numbers == [(1, "available"), (2, "available"), (3, "available")]
    assert download_bytes(s) == V1
    assert download_bytes(s, s.v2) == V2  # every version stays downloadable
    session = ok(call("GET", f"/uploads/{restored['upload_id']}", claims=s.editor.claims))
    assert session["status"] == "completed"
    assert session["method"] == "COPY"

    # The new object: its own server-generated key, encrypted with our key, with S3's SHA-256.
    item = Store().get(keys.version(s.doc, restored["version_id"]))
    assert item is not None
    source = Store().get(keys.version(s.doc, s.v1))
    assert source is not None
    assert item["object_key"] != source["object_key"]
    head = boto3.client("s3", region_name=s.resources.region).head_object(
        Bucket=s.resources.bucket_name, Key=item["object_key"], ChecksumMode="ENABLED"
    )
    assert head["ServerSideEncryption"] == "aws:kms"
    assert head["SSEKMSKeyId"] == s.resources.kms_key_arn
    assert head["ChecksumSHA256"] == sha256_b64(V1)

    audit = ok(call("GET", f"/documents/{s.doc}/audit", claims=s.owner.claims))["items"]
    (event_item,) = [e for e in audit if e["action"] == "version.restored"]
    assert event_item["actor"]["id"] == s.editor.id
    assert event_item["details"]["number"] == 3
    assert event_item["details"]["restored_from_number"] == 1
    assert any(e["action"] == "version.available" and e["details"]["number"] == 3 for e in audit)


def test_a_restored_version_can_itself_be_restored_and_numbers_stay_gap_free(s: Setup) -> None:
    ok(s.restore(s.owner), 202)
    deliver_s3_events(s.resources)
    again = ok(s.restore(s.owner, s.v2), 202)
    assert again["number"] == 4
    deliver_s3_events(s.resources)
    assert download_bytes(s) == V2
    assert sorted(v["number"] for v in s.detail()["versions"]) == [1, 2, 3, 4]


@pytest.mark.parametrize(("who", "status"), [("viewer", 403), ("stranger", 404)])
def test_a_viewer_is_refused_and_a_non_member_never_learns_the_document_exists(s: Setup, who: str, status: int) -> None:
    reply = s.restore(getattr(s, who))
    assert reply.status == status, reply.text
    assert s.detail()["version_count"] == 2
    assert drain(s.resources) == []  # nothing was copied


def test_a_version_of_another_document_unknown_or_malformed_is_not_found(s: Setup) -> None:
    other_doc, other_v1, _ = s.two_versions()
    drain(s.resources)
    assert s.restore(s.editor, other_v1).status == 404  # exists, but under another document
    assert s.restore(s.editor, s.v1, doc=other_doc).status == 404
    assert s.restore(s.editor, f"{s.ws}.{'0' * 16}").status == 404
    assert s.restore(s.editor, "not-an-id").status == 404
    assert s.detail()["version_count"] == 2


def test_the_current_version_a_failed_one_and_a_trashed_or_purging_document_are_conflicts(s: Setup) -> None:
    current = s.restore(s.editor, s.v2)
    assert current.status == 409
    assert "already the current" in current.text

    failed = Store().get(keys.version(s.doc, s.v1))
    assert failed is not None
    Store().put({**failed, "status": "failed"})
    assert s.restore(s.editor).status == 409
    Store().put(failed)

    ok(call("DELETE", f"/documents/{s.doc}", claims=s.editor.claims), 204)
    trashed = s.restore(s.editor)
    assert trashed.status == 409
    assert "trash" in trashed.text

    ok(call("POST", f"/documents/{s.doc}/restore", claims=s.editor.claims))
    doc = Store().get(keys.document(s.doc))
    assert doc is not None
    Store().put({**doc, "status": "purging"})
    purging = s.restore(s.editor)
    assert purging.status == 409
    assert "purged" in purging.text
    assert drain(s.resources) == []


def test_an_editor_demoted_before_the_copy_lands_gets_no_version(s: Setup) -> None:
    restored = ok(s.restore(s.editor), 202)
    ok(call("PUT", f"/workspaces/{s.ws}/members/{s.editor.id}", claims=s.owner.claims, body={"role": "viewer"}))
    deliver_s3_events(s.resources)
    detail = s.detail()
    assert detail["current_version"] == s.v2
    new = next(v for v in detail["versions"] if v["id"] == restored["version_id"])
    assert new["status"] == "failed"
    assert "lost the editor role" in new["failure_reason"]
    # And a demoted editor cannot start one.
    assert s.restore(s.editor).status == 403


def test_a_removed_editor_no_longer_learns_the_document_exists(s: Setup) -> None:
    ok(call("DELETE", f"/workspaces/{s.ws}/members/{s.editor.id}", claims=s.owner.claims), 204)
    reply = s.restore(s.editor)
    assert reply.status == 404, reply.text
    assert s.detail()["version_count"] == 2
    assert drain(s.resources) == []


def test_a_source_object_s3_no_longer_has_fails_the_new_version_with_a_409(s: Setup) -> None:
    source = Store().get(keys.version(s.doc, s.v1))
    assert source is not None
    boto3.client("s3", region_name=s.resources.region).delete_object(
        Bucket=s.resources.bucket_name, Key=source["object_key"], VersionId=source["s3_version_id"]
    )
    reply = s.restore(s.editor)
    assert reply.status == 409, reply.text
    assert "could not copy" in reply.text
    detail = s.detail()
    assert detail["current_version"] == s.v2
    assert [v["status"] for v in detail["versions"] if v["number"] == 3] == ["failed"]


def test_a_version_above_s3s_single_copy_limit_is_refused_before_anything_is_claimed(s: Setup) -> None:
    source = Store().get(keys.version(s.doc, s.v1))
    assert source is not None
    Store().put({**source, "size": 5 * 1024**3 + 1})
    reply = s.restore(s.editor)
    assert reply.status == 409
    assert "5 GiB" in reply.text
    assert s.detail()["version_count"] == 2
