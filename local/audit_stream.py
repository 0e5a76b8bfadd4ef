"""Deliver the table's DynamoDB stream to the audit-stream function, as Lambda's stream source does.

Lambda reads the stream in order and hands batches to ``handlers.audit_stream`` as
``{"Records": [...]}`` events; a reported ``batchItemFailures`` sequence number makes it retry from
that record. ``StreamReader`` does the same against moto's DynamoDB Streams (one shard), and
``StreamPoller`` runs it in a background thread for the local stack. Tests drive ``StreamReader``
directly to materialise audit events deterministically.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import boto3
from botocore.config import Config

from local.polling import BackgroundPoller

FUNCTION = "audit_stream"
BATCH_SIZE = 100  # the stack's event source batch size
WAIT_SECONDS = 0.5


def lambda_record(raw: dict[str, Any], stream_arn: str) -> dict[str, Any]:
    """A GetRecords record in the shape Lambda passes to a function (epoch seconds, source ARN)."""
    dynamodb = dict(raw["dynamodb"])
    created = dynamodb.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        dynamodb["ApproximateCreationDateTime"] = int(created.timestamp())
    return {
        "eventID": raw["eventID"],
        "eventName": raw["eventName"],
        "eventVersion": raw.get("eventVersion", "1.1"),
        "eventSource": "aws:dynamodb",
        "awsRegion": raw.get("awsRegion", ""),
        "dynamodb": dynamodb,
        "eventSourceARN": stream_arn,
    }


def streams_client(*, endpoint_url: str | None, region: str) -> Any:
    # Account-id endpoints ({account}.streams-ddb...) are botocore's default for stream ARNs; moto
    # only answers on the classic host name.
    config = Config(account_id_endpoint_mode="disabled", retries={"mode": "standard"})
    return boto3.session.Session(region_name=region).client("dynamodbstreams", endpoint_url=endpoint_url, config=config)


class StreamReader:
    """Reads the table's stream from its beginning and invokes a handler per batch, in order.

    It keeps a position (the last delivered sequence number), not a shard iterator: moto answers a
    cancelled transaction by replacing the table, and its stream shard, with a copy, so an
    iterator held across polls keeps reading the abandoned shard and never sees another record.
    Every poll therefore finds the table's current shard and continues after the last record
    delivered, as Lambda resumes from its checkpoint.
    """

    def __init__(
        self,
        *,
        table_name: str,
        region: str,
        endpoint_url: str | None = None,
        invoke: Callable[[dict[str, Any]], Any] | None = None,
    ) -> None:
        session = boto3.session.Session(region_name=region)
        self._ddb = session.client("dynamodb", endpoint_url=endpoint_url)
        self._table_name = table_name
        self._streams = streams_client(endpoint_url=endpoint_url, region=region)
        self.stream_arn, self._shard_id = self._current_shard()
        self._after: str | None = None  # sequence number of the last record delivered
        self._invoke = invoke or _invoke_function(region)

    def _current_shard(self) -> tuple[str, str]:
        arn: str = self._ddb.describe_table(TableName=self._table_name)["Table"]["LatestStreamArn"]
        (shard,) = self._streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
        return arn, str(shard["ShardId"])

    def _iterator(self) -> str:
        self.stream_arn, self._shard_id = self._current_shard()
        where: dict[str, str] = {"ShardIteratorType": "TRIM_HORIZON"}
        if self._after is not None:
            where = {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": self._after}
        found: str = self._streams.get_shard_iterator(StreamArn=self.stream_arn, ShardId=self._shard_id, **where)[
            "ShardIterator"
        ]
        return found

    def poll_once(self) -> int:
        """Deliver one batch; returns how many records it held (0: caught up)."""
        got = self._streams.get_records(ShardIterator=self._iterator(), Limit=BATCH_SIZE)
        records = got.get("Records", [])
        if not records:
            return 0
        event = {"Records": [lambda_record(r, self.stream_arn) for r in records]}
        result = self._invoke(event)
        failures = [f.get("itemIdentifier") for f in (result or {}).get("batchItemFailures", [])]
        delivered = [str(r["dynamodb"]["SequenceNumber"]) for r in records]
        if failures and failures[0]:
            # Retry from the first failed record, as Lambda does with a partial batch response.
            index = delivered.index(failures[0]) if failures[0] in delivered else 0
            if index > 0:
                self._after = delivered[index - 1]
        else:
            self._after = delivered[-1]
        return len(records)

    def drain(self, max_batches: int = 1000) -> int:
        """Deliver everything written so far; returns how many records were read."""
        total = 0
        for _ in range(max_batches):
            n = self.poll_once()
            if n == 0:
                return total
            total += n
        return total


def _invoke_function(region: str) -> Callable[[dict[str, Any]], Any]:
    from local.invoke import invoke

    def call(event: dict[str, Any]) -> Any:
        return invoke(FUNCTION, event, region=region)

    return call


class StreamPoller:
    """A background thread: table stream → ``audit_stream`` handler."""

    def __init__(self, *, table_name: str, endpoint_url: str, region: str, log: Callable[[str], None]) -> None:
        self.reader = StreamReader(table_name=table_name, region=region, endpoint_url=endpoint_url)
        self.log = log
        self._poller = BackgroundPoller(
            "audit-stream",
            self.reader.poll_once,
            idle_seconds=WAIT_SECONDS,
            retry_seconds=WAIT_SECONDS,
            on_error=lambda: self.log("audit stream: delivery failed; retrying"),
        )

    def start(self) -> StreamPoller:
        self._poller.start()
        return self

    def stop(self) -> None:
        self._poller.stop()
