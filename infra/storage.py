"""Documents storage: the organisation's KMS key, the documents bucket and its access-log bucket."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from docuserve.schema import ARCHIVES_PREFIX, bucket_cors_rules
from infra.config import StageConfig
from infra.nag import acknowledge


class Storage(Construct):
    """KMS key (rotating), SSE-KMS documents bucket with every SPEC promise-7 protection."""

    def __init__(self, scope: Construct, id: str, *, config: StageConfig) -> None:
        super().__init__(scope, id)
        removal = RemovalPolicy.RETAIN if config.retain_data else RemovalPolicy.DESTROY
        dev_teardown = not config.retain_data

        self.key = kms.Key(
            self,
            "Key",
            description=f"DocuServe {config.stage}: documents, metadata and queues",
            enable_key_rotation=True,
            removal_policy=removal,
            pending_window=Duration.days(30 if config.retain_data else 7),
        )

        self.log_bucket = s3.Bucket(
            self,
            "AccessLogs",
            # S3 server access logging can only deliver to SSE-S3 buckets.
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
            versioned=True,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="expire-access-logs",
                    expiration=Duration.days(config.limits.audit_days),
                    noncurrent_version_expiration=Duration.days(1),
                )
            ],
            # Retained in every stage: S3 delivers access logs late (minutes to hours), so a log
            # bucket emptied during teardown refills and its deletion fails the whole stack
            # deletion. A destroyed dev stage leaves this bucket behind; its objects expire by the
            # lifecycle rule and the runbook shows how to remove it.
            removal_policy=RemovalPolicy.RETAIN,
        )
        acknowledge(
            self.log_bucket, "AwsSolutions-S1", "This is the access-log bucket; logging it into itself would loop."
        )

        self.bucket = s3.Bucket(
            self,
            "Documents",
            encryption=s3.BucketEncryption.KMS,
            encryption_key=self.key,
            bucket_key_enabled=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            versioned=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            server_access_logs_bucket=self.log_bucket,
            server_access_logs_prefix="documents/",
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="abort-incomplete-multipart",
                    abort_incomplete_multipart_upload_after=Duration.days(1),
                ),
                s3.LifecycleRule(
                    # Bundle ZIPs (docuserve.sharing.archive) are a cache of clean versions: served
                    # for at most ARCHIVE_READY_HOURS, gone a day after they were made.
                    id="expire-bundle-archives",
                    prefix=ARCHIVES_PREFIX,
                    expiration=Duration.days(1),
                    noncurrent_version_expiration=Duration.days(1),
                    abort_incomplete_multipart_upload_after=Duration.days(1),
                ),
                s3.LifecycleRule(
                    # Purge deletes versions explicitly; this sweeps any noncurrent version and
                    # orphaned delete marker left behind, after the trash retention.
                    id="expire-noncurrent",
                    noncurrent_version_expiration=Duration.days(config.limits.trash_days),
                    expired_object_delete_marker=True,
                ),
            ],
            removal_policy=removal,
            auto_delete_objects=dev_teardown,
        )

        # Nothing lands unless encrypted under our key. The IfExists form keeps multipart
        # UploadPart (which carries no SSE headers) working; the default encryption then applies
        # our key, and every presigned PUT signs the SSE-KMS headers anyway.
        self.bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid="DenyWrongEncryption",
                effect=iam.Effect.DENY,
                principals=[iam.AnyPrincipal()],
                actions=["s3:PutObject"],
                resources=[self.bucket.arn_for_objects("*")],
                conditions={"StringNotEqualsIfExists": {"s3:x-amz-server-side-encryption": "aws:kms"}},
            )
        )
        self.bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid="DenyOtherKmsKeys",
                effect=iam.Effect.DENY,
                principals=[iam.AnyPrincipal()],
                actions=["s3:PutObject"],
                resources=[self.bucket.arn_for_objects("*")],
                conditions={
                    "StringNotEqualsIfExists": {"s3:x-amz-server-side-encryption-aws-kms-key-id": self.key.key_arn}
                },
            )
        )

    def allow_browser_uploads(self, origins: Sequence[str]) -> None:
        """Bucket CORS for uploads straight from the browser: these web origins and no other."""
        for rule in bucket_cors_rules(list(origins)):
            if rule["AllowedOrigins"]:
                self.bucket.add_cors_rule(
                    allowed_methods=[s3.HttpMethods(m) for m in rule["AllowedMethods"]],
                    allowed_origins=rule["AllowedOrigins"],
                    allowed_headers=rule["AllowedHeaders"],
                    exposed_headers=rule["ExposeHeaders"],
                    max_age=rule["MaxAgeSeconds"],
                )
