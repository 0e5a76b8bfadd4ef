"""The restore procedures of docs/operations.md ("Restoring"), run step by step against moto.

Two kinds of test live here. ``test_runbook_check_*`` (marked ``runbook``) run the runbook's AWS
CLI steps through boto3 with the same parameters and exercise no DocuServe code: they check that
the documented steps do what the runbook says, on moto's model of S3 and DynamoDB, not that
DocuServe behaves. The others drive DocuServe's handlers around those steps. What moto cannot
show (how far back PITR reaches, lifecycle expiry) is stated where it matters.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlparse

import boto3
import pytest

from docuserve.adapters.objects import object_key
from docuserve.schema import TABLE
from tests.support.documents import create_document, create_workspace, deliver, make_user, ok, upload
from tests.support.gateway import call

DOCUMENT = "aaaaaaaaaaaaaaaa.bbbbbbbbbbbbbbbb"
VERSION = "aaaaaaaaaaaaaaaa.cccccccccccccccc"


def _s3() -> Any:
    return boto3.client("s3", region_name="us-east-1")


def _put(resources: Any, key: str, body: bytes) -> str:
    """Store bytes the way an upload lands: SSE-KMS under the organisation's key."""
    response = _s3().put_object(
        Bucket=resources.bucket_name,
        Key=key,
        Body=body,
        ServerSideEncryption="aws:kms",
        SSEKMSKeyId=resources.kms_key_arn,
    )
    return str(response["VersionId"])


def _versions(resources: Any, key: str) -> dict[str, list[dict[str, Any]]]:
    listed = _s3().list_object_versions(Bucket=resources.bucket_name, Prefix=key)
    return {"versions": listed.get("Versions", []), "markers": listed.get("DeleteMarkers", [])}


# --- S3: an object deleted or overwritten outside the app ------------------------------------


@pytest.mark.runbook
def test_runbook_check_removing_a_delete_marker_brings_the_object_back(aws: Any) -> None:
    # Given a landed version, deleted from the console or CLI (a plain delete leaves a marker)
    key = object_key(DOCUMENT, VERSION)
    original = _put(aws, key, b"launch plan v1")
    _s3().delete_object(Bucket=aws.bucket_name, Key=key)
    with pytest.raises(_s3().exceptions.NoSuchKey):
        _s3().get_object(Bucket=aws.bucket_name, Key=key)

    # When the operator finds the marker that is latest and deletes exactly that version
    (marker,) = [m for m in _versions(aws, key)["markers"] if m["IsLatest"]]
    _s3().delete_object(Bucket=aws.bucket_name, Key=key, VersionId=marker["VersionId"])

    # Then the object is back, under its original version id (the one DocuServe's metadata holds)
    restored = _s3().get_object(Bucket=aws.bucket_name, Key=key)
    assert restored["Body"].read() == b"launch plan v1"
    assert restored["VersionId"] == original
    assert _versions(aws, key)["markers"] == []


@pytest.mark.runbook
def test_runbook_check_deleting_the_newer_version_undoes_an_overwrite(aws: Any) -> None:
    # Given a landed version that something outside the app wrote over
    key = object_key(DOCUMENT, VERSION)
    original = _put(aws, key, b"launch plan v1")
    intruder = _put(aws, key, b"garbage")

    # When the operator deletes the newer version (after copying it aside if it is evidence)
    latest = next(v for v in _versions(aws, key)["versions"] if v["IsLatest"])
    assert latest["VersionId"] == intruder
    _s3().delete_object(Bucket=aws.bucket_name, Key=key, VersionId=intruder)

    # Then the original version is current again, with its bytes and version id unchanged
    restored = _s3().get_object(Bucket=aws.bucket_name, Key=key)
    assert restored["Body"].read() == b"launch plan v1"
    assert restored["VersionId"] == original


@pytest.mark.runbook
def test_runbook_check_a_version_pinned_read_survives_a_delete_marker(aws: Any) -> None:
    # DocuServe reads objects by S3 version id, so a stray delete marker does not break downloads
    # at once; but it makes the version noncurrent, and the lifecycle rule deletes noncurrent
    # versions after the trash retention (30 days). Hence: restore within that window.
    key = object_key(DOCUMENT, VERSION)
    original = _put(aws, key, b"launch plan v1")
    _s3().delete_object(Bucket=aws.bucket_name, Key=key)

    pinned = _s3().get_object(Bucket=aws.bucket_name, Key=key, VersionId=original)

    assert pinned["Body"].read() == b"launch plan v1"
    (version,) = _versions(aws, key)["versions"]
    assert version["IsLatest"] is False  # noncurrent: the lifecycle clock is running


@pytest.mark.runbook
def test_runbook_check_an_object_with_every_version_deleted_has_nothing_to_restore(aws: Any) -> None:
    # SPEC: purge deletes every version for good. This is the boundary of what can be restored.
    key = object_key(DOCUMENT, VERSION)
    _put(aws, key, b"v1")
    _put(aws, key, b"v2")
    for version in _versions(aws, key)["versions"]:
        _s3().delete_object(Bucket=aws.bucket_name, Key=key, VersionId=version["VersionId"])

    assert _versions(aws, key) == {"versions": [], "markers": []}


# --- DynamoDB: the table from point-in-time recovery ------------------------------------------


def _item(pk: str, sk: str, **attributes: str) -> dict[str, Any]:
    item = {TABLE.partition_key: {"S": pk}, TABLE.sort_key: {"S": sk}}
    item.update({k: {"S": v} for k, v in attributes.items()})
    return item


def _items(table: str, pk: str) -> list[dict[str, Any]]:
    ddb = boto3.client("dynamodb", region_name="us-east-1")
    response = ddb.query(
        TableName=table,
        KeyConditionExpression="#pk = :pk",
        ExpressionAttributeNames={"#pk": TABLE.partition_key},
        ExpressionAttributeValues={":pk": {"S": pk}},
        ConsistentRead=True,
    )
    items: list[dict[str, Any]] = response["Items"]
    return items


@pytest.mark.runbook
def test_runbook_check_lost_items_are_copied_back_from_a_point_in_time_restore(aws: Any) -> None:
    ddb = boto3.client("dynamodb", region_name="us-east-1")
    live = aws.table_name
    ddb.update_continuous_backups(TableName=live, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
    pk = f"DOC#{DOCUMENT}"
    good = [
        _item(pk, "DOC", name="launch-plan.pdf", status="available"),
        _item(pk, f"VER#{VERSION}", size="14"),
    ]
    for item in good:
        ddb.put_item(TableName=live, Item=item)
    unrelated = _item("WS#aaaaaaaaaaaaaaaa", "WS", name="Launch")
    ddb.put_item(TableName=live, Item=unrelated)

    # Step 1: PITR is on and the moment before the mistake is inside its window
    backups = ddb.describe_continuous_backups(TableName=live)["ContinuousBackupsDescription"]
    assert backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"

    # Step 2: restore into a NEW table, encrypted with the organisation's key. moto copies the
    # table as it is at the call and ignores RestoreDateTime, so the call is made at the moment
    # being restored to; in AWS it may come hours later with the same parameters.
    restored = f"{live}-restored"
    ddb.restore_table_to_point_in_time(
        SourceTableName=live,
        TargetTableName=restored,
        RestoreDateTime=datetime.now(UTC),
        SSESpecificationOverride={"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": aws.kms_key_arn},
    )

    # The mistake: the document's items are deleted from the live table, and the live table
    # keeps serving in the meantime (the workspace changes after the restore point).
    for item in good:
        ddb.delete_item(TableName=live, Key={k: item[k] for k in (TABLE.partition_key, TABLE.sort_key)})
    ddb.put_item(TableName=live, Item=_item("WS#aaaaaaaaaaaaaaaa", "WS", name="Launch (renamed)"))
    assert _items(live, pk) == []

    # Step 3: copy back only the lost partition, never overwriting what exists in the live table
    for item in _items(restored, pk):
        ddb.put_item(
            TableName=live,
            Item=item,
            ConditionExpression="attribute_not_exists(#pk)",
            ExpressionAttributeNames={"#pk": TABLE.partition_key},
        )

    # Then the document is back, and later changes elsewhere are kept
    assert sorted(i[TABLE.sort_key]["S"] for i in _items(live, pk)) == ["DOC", f"VER#{VERSION}"]
    (workspace,) = _items(live, "WS#aaaaaaaaaaaaaaaa")
    assert workspace["name"]["S"] == "Launch (renamed)"

    # Step 4: the restored copy is deleted once it has served
    ddb.delete_table(TableName=restored)
    assert restored not in ddb.list_tables()["TableNames"]


# --- the same procedures on a document the app created ----------------------------------------

DATA = b"The launch plan, version one.\n"


@pytest.fixture
def landed(aws: Any) -> dict[str, Any]:
    """An owner's workspace with one available document, as the app creates it."""
    owner = make_user(aws, "owner@example.com")
    ws = create_workspace(owner)
    created = create_document(owner, ws, DATA)
    upload(aws, created["upload"]["upload_id"], DATA)
    doc = created["document"]["id"]
    (version,) = _document_versions(aws, doc)["versions"]
    return {"owner": owner, "ws": ws, "doc": doc, "key": version["Key"], "s3_version": version["VersionId"]}


def _document_versions(resources: Any, doc: str) -> dict[str, list[dict[str, Any]]]:
    return _versions(resources, f"documents/{doc.split('.')[0]}/{doc}/")


def _download_version(document: dict[str, Any]) -> str:
    """The S3 version id the app's presigned download URL names."""
    link = ok(call("GET", f"/documents/{document['doc']}/download", claims=document["owner"].claims))
    return parse_qs(urlparse(link["url"]).query)["versionId"][0]


def test_a_trashed_document_is_restored_through_the_api(aws: Any, landed: dict[str, Any]) -> None:
    claims = landed["owner"].claims
    assert call("DELETE", f"/documents/{landed['doc']}", claims=claims).status == 204
    assert ok(call("GET", f"/documents/{landed['doc']}", claims=claims))["status"] == "deleted"

    restored = ok(call("POST", f"/documents/{landed['doc']}/restore", claims=claims))

    assert restored["status"] == "available"
    assert _download_version(landed) == landed["s3_version"]


def test_a_purge_through_the_api_leaves_nothing_to_restore(aws: Any, landed: dict[str, Any]) -> None:
    claims = landed["owner"].claims
    assert call("DELETE", f"/documents/{landed['doc']}", claims=claims).status == 204
    reply = call("DELETE", f"/documents/{landed['doc']}", claims=claims, query={"purge": "true"})

    assert reply.status == 204, reply.text
    assert _document_versions(aws, landed["doc"]) == {"versions": [], "markers": []}
    assert call("GET", f"/documents/{landed['doc']}", claims=claims).status == 404


def test_a_stray_delete_marker_on_an_app_document_is_removed_and_the_same_version_served(
    aws: Any, landed: dict[str, Any]
) -> None:
    _s3().delete_object(Bucket=aws.bucket_name, Key=landed["key"])
    (marker,) = _document_versions(aws, landed["doc"])["markers"]

    _s3().delete_object(Bucket=aws.bucket_name, Key=landed["key"], VersionId=marker["VersionId"])

    assert _download_version(landed) == landed["s3_version"]
    current = _s3().get_object(Bucket=aws.bucket_name, Key=landed["key"])
    assert (current["Body"].read(), current["VersionId"]) == (DATA, landed["s3_version"])


def test_an_overwrite_outside_the_app_is_removed_by_upload_processing(aws: Any, landed: dict[str, Any]) -> None:
    # Versions are immutable: when the object-created event of the intruding write is processed,
    # the extra S3 version goes, and the original is current again without an operator.
    intruder = _put(aws, landed["key"], b"garbage")
    deliver(aws, {"key": landed["key"], "size": 7, "version_id": intruder})

    (version,) = _document_versions(aws, landed["doc"])["versions"]
    assert version["VersionId"] == landed["s3_version"]
    assert _download_version(landed) == landed["s3_version"]


def test_a_document_lost_from_the_table_is_back_in_the_app_after_the_pitr_copy_back(
    aws: Any, landed: dict[str, Any]
) -> None:
    ddb = boto3.client("dynamodb", region_name="us-east-1")
    live, restored, pk = aws.table_name, f"{aws.table_name}-restored", f"DOC#{landed['doc']}"
    ddb.restore_table_to_point_in_time(SourceTableName=live, TargetTableName=restored)  # moto: "now"
    for item in _items(live, pk):
        ddb.delete_item(TableName=live, Key={k: item[k] for k in (TABLE.partition_key, TABLE.sort_key)})
    assert call("GET", f"/documents/{landed['doc']}", claims=landed["owner"].claims).status == 404

    for item in _items(restored, pk):
        ddb.put_item(
            TableName=live,
            Item=item,
            ConditionExpression="attribute_not_exists(#pk)",
            ExpressionAttributeNames={"#pk": TABLE.partition_key},
        )

    assert call("GET", f"/documents/{landed['doc']}", claims=landed["owner"].claims).status == 200
    assert _download_version(landed) == landed["s3_version"]


def test_redriving_an_upload_event_while_its_items_are_lost_deletes_the_bytes(aws: Any, landed: dict[str, Any]) -> None:
    # Why the runbook restores the table BEFORE any dead-letter redrive: upload processing treats
    # an object no document owns as purged and deletes that S3 version, for good.
    ddb = boto3.client("dynamodb", region_name="us-east-1")
    for item in _items(aws.table_name, f"DOC#{landed['doc']}"):
        ddb.delete_item(TableName=aws.table_name, Key={k: item[k] for k in (TABLE.partition_key, TABLE.sort_key)})

    deliver(aws, {"key": landed["key"], "size": len(DATA), "version_id": landed["s3_version"]})

    assert _document_versions(aws, landed["doc"])["versions"] == []
