"""Metadata: the single DynamoDB table, built from the shared definition in ``docuserve.schema``."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kms as kms
from constructs import Construct

from docuserve.schema import TABLE
from infra.config import StageConfig


def _string(name: str) -> dynamodb.Attribute:
    return dynamodb.Attribute(name=name, type=dynamodb.AttributeType.STRING)


class Data(Construct):
    """On-demand table encrypted with the organisation's key, PITR on, TTL for tidy-up only."""

    def __init__(self, scope: Construct, id: str, *, config: StageConfig, key: kms.IKey) -> None:
        super().__init__(scope, id)
        # Table (not TableV2): TableV2's customer-managed key needs a region-bound stack.
        self.table = dynamodb.Table(
            self,
            "Table",
            partition_key=_string(TABLE.partition_key),
            sort_key=_string(TABLE.sort_key),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
            encryption_key=key,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            time_to_live_attribute=TABLE.ttl_attribute,
            stream=dynamodb.StreamViewType(TABLE.stream_view),
            deletion_protection=config.deletion_protection,
            removal_policy=RemovalPolicy.RETAIN if config.retain_data else RemovalPolicy.DESTROY,
        )
        for index in TABLE.indexes:
            self.table.add_global_secondary_index(
                index_name=index.name,
                partition_key=_string(index.partition_key),
                sort_key=_string(index.sort_key),
                projection_type=dynamodb.ProjectionType.ALL,
            )
