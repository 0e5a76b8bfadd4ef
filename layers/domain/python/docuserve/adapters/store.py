"""DynamoDB adapter: plain-dict items in, plain-dict items out, over the single table.

Logic never sees attribute-value encoding, boto3 exceptions or raw pagination keys: conditional
failures become ``ConditionFailed``/``TransactionCancelled`` and pages carry opaque cursors.

Transactions cancelled only by a conflict with another transaction (or by throttling) are not a
decision about the data: DynamoDB cancels simultaneous transactions on one item, so uploads into
one workspace meet each other. ``Store.transact`` retries those here, and only here, with bounded
full-jitter backoff; if they outlast the retries the caller gets ``Contended`` (429, retry), never
a ``TransactionCancelled`` that logic would read as "not found" or "conflict".
"""

from __future__ import annotations

import base64
import binascii
import json
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from docuserve.adapters import aws
from docuserve.errors import InvalidInput, Throttled
from docuserve.schema import TABLE
from docuserve.settings import get_settings

Item = dict[str, Any]
_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


class ConditionFailed(Exception):  # a domain signal, not an error to log
    """A conditional write found the item in another state."""

    def __init__(self, item: Item | None = None) -> None:
        super().__init__("condition failed")
        self.item = item


CANCELLED_BY_DATA = frozenset({"None", "ConditionalCheckFailed", "TransactionConflict"})


class TransactionCancelled(Exception):
    """A transaction was cancelled; ``reasons`` has one code per action ('None' if it was fine)."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__(f"transaction cancelled: {reasons}")
        self.reasons = reasons


class Contended(Throttled):
    """Transactions kept meeting concurrent ones past every retry: the client should try again."""

    code = "contended"

    def __init__(self) -> None:
        super().__init__("too many concurrent changes to the same items; try again", retry_after=1)


# Cancellation reasons that say nothing about the data: another transaction or throttling.
RETRYABLE_REASONS = frozenset({"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"})
TRANSACT_ATTEMPTS = 6
BACKOFF_BASE_SECONDS = 0.025
BACKOFF_CAP_SECONDS = 0.4  # the five pauses stay under 1.2 s in the worst case


def backoff(attempt: int) -> float:
    """Full jitter: a uniform pause up to an exponentially growing, capped bound."""
    return random.uniform(0, min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2**attempt))  # noqa: S311 - not a secret


def _pause(seconds: float) -> None:
    time.sleep(seconds)


def _to_python(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _to_python(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_to_python(v) for v in value]
    if isinstance(value, set):
        return sorted(_to_python(v) for v in value)
    return value


def serialize(item: Item) -> dict[str, Any]:
    return {k: _serializer.serialize(v) for k, v in item.items() if v is not None}


def deserialize(raw: dict[str, Any]) -> Item:
    return {k: _to_python(_deserializer.deserialize(v)) for k, v in raw.items()}


def values(mapping: dict[str, Any]) -> dict[str, Any]:
    """Serialize ``ExpressionAttributeValues``."""
    return {k: _serializer.serialize(v) for k, v in mapping.items()}


@dataclass(frozen=True)
class Page:
    items: list[Item]
    next_cursor: str | None


def encode_cursor(last_key: dict[str, Any] | None) -> str | None:
    if not last_key:
        return None
    plain = deserialize(last_key)
    return base64.urlsafe_b64encode(json.dumps(plain, separators=(",", ":")).encode()).decode().rstrip("=")


def _key_value(value: Any) -> bool:
    # A key DynamoDB accepts: a non-empty string of Unicode text (no lone surrogate), at most 2 KiB.
    return isinstance(value, str) and 0 < len(value) <= 2048 and not any("\ud800" <= c <= "\udfff" for c in value)


def cursor_attributes(index: str | None = None) -> frozenset[str]:
    """The key attributes a page of a Query on the table (or on ``index``) ends with."""
    names = {TABLE.partition_key, TABLE.sort_key}
    if index:
        idx = next(i for i in TABLE.indexes if i.name == index)
        names |= {idx.partition_key, idx.sort_key}
    return frozenset(names)


def decode_cursor(
    cursor: str, *, partition_attribute: str, partition_value: str, index: str | None = None
) -> dict[str, Any]:
    """Validate a client cursor: exactly the key attributes of *this* query (table or ``index``), in its partition.

    DynamoDB refuses an ``ExclusiveStartKey`` missing any of them with a ValidationException:
    that is the client's invalid cursor (422), never a server error.
    """
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        plain = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, binascii.Error, UnicodeDecodeError, RecursionError):
        raise InvalidInput("cursor", "not a cursor this API issued") from None
    if (
        not isinstance(plain, dict)
        or set(plain) != cursor_attributes(index)
        or not all(_key_value(v) for v in plain.values())
        or plain.get(partition_attribute) != partition_value
    ):
        raise InvalidInput("cursor", "not a cursor for this list")
    return serialize(plain)


class Store:
    """The DocuServe table."""

    def __init__(self, table_name: str | None = None) -> None:
        self.table_name = table_name or get_settings().table_name

    @property
    def _client(self) -> Any:
        return aws.dynamodb()

    def get(self, key: dict[str, str], *, consistent: bool = True) -> Item | None:
        raw = self._client.get_item(TableName=self.table_name, Key=serialize(key), ConsistentRead=consistent)
        return deserialize(raw["Item"]) if "Item" in raw else None

    def get_many(self, keys: Sequence[dict[str, str]], *, consistent: bool = True) -> list[Item | None]:
        """Fetch up to 100 items in one BatchGetItem (retrying unprocessed keys); results in ``keys`` order."""
        if not keys:
            return []
        unique = {json.dumps(k, sort_keys=True): k for k in keys}
        found: dict[str, Item] = {}
        request: dict[str, Any] = {
            self.table_name: {"Keys": [serialize(k) for k in unique.values()], "ConsistentRead": consistent}
        }
        while request:
            raw = self._client.batch_get_item(RequestItems=request)
            for item in raw.get("Responses", {}).get(self.table_name, []):
                plain = deserialize(item)
                found[json.dumps({"pk": plain["pk"], "sk": plain["sk"]}, sort_keys=True)] = plain
            request = raw.get("UnprocessedKeys") or {}
        return [found.get(json.dumps(k, sort_keys=True)) for k in keys]

    def put(
        self,
        item: Item,
        *,
        condition: str | None = None,
        names: dict[str, str] | None = None,
        expression_values: dict[str, Any] | None = None,
    ) -> None:
        kwargs: dict[str, Any] = {"TableName": self.table_name, "Item": serialize(item)}
        if condition:
            kwargs["ConditionExpression"] = condition
            kwargs["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
        if names:
            kwargs["ExpressionAttributeNames"] = names
        if expression_values:
            kwargs["ExpressionAttributeValues"] = values(expression_values)
        self._call("put_item", kwargs)

    def update(
        self,
        key: dict[str, str],
        update: str,
        *,
        condition: str | None = None,
        names: dict[str, str] | None = None,
        expression_values: dict[str, Any] | None = None,
        return_values: str = "ALL_NEW",
    ) -> Item | None:
        kwargs: dict[str, Any] = {
            "TableName": self.table_name,
            "Key": serialize(key),
            "UpdateExpression": update,
            "ReturnValues": return_values,
        }
        if condition:
            kwargs["ConditionExpression"] = condition
            kwargs["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
        if names:
            kwargs["ExpressionAttributeNames"] = names
        if expression_values:
            kwargs["ExpressionAttributeValues"] = values(expression_values)
        raw = self._call("update_item", kwargs)
        return deserialize(raw["Attributes"]) if raw.get("Attributes") else None

    def delete(self, key: dict[str, str], *, condition: str | None = None, names: dict[str, str] | None = None,
               expression_values: dict[str, Any] | None = None) -> None:  # fmt: skip
        kwargs: dict[str, Any] = {"TableName": self.table_name, "Key": serialize(key)}
        if condition:
            kwargs["ConditionExpression"] = condition
        if names:
            kwargs["ExpressionAttributeNames"] = names
        if expression_values:
            kwargs["ExpressionAttributeValues"] = values(expression_values)
        self._call("delete_item", kwargs)

    def transact(self, actions: list[dict[str, Any]]) -> None:
        """Run ``TransactWriteItems``. Each action is ``{"Put"|"Update"|"Delete"|"ConditionCheck": {...}}``
        with plain (unserialized) ``Item``/``Key``/``ExpressionAttributeValues``; the table name is filled in.
        """
        encoded = []
        for action in actions:
            ((kind, body),) = action.items()
            body = dict(body)
            body["TableName"] = self.table_name
            if "Item" in body:
                body["Item"] = serialize(body["Item"])
            if "Key" in body:
                body["Key"] = serialize(body["Key"])
            if "ExpressionAttributeValues" in body:
                body["ExpressionAttributeValues"] = values(body["ExpressionAttributeValues"])
            encoded.append({kind: body})
        for attempt in range(TRANSACT_ATTEMPTS):
            try:
                self._client.transact_write_items(TransactItems=encoded)
                return
            except ClientError as exc:
                if exc.response["Error"]["Code"] != "TransactionCanceledException":
                    raise
                reasons = [r.get("Code", "None") for r in exc.response.get("CancellationReasons", [])]
                retryable = set(reasons) & RETRYABLE_REASONS and "ConditionalCheckFailed" not in reasons
                if not retryable:
                    # Only the data's answer (a condition, a concurrent transaction) is a cancellation
                    # that callers map to 404/409; any other reason (a ValidationError, an
                    # unencodable value) is a failure and must not pass for a conflict.
                    if set(reasons) <= CANCELLED_BY_DATA | RETRYABLE_REASONS:
                        raise TransactionCancelled(reasons) from None
                    raise
            if attempt + 1 < TRANSACT_ATTEMPTS:
                _pause(backoff(attempt))
        raise Contended()

    def query(
        self,
        partition_value: str,
        *,
        index: str | None = None,
        sk_prefix: str | None = None,
        sk_between: tuple[str, str] | None = None,
        forward: bool = True,
        limit: int = 50,
        cursor: str | None = None,
        filter_expression: str | None = None,
        names: dict[str, str] | None = None,
        expression_values: dict[str, Any] | None = None,
        consistent: bool = False,
    ) -> Page:
        """One page of a Query on the table or a GSI (never Scan). ``limit`` bounds items *read*."""
        pk_attr, sk_attr = TABLE.partition_key, TABLE.sort_key
        if index:
            idx = next(i for i in TABLE.indexes if i.name == index)
            pk_attr, sk_attr = idx.partition_key, idx.sort_key
        expr_names = {"#pk": pk_attr, **(names or {})}
        expr_values: dict[str, Any] = {":pk": partition_value, **(expression_values or {})}
        condition = "#pk = :pk"
        if sk_prefix is not None:
            expr_names["#sk"] = sk_attr
            expr_values[":skp"] = sk_prefix
            condition += " AND begins_with(#sk, :skp)"
        elif sk_between is not None:
            expr_names["#sk"] = sk_attr
            expr_values[":sklo"], expr_values[":skhi"] = sk_between
            condition += " AND #sk BETWEEN :sklo AND :skhi"
        kwargs: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": condition,
            "ExpressionAttributeNames": expr_names,
            "ExpressionAttributeValues": values(expr_values),
            "ScanIndexForward": forward,
            "Limit": limit,
        }
        if index:
            kwargs["IndexName"] = index
        elif consistent:
            kwargs["ConsistentRead"] = True
        if filter_expression:
            kwargs["FilterExpression"] = filter_expression
        if cursor:
            kwargs["ExclusiveStartKey"] = decode_cursor(
                cursor, partition_attribute=pk_attr, partition_value=partition_value, index=index
            )
        raw = self._client.query(**kwargs)
        return Page(
            items=[deserialize(i) for i in raw.get("Items", [])], next_cursor=encode_cursor(raw.get("LastEvaluatedKey"))
        )

    def _call(self, operation: str, kwargs: dict[str, Any]) -> dict[str, Any]:
        try:
            result: dict[str, Any] = getattr(self._client, operation)(**kwargs)
            return result
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                old = exc.response.get("Item")
                raise ConditionFailed(deserialize(old) if old else None) from None
            raise
