"""Builders for the documents feature's tests: users in the pool, workspaces, uploads, S3 events."""

from __future__ import annotations

import base64
import hashlib
import importlib
import json
from dataclasses import dataclass
from typing import Any

import boto3

from local.events import s3_object_created, sqs_event
from tests.support.gateway import FakeContext, Reply, call, claims_for


def sha256_b64(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


@dataclass(frozen=True)
class User:
    id: str
    email: str
    claims: dict[str, str]


def make_user(resources: Any, email: str, *, admin: bool = False, verified: bool = True) -> User:
    """A user in the moto pool (e-mail verified, as an admin's invite makes it), and their claims."""
    cognito = boto3.client("cognito-idp", region_name=resources.region)
    raw = cognito.admin_create_user(
        UserPoolId=resources.user_pool_id,
        Username=email,
        UserAttributes=[
            {"Name": "email", "Value": email},
            {"Name": "email_verified", "Value": "true" if verified else "false"},
        ],
        MessageAction="SUPPRESS",
    )
    sub = next(a["Value"] for a in raw["User"]["Attributes"] if a["Name"] == "sub")
    if admin:
        cognito.admin_add_user_to_group(UserPoolId=resources.user_pool_id, Username=sub, GroupName="admins")
    return User(sub, email, claims_for(sub, email, ("admins",) if admin else ()))


def ok(reply: Reply, status: int = 200) -> Any:
    assert reply.status == status, (reply.status, reply.text)
    return reply.json()


def create_workspace(owner: User, name: str = "Launch") -> str:
    return str(ok(call("POST", "/workspaces", claims=owner.claims, body={"name": name}), 201)["id"])


def add_member(owner: User, ws: str, member: User, role: str) -> None:
    body = {"email": member.email, "role": role}
    reply = call("POST", f"/workspaces/{ws}/members", claims=owner.claims, body=body)
    assert reply.status in (200, 201), reply.text


def create_document(user: User, ws: str, data: bytes = b"hello", **fields: Any) -> dict[str, Any]:
    body = {"name": "plan.pdf", "content_type": "application/pdf", "size": len(data), "sha256": sha256_b64(data)}
    body.update(fields)
    return dict(ok(call("POST", f"/workspaces/{ws}/documents", claims=user.claims, body=body), 201))


def object_key_of(upload_id: str) -> str:
    """The server-generated key of an upload (tests only: clients never see keys)."""
    from docuserve import keys
    from docuserve.adapters.store import Store

    item = Store().get(keys.upload(upload_id))
    assert item is not None
    return str(item["object_key"])


def land(
    resources: Any, upload_id: str, data: bytes, *, content_type: str = "application/pdf", key: str | None = None
) -> dict[str, Any]:
    """Put bytes where the upload points (as the client's PUT would) and return the S3 event body;
    ``key`` read beforehand (``object_key_of``) saves the read here."""
    s3 = boto3.client("s3", region_name=resources.region)
    key = key or object_key_of(upload_id)
    put = s3.put_object(
        Bucket=resources.bucket_name,
        Key=key,
        Body=data,
        ContentType=content_type,
        ServerSideEncryption="aws:kms",
        SSEKMSKeyId=resources.kms_key_arn,
        ChecksumAlgorithm="SHA256",  # as the presigned PUT signs the SHA-256: S3 stores it
    )
    return {"key": key, "size": len(data), "version_id": put.get("VersionId")}


def deliver(resources: Any, *landed: dict[str, Any], scan: bool = True) -> dict[str, Any]:
    """Hand S3 object-created events to the upload-processing function as one SQS batch; then,
    with ``scan``, let the stand-in scanner scan the landed objects and deliver its results (as
    the local stack does), so a clean upload ends ``available``."""
    bodies = [
        (f"m{n}", s3_object_created(resources.bucket_name, x["key"], x["size"], version_id=x["version_id"]))
        for n, x in enumerate(landed)
    ]
    module = importlib.import_module("handlers.upload_events")
    result: dict[str, Any] = module.handler(sqs_event(bodies), FakeContext())
    if scan:
        scan_landed(resources, *landed)
    return result


def scan_landed(resources: Any, *landed: dict[str, Any]) -> list[str | None]:
    """The stand-in scanner on each landed object (its result goes through the EventBridge rule to
    the scan-results queue), then that queue handed to the upload-processing function."""
    from local.scanner import Scanner

    scanner = Scanner(bucket=resources.bucket_name, region=resources.region)
    results = [scanner.scan(x["key"], x["version_id"]) for x in landed]
    deliver_scan_results(resources)
    return results


def scan_queued(resources: Any) -> list[str | None]:
    """The stand-in scanner on everything S3 itself queued for it (moto's bucket notification to the
    scanner's queue, as the local stack's scanner reads it), then its results delivered."""
    from local.scanner import Scanner, object_versions

    sqs = boto3.client("sqs", region_name=resources.region)
    scanner = Scanner(bucket=resources.bucket_name, region=resources.region)
    results: list[str | None] = []
    while True:
        got = sqs.receive_message(QueueUrl=resources.scanner_queue_url, MaxNumberOfMessages=10).get("Messages", [])
        if not got:
            break
        for message in got:
            results += [scanner.scan(key, version) for key, version in object_versions(message["Body"])]
            sqs.delete_message(QueueUrl=resources.scanner_queue_url, ReceiptHandle=message["ReceiptHandle"])
    deliver_scan_results(resources)
    return results


def deliver_scan_results(resources: Any) -> list[dict[str, Any]]:
    """Hand every queued scan result to the upload-processing function, one per invocation (as
    the stack's event source does); returns each result's detail."""
    sqs = boto3.client("sqs", region_name=resources.region)
    module = importlib.import_module("handlers.upload_events")
    delivered: list[dict[str, Any]] = []
    while True:
        got = sqs.receive_message(QueueUrl=resources.scan_results_queue_url, MaxNumberOfMessages=1)
        messages = got.get("Messages", [])
        if not messages:
            return delivered
        (message,) = messages
        delivered.append(json.loads(message["Body"]).get("detail", {}))
        result = module.handler(sqs_event([(message["MessageId"], message["Body"])]), FakeContext())
        assert result == {"batchItemFailures": []}, json.dumps(result)
        sqs.delete_message(QueueUrl=resources.scan_results_queue_url, ReceiptHandle=message["ReceiptHandle"])


def upload(resources: Any, upload_id: str, data: bytes) -> None:
    result = deliver(resources, land(resources, upload_id, data))
    assert result == {"batchItemFailures": []}, json.dumps(result)


def run_jobs(resources: Any) -> list[str]:
    """Hand every queued upload job to the upload-jobs function, one per invocation (as the stack's
    event source does) until the queue is empty; returns each job's kind, in order."""
    sqs = boto3.client("sqs", region_name=resources.region)
    module = importlib.import_module("handlers.upload_jobs")
    kinds: list[str] = []
    while True:
        got = sqs.receive_message(QueueUrl=resources.jobs_queue_url, MaxNumberOfMessages=1).get("Messages", [])
        if not got:
            return kinds
        (message,) = got
        kinds.append(json.loads(message["Body"])["job"])
        result = module.handler(sqs_event([(message["MessageId"], message["Body"])]), FakeContext())
        assert result == {"batchItemFailures": []}, json.dumps(result)
        sqs.delete_message(QueueUrl=resources.jobs_queue_url, ReceiptHandle=message["ReceiptHandle"])
