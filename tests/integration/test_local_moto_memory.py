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
