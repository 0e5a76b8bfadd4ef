"""Build the exact API Gateway REST proxy events (and S3-via-SQS events) Lambda receives.

The local HTTP front and the integration tests both use these, so a handler never sees an event
shape that API Gateway or SQS would not send.
"""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

TEXT_TYPES = ("application/json", "text/", "application/x-www-form-urlencoded", "application/xml")


def rest_event(
    method: str,
    resource: str,
    path: str,
    *,
    path_parameters: dict[str, str] | None = None,
    query: dict[str, list[str]] | None = None,
    headers: dict[str, str] | None = None,
    body: bytes | str | None = None,
    claims: dict[str, Any] | None = None,
    source_ip: str = "127.0.0.1",
    stage: str = "api",
    request_id: str | None = None,
    multi_headers: dict[str, list[str]] | None = None,
) -> dict[str, Any]:
    """A REST API (v1) proxy-integration event, as API Gateway builds it.

    ``multi_headers`` carries repeated headers (all values); ``headers`` then gets the last of each.
    """
    if multi_headers:
        headers = {name: values[-1] for name, values in multi_headers.items() if values}
    headers = dict(headers or {})
    multi = {k: list(v) for k, v in multi_headers.items()} if multi_headers else {k: [v] for k, v in headers.items()}
    request_id = request_id or str(uuid.uuid4())
    multi_query = {k: list(v) for k, v in (query or {}).items()} or None
    content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
    is_base64 = False
    body_text: str | None
    if body is None or body == b"":
        body_text = None
    elif isinstance(body, str):
        body_text = body
    elif content_type.startswith(TEXT_TYPES) or not content_type:
        try:
            body_text = body.decode("utf-8")
        except UnicodeDecodeError:
            body_text, is_base64 = base64.b64encode(body).decode("ascii"), True
    else:
        body_text, is_base64 = base64.b64encode(body).decode("ascii"), True
    now = datetime.now(UTC)
    user_agent = next((v for k, v in headers.items() if k.lower() == "user-agent"), "")
    authorizer: dict[str, Any] | None = {"claims": claims} if claims is not None else None
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": headers or None,
        "multiValueHeaders": multi or None,
        "queryStringParameters": {k: v[-1] for k, v in multi_query.items()} if multi_query else None,
        "multiValueQueryStringParameters": multi_query,
        "pathParameters": path_parameters or None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": resource,
            "httpMethod": method,
            "path": f"/{stage}{quote(path)}",
            "stage": stage,
            "requestId": request_id,
            "extendedRequestId": request_id,
            "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "requestTimeEpoch": int(now.timestamp() * 1000),
            "protocol": "HTTP/1.1",
            "accountId": "123456789012",
            "apiId": "local",
            "domainName": "localhost",
            "identity": {"sourceIp": source_ip, "userAgent": user_agent},
            "authorizer": authorizer,
        },
        "body": body_text,
        "isBase64Encoded": is_base64,
    }


def sqs_event(
    bodies: list[tuple[str, str]], *, queue_arn: str = "arn:aws:sqs:us-east-1:123456789012:q"
) -> dict[str, Any]:
    """An SQS event source batch: ``bodies`` is ``[(message_id, body)]`` as received from the queue."""
    return {
        "Records": [
            {
                "messageId": message_id,
                "receiptHandle": message_id,
                "body": body,
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": queue_arn.split(":")[3],
            }
            for message_id, body in bodies
        ]
    }


def s3_object_created(bucket: str, key: str, size: int, *, version_id: str | None, etag: str = "") -> str:
    """The body S3 puts on the queue for one ObjectCreated event (``s3:ObjectCreated:Put``)."""
    obj: dict[str, Any] = {"key": quote(key), "size": size, "eTag": etag, "sequencer": uuid.uuid4().hex[:16]}
    if version_id:
        obj["versionId"] = version_id
    return json.dumps(
        {
            "Records": [
                {
                    "eventVersion": "2.1",
                    "eventSource": "aws:s3",
                    "awsRegion": "us-east-1",
                    "eventTime": datetime.now(UTC).isoformat(),
                    "eventName": "ObjectCreated:Put",
                    "s3": {
                        "s3SchemaVersion": "1.0",
                        "bucket": {"name": bucket, "arn": f"arn:aws:s3:::{bucket}"},
                        "object": obj,
                    },
                }
            ]
        }
    )
