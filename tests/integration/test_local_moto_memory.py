"""The local stack runs for hours on one moto and never resets it: moto must not keep what it drops.

moto records every model object it creates in a class-level list. TransactWriteItems deep-copies the
whole table first (items, indexes, stream records), and the list kept every copy: an e2e run grew the
local stack past the CI machine's memory. ``local.cloud`` holds those records weakly.
"""

from __future__ import annotations

import gc
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

import local.cloud  # noqa: F401  (installs the weak instance records, as the local stack does)

TABLE = "memory-probe"


def _table(client: Any) -> None:
    client.create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )


def _put(pk: str, *, new: bool = True) -> dict[str, Any]:
    put: dict[str, Any] = {"TableName": TABLE, "Item": {"pk": {"S": pk}}}
    if new:
        put["ConditionExpression"] = "attribute_not_exists(pk)"
    return {"Put": put}


def _live_tables() -> list[Any]:
    from moto.dynamodb.models.table import Table

    gc.collect()  # a copy and its stream shard point at each other: a cycle, freed by the collector
    return [t for t in Table.instances_tracked if getattr(t, "name", None) == TABLE]


def test_transactions_keep_no_copy_of_the_table(aws: object) -> None:
    client = boto3.client("dynamodb")
    _table(client)
    for i in range(15):
        client.transact_write_items(TransactItems=[_put(f"a{i}"), _put(f"b{i}")])
    for i in range(5):  # cancelled: moto restores the table from its copy
        with pytest.raises(ClientError):
            client.transact_write_items(TransactItems=[_put(f"c{i}"), _put("a0")])

    live = _live_tables()

    assert len(live) == 1, f"{len(live)} copies of the table are still held after 20 transactions"
    assert client.scan(TableName=TABLE, Select="COUNT")["Count"] == 30  # nothing written was lost


def test_live_models_stay_listed_for_moto_dashboard_and_reset(aws: object) -> None:
    from moto.s3.models import FakeKey

    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="memory-probe")
    s3.put_object(Bucket="memory-probe", Key="kept", Body=b"kept")
    for i in range(3):
        s3.put_object(Bucket="memory-probe", Key="replaced", Body=b"v%d" % i)
    gc.collect()

    names = sorted(k.name for k in FakeKey.instances_tracked if k.bucket_name == "memory-probe")

    assert names == ["kept", "replaced"]  # the overwritten objects are gone, the stored ones listed
    assert s3.get_object(Bucket="memory-probe", Key="replaced")["Body"].read() == b"v2"


def _range_table(client: Any, name: str) -> None:
    client.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )


def _stream_records(table: str) -> list[dict[str, Any]]:
    from local.audit_stream import streams_client

    streams = streams_client(endpoint_url=None, region="us-east-1")
    arn = boto3.client("dynamodb").describe_table(TableName=table)["Table"]["LatestStreamArn"]
    (shard,) = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON")
    return list(streams.get_records(ShardIterator=iterator["ShardIterator"])["Records"])


def test_a_cancelled_transaction_leaves_no_trace_and_the_table_is_not_copied(aws: object) -> None:
    from moto.dynamodb.models import dynamodb_backends

    client = boto3.client("dynamodb")
    name = "rollback-probe"
    _range_table(client, name)

    def key(pk: str) -> dict[str, Any]:
        return {"pk": {"S": pk}, "sk": {"S": "x"}}

    client.put_item(TableName=name, Item={**key("a"), "v": {"N": "1"}})
    client.put_item(TableName=name, Item={**key("gone"), "v": {"N": "1"}})
    client.put_item(TableName=name, Item={**key("taken"), "v": {"N": "1"}})
    backend = next(b for regions in dynamodb_backends.values() for b in regions.values() if name in b.tables)
    table_before = backend.tables[name]
    records_before = _stream_records(name)

    with pytest.raises(ClientError) as cancelled:
        client.transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        "TableName": name,
                        "Key": key("a"),
                        "UpdateExpression": "SET v = :two",
                        "ExpressionAttributeValues": {":two": {"N": "2"}},
                    }
                },
                {"Put": {"TableName": name, "Item": {**key("b"), "v": {"N": "1"}}}},
                {"Delete": {"TableName": name, "Key": key("gone")}},
                {
                    "Put": {
                        "TableName": name,
                        "Item": {**key("taken"), "v": {"N": "9"}},
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
            ]
        )
    assert cancelled.value.response["Error"]["Code"] == "TransactionCanceledException"

    items = {i["pk"]["S"]: i["v"]["N"] for i in client.scan(TableName=name)["Items"]}
    assert items == {"a": "1", "gone": "1", "taken": "1"}  # the applied writes were undone
    assert _stream_records(name) == records_before  # and their stream records are gone
    assert backend.tables[name] is table_before  # the same table: nothing was copied

    client.transact_write_items(TransactItems=[{"Put": {"TableName": name, "Item": {**key("b"), "v": {"N": "1"}}}}])
    assert len(_stream_records(name)) == len(records_before) + 1  # the stream goes on after it
