"""Lambda functions, split by privilege, packaged without Docker.

Every function runs the same ``functions/`` asset (thin handler modules) on top of two layers:
the AWS-managed Powertools layer (third-party dependencies, Pydantic included) and the domain
layer (``layers/domain``). Both assets carry bytecode compiled for the runtime's Python
(``infra/bytecode.py``), so a cold start does not compile our modules. Each function's role holds
exactly what its routes need.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from aws_cdk import Duration, Fn, RemovalPolicy, Stack
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from docuserve import keys
from docuserve.routes import Function
from docuserve.schema import ARCHIVES_PREFIX
from docuserve.settings import function_environment
from infra.bytecode import code_with_bytecode
from infra.config import StageConfig
from infra.mail import configuration_set_name
from infra.nag import acknowledge
from infra.vendor import vendor_code

ROOT = Path(__file__).resolve().parent.parent
# Must equal the aws-lambda-powertools pin in pyproject.toml: the managed layer of that version
# is resolved at deploy time from its public SSM parameter.
POWERTOOLS_VERSION = "3.37.0"
POWERTOOLS_LAYER_PARAMETER = f"/aws/service/powertools/python/arm64/python3.13/{POWERTOOLS_VERSION}"

UPLOAD_EVENTS = "upload_events"  # not an API function: it consumes S3 events
UPLOAD_JOBS = "upload_jobs"  # not an API function: multipart completion and full hashing (SQS)
AUDIT_STREAM = "audit_stream"  # not an API function: it consumes the table's stream
TRASH_SWEEPER = "trash_sweeper"  # not an API function: EventBridge runs it daily
AUDIT_CHECKPOINTS = "audit_checkpoints"  # not an API function: EventBridge runs it every 15 minutes

# The functions that sign delivery manifests (docuserve.custody.manifest): they create or edit links,
# or refresh links after a document changes (a new version lands, a rename, a trash, a purge).
MANIFEST_SIGNERS = (Function.MEMBERS.value, UPLOAD_EVENTS, UPLOAD_JOBS, TRASH_SWEEPER)
VENDORED_FOR = (UPLOAD_JOBS, *MANIFEST_SIGNERS)


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    handler: str
    description: str
    memory_mb: int = 512
    timeout_seconds: int = 15


SPECS: tuple[FunctionSpec, ...] = (
    FunctionSpec(Function.SYSTEM.value, "handlers.system.handler", "Health, OpenAPI document, caller identity", 256),
    FunctionSpec(Function.MEMBERS.value, "handlers.members.handler", "Workspaces, documents, uploads, shares, audit"),
    FunctionSpec(Function.ADMIN.value, "handlers.admin.handler", "Cognito user administration for admins"),
    # 1024 MB: CPU scales with memory, and a password check is ~0.1 s of scrypt at OWASP cost.
    FunctionSpec(Function.PUBLIC.value, "handlers.public.handler", "Partner share-link pages and redemption", 1024),
    # Upload-request links take the same passwords (scrypt) as share links: the same memory.
    FunctionSpec(
        Function.PARTNER_UPLOADS.value,
        "handlers.partner_uploads.handler",
        "Partner upload-request pages and uploads",
        1024,
    ),
    FunctionSpec(UPLOAD_EVENTS, "handlers.upload_events.handler", "Verifies landed uploads (S3 events)", 512, 60),
    # 1,769 MB is one full vCPU: hashing an object runs at the read rate, not the CPU's.
    FunctionSpec(UPLOAD_JOBS, "handlers.upload_jobs.handler", "Completes multipart uploads; hashes them", 1769, 900),
    FunctionSpec(AUDIT_STREAM, "handlers.audit_stream.handler", "Appends link audit events (table stream)", 256, 60),
    FunctionSpec(TRASH_SWEEPER, "handlers.trash_sweeper.handler", "Purges documents trashed > trash_days", 512, 900),
    FunctionSpec(
        AUDIT_CHECKPOINTS, "handlers.audit_checkpoints.handler", "Signs the audit chain heads that moved", 256, 300
    ),
)


def _grant_items(fn: lambda_.Function, table: dynamodb.ITable, key: kms.IKey, sid: str, prefix: str,
                 *actions: str, prefixes: tuple[str, ...] = ()) -> None:  # fmt: skip
    """``actions`` on the table's items whose partition key starts with ``prefix`` (or one of
    ``prefixes``) only (no indexes)."""
    fn.add_to_role_policy(
        iam.PolicyStatement(
            sid=sid,
            actions=list(actions),
            resources=[table.table_arn],
            conditions={"ForAllValues:StringLike": {"dynamodb:LeadingKeys": [f"{p}*" for p in (prefix, *prefixes)]}},
        )
    )
    key.grant(fn, "kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey")


def _grant_table(fn: lambda_.Function, table: dynamodb.ITable, key: kms.IKey, *actions: str) -> None:
    """Exactly ``actions`` on the table and its indexes, plus the key use DynamoDB SSE-KMS needs."""
    fn.add_to_role_policy(
        iam.PolicyStatement(actions=list(actions), resources=[table.table_arn, f"{table.table_arn}/index/*"])
    )
    key.grant(fn, "kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey")


class Functions(Construct):
    """Creates one function per spec and grants each exactly its privileges."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: StageConfig,
        table: dynamodb.ITable,
        bucket: s3.IBucket,
        key: kms.IKey,
        user_pool: cognito.IUserPool,
        user_pool_client: cognito.IUserPoolClient,
        web_origin: str,
        cors_origins: list[str],
    ) -> None:
        super().__init__(scope, id)
        powertools = lambda_.LayerVersion.from_layer_version_arn(
            self, "Powertools", ssm.StringParameter.value_for_string_parameter(self, POWERTOOLS_LAYER_PARAMETER)
        )
        domain = lambda_.LayerVersion(
            self,
            "DomainLayer",
            code=code_with_bytecode(ROOT / "layers" / "domain", "/opt"),
            compatible_runtimes=[lambda_.Runtime.PYTHON_3_13],
            compatible_architectures=[lambda_.Architecture.ARM_64],
            description="DocuServe domain package (models, rules, adapters)",
        )
        # zipstream-ng for bundle archives (the upload-jobs function's archive job) and rfc8785 for
        # the functions that sign delivery manifests (MANIFEST_SIGNERS); no other function gets it.
        vendored = lambda_.LayerVersion(
            self,
            "VendorLayer",
            code=vendor_code(),
            compatible_runtimes=[lambda_.Runtime.PYTHON_3_13],
            compatible_architectures=[lambda_.Architecture.ARM_64],
            description="Pure-Python third-party packages Powertools lacks (zipstream-ng, rfc8785)",
        )
        code = code_with_bytecode(ROOT / "functions", "/var/task")
        environment = function_environment(
            stage=config.stage,
            table_name=table.table_name,
            bucket_name=bucket.bucket_name,
            kms_key_arn=key.key_arn,
            user_pool_id=user_pool.user_pool_id,
            user_pool_client_id=user_pool_client.user_pool_client_id,
            web_origin=web_origin,
            cors_origins=Fn.join(",", cors_origins),
            limits=config.limits,
            malware_scanning=config.scanning,
            scan_timeout_minutes=config.scan_timeout_minutes,
            mail_from=config.mail_from or "",
            mail_configuration_set=configuration_set_name(config),
            default_quota_bytes=config.default_quota_bytes,
        )
        self.by_name: dict[str, lambda_.Function] = {}
        for spec in SPECS:
            log_group = logs.LogGroup(
                self,
                f"{spec.name}-logs",
                retention=config.log_retention,
                removal_policy=RemovalPolicy.RETAIN if config.retain_data else RemovalPolicy.DESTROY,
            )
            fn = lambda_.Function(
                self,
                spec.name,
                description=f"DocuServe {config.stage}: {spec.description}",
                runtime=lambda_.Runtime.PYTHON_3_13,
                architecture=lambda_.Architecture.ARM_64,
                handler=spec.handler,
                code=code,
                layers=[powertools, domain, vendored] if spec.name in VENDORED_FOR else [powertools, domain],
                memory_size=spec.memory_mb,
                timeout=Duration.seconds(spec.timeout_seconds),
                tracing=lambda_.Tracing.ACTIVE,
                logging_format=lambda_.LoggingFormat.JSON,
                log_group=log_group,
                environment={**environment, "POWERTOOLS_SERVICE_NAME": f"docuserve-{spec.name}"},
            )
            self.by_name[spec.name] = fn

        self._grant(table=table, bucket=bucket, key=key, user_pool=user_pool)
        self._table_token = Stack.of(self).get_logical_id(table.node.default_child)  # type: ignore[arg-type]
        self._bucket_token = Stack.of(self).get_logical_id(bucket.node.default_child)  # type: ignore[arg-type]
        self._acknowledge()

    def __getitem__(self, name: str) -> lambda_.Function:
        return self.by_name[name]

    def _grant(
        self, *, table: dynamodb.ITable, bucket: s3.IBucket, key: kms.IKey, user_pool: cognito.IUserPool
    ) -> None:
        objects = bucket.arn_for_objects("documents/*")
        members = self[Function.MEMBERS.value]
        table.grant_read_write_data(members)
        members.add_to_role_policy(
            iam.PolicyStatement(
                sid="PresignAndManageDocumentObjects",
                actions=[
                    "s3:PutObject",
                    "s3:GetObject",
                    "s3:GetObjectVersion",
                    "s3:AbortMultipartUpload",
                    "s3:ListMultipartUploadParts",
                    "s3:DeleteObject",
                    "s3:DeleteObjectVersion",
                ],
                resources=[objects],
            )
        )
        members.add_to_role_policy(
            iam.PolicyStatement(
                sid="ListVersionsForPurge", actions=["s3:ListBucketVersions"], resources=[bucket.bucket_arn]
            )
        )
        # Presigned URLs act with the signer's rights, so it needs the key for SSE-KMS reads and writes.
        key.grant(members, "kms:GenerateDataKey", "kms:Decrypt")
        # Adding a member by email looks the user up in the pool.
        members.add_to_role_policy(
            iam.PolicyStatement(
                sid="FindUsersByEmail", actions=["cognito-idp:ListUsers"], resources=[user_pool.user_pool_arn]
            )
        )

        admin = self[Function.ADMIN.value]
        # Audit events for user administration: append and read, never update or delete.
        _grant_table(admin, table, key, "dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:Query")
        # A workspace's quota (PATCH /admin/workspaces/{id}): updates in workspace partitions only.
        _grant_items(admin, table, key, "SetWorkspaceQuotas", keys.workspace_pk(""), "dynamodb:UpdateItem")
        admin.add_to_role_policy(
            iam.PolicyStatement(
                sid="AdministerUsers",
                actions=[
                    "cognito-idp:AdminCreateUser",
                    "cognito-idp:AdminDisableUser",
                    "cognito-idp:AdminEnableUser",
                    "cognito-idp:AdminGetUser",
                    "cognito-idp:AdminListGroupsForUser",
                    "cognito-idp:AdminUserGlobalSignOut",
                    "cognito-idp:ListUsers",
                ],
                resources=[user_pool.user_pool_arn],
            )
        )

        # /me, like every signed-in route, refuses a disabled account: read its status item only.
        _grant_items(self[Function.SYSTEM.value], table, key, "ReadAccountStatusOnly", "ACCOUNT#", "dynamodb:GetItem")

        public = self[Function.PUBLIC.value]
        # Link items only: read one, and count downloads and failures with conditional updates (the
        # audit event rides in the same write; the audit-stream function appends it). No queries,
        # puts or deletes, and no other item: a token can never reach a workspace or a document.
        _grant_items(
            public, table, key, "ShareLinkItemsOnly", keys.LINK_PREFIX, "dynamodb:GetItem", "dynamodb:UpdateItem"
        )
        # Read-only: it mints presigned GETs and can never write, delete or list objects.
        public.add_to_role_policy(
            iam.PolicyStatement(
                sid="PresignDownloads", actions=["s3:GetObject", "s3:GetObjectVersion"], resources=[objects]
            )
        )
        key.grant(public, "kms:Decrypt")
        # A bundle's 'download all': presigned GETs of its ZIP (``docuserve.sharing.bundles``).
        public.add_to_role_policy(
            iam.PolicyStatement(
                sid="PresignBundleArchives",
                actions=["s3:GetObject", "s3:GetObjectVersion"],
                resources=[bucket.arn_for_objects(f"{ARCHIVES_PREFIX}*")],
            )
        )

        partner_uploads = self[Function.PARTNER_UPLOADS.value]
        # Upload requests (``docuserve.upload_requests.public``), apart from the share page so that
        # the function every share link hits holds no write: a partner's upload is the same
        # items as a member's, written in one transaction (document and version, session, the
        # workspace's counters and the uploader's role check, the request's budget), reads the
        # request with the deployment's switch (one BatchGetItem) and the partner's own sessions,
        # and a cancel or an expiry discards a never-landed document (a Delete conditioned on it
        # still being pending) with its audit event. Recipient codes and the request's lockout are
        # updates of items in the request's LINK# partition. Items by partition prefix only: no
        # Query, Scan or BatchWriteItem, and no membership, account, folder or preference item.
        _grant_items(
            partner_uploads,
            table,
            key,
            "PartnerUploadReads",
            keys.LINK_PREFIX,
            "dynamodb:BatchGetItem",
            "dynamodb:GetItem",
            prefixes=(keys.SETTINGS_PREFIX, keys.UPLOAD_PREFIX, keys.DOCUMENT_PREFIX, keys.WORKSPACE_PREFIX),
        )
        _grant_items(
            partner_uploads,
            table,
            key,
            "PartnerUploadWrites",
            keys.DOCUMENT_PREFIX,
            "dynamodb:PutItem",
            "dynamodb:UpdateItem",
            "dynamodb:DeleteItem",
            "dynamodb:ConditionCheckItem",
            prefixes=(keys.UPLOAD_PREFIX, keys.WORKSPACE_PREFIX, keys.AUDIT_PREFIX, keys.LINK_PREFIX),
        )
        # Presigned PUTs and multipart parts act with the signer's rights: write (never read back,
        # delete or list) under documents/, and the key for SSE-KMS (a part's upload decrypts the
        # multipart upload's data key).
        partner_uploads.add_to_role_policy(
            iam.PolicyStatement(
                sid="PresignPartnerUploads",
                actions=["s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"],
                resources=[objects],
            )
        )
        key.grant(partner_uploads, "kms:GenerateDataKey", "kms:Decrypt")

        audit_stream = self[AUDIT_STREAM]
        # Append-only: it puts audit items (conditionally new) and reads nothing but its stream,
        # whose read grant comes with the event source (``infra/audit_stream.py``).
        _grant_items(audit_stream, table, key, "AppendAuditEventsOnly", keys.AUDIT_PREFIX, "dynamodb:PutItem")
        # "Your link was downloaded": claim the hourly mail on the link item (one conditional
        # update, docuserve.notify) and read its creator's preferences; nothing else.
        _grant_items(audit_stream, table, key, "ClaimDownloadMail", keys.LINK_PREFIX, "dynamodb:UpdateItem")
        _grant_items(audit_stream, table, key, "ReadNotificationPreferences", keys.NOTIFY_PREFIX, "dynamodb:GetItem")
        # Upload requests' due "files arrived" mails (docuserve.upload_requests.arrivals.send_due): find
        # the markers on the sparse gsi4 (one Query, no Scan); the claim and the marker's own writes are
        # UpdateItem on LINK# items, granted above (never a Put or Delete there: share links live there).
        audit_stream.add_to_role_policy(
            iam.PolicyStatement(
                sid="FindDueArrivalMails", actions=["dynamodb:Query"], resources=[f"{table.table_arn}/index/gsi4"]
            )
        )
        # The audit chain (docuserve.audit_chain): read a workspace's head and marker, and append in
        # one transaction (head update, new link, new marker); nothing outside CHAIN# partitions.
        _grant_items(
            audit_stream,
            table,
            key,
            "AppendToAuditChains",
            keys.CHAIN_PREFIX,
            "dynamodb:GetItem",
            "dynamodb:PutItem",
            "dynamodb:UpdateItem",
        )

        checkpoints = self[AUDIT_CHECKPOINTS]
        # docuserve.audit_checkpoints: find the heads that moved on the sparse gsi4 (one Query, no
        # Scan), read each head, put its checkpoint and clear its gsi4 keys; nothing outside CHAIN#.
        checkpoints.add_to_role_policy(
            iam.PolicyStatement(
                sid="FindUnsignedChainHeads", actions=["dynamodb:Query"], resources=[f"{table.table_arn}/index/gsi4"]
            )
        )
        _grant_items(
            checkpoints,
            table,
            key,
            "SignChainHeads",
            keys.CHAIN_PREFIX,
            "dynamodb:GetItem",
            "dynamodb:PutItem",
            "dynamodb:UpdateItem",
        )

        events = self[UPLOAD_EVENTS]
        table.grant_read_write_data(events)
        events.add_to_role_policy(
            iam.PolicyStatement(
                sid="VerifyLandedObjects",
                actions=[
                    "s3:GetObject",
                    "s3:GetObjectVersion",
                    "s3:GetObjectAttributes",
                    "s3:GetObjectVersionAttributes",
                    "s3:DeleteObject",
                    "s3:DeleteObjectVersion",
                ],
                resources=[objects],
            )
        )
        key.grant(events, "kms:Decrypt")
        # "A threat was found" goes to the workspace's owners and the deployment's admins.
        events.add_to_role_policy(
            iam.PolicyStatement(
                sid="FindAdminsToWarn", actions=["cognito-idp:ListUsersInGroup"], resources=[user_pool.user_pool_arn]
            )
        )

        upload_jobs = self[UPLOAD_JOBS]
        table.grant_read_write_data(upload_jobs)
        # One statement per job, each exactly the S3 calls it makes (docuserve.uploads.assemble,
        # docuserve.processing.handle_hash_job); neither lists, copies or reads another prefix.
        upload_jobs.add_to_role_policy(
            iam.PolicyStatement(
                sid="AssembleMultipartUploads",
                actions=[
                    "s3:PutObject",  # CompleteMultipartUpload
                    "s3:AbortMultipartUpload",  # S3 refused the parts: they are dropped
                    "s3:GetObject",  # HeadObject: was it assembled by an earlier delivery?
                ],
                resources=[objects],
            )
        )
        upload_jobs.add_to_role_policy(
            iam.PolicyStatement(
                sid="HashLandedObjects",
                actions=[
                    "s3:GetObject",  # HeadObject, then one GetObject read of the bytes
                    "s3:GetObjectVersion",  # the same, of the version that landed
                    "s3:DeleteObject",  # a rejected or orphaned object
                    "s3:DeleteObjectVersion",
                ],
                resources=[objects],
            )
        )
        # Bundle archives (docuserve.sharing.archive): read the shared versions under documents/
        # (above), write the ZIP by multipart upload under archives/ only, and look for one an
        # earlier delivery made. No delete: the bucket's lifecycle rule expires archives.
        upload_jobs.add_to_role_policy(
            iam.PolicyStatement(
                sid="BuildBundleArchives",
                actions=[
                    "s3:PutObject",  # CreateMultipartUpload, UploadPart, CompleteMultipartUpload
                    "s3:AbortMultipartUpload",  # a failed delivery drops its parts
                    "s3:GetObject",  # HeadObject: did an earlier delivery finish it?
                ],
                resources=[bucket.arn_for_objects(f"{ARCHIVES_PREFIX}*")],
            )
        )
        # Completing an SSE-KMS multipart upload decrypts the parts' data keys; hashing reads.
        key.grant(upload_jobs, "kms:Decrypt", "kms:GenerateDataKey")

        sweeper = self[TRASH_SWEEPER]
        # What purge needs and nothing more: query the trash index and a document's items, read
        # upload sessions, delete the document's items, count the workspace down, append the audit
        # event, refresh the document's links. No Scan, no BatchWriteItem.
        _grant_table(
            sweeper,
            table,
            key,
            "dynamodb:GetItem",
            "dynamodb:Query",
            "dynamodb:PutItem",
            "dynamodb:UpdateItem",
            "dynamodb:DeleteItem",
        )
        # Delete every version and delete marker under documents/ (and abort unfinished multipart
        # uploads); it can never write or read an object's bytes.
        sweeper.add_to_role_policy(
            iam.PolicyStatement(
                sid="DeleteExpiredDocumentObjects",
                actions=["s3:DeleteObject", "s3:DeleteObjectVersion", "s3:AbortMultipartUpload"],
                resources=[objects],
            )
        )
        sweeper.add_to_role_policy(
            iam.PolicyStatement(
                sid="ListVersionsForPurge",
                actions=["s3:ListBucketVersions"],
                resources=[bucket.bucket_arn],
                conditions={"StringLike": {"s3:prefix": ["documents/*"]}},
            )
        )

    def _acknowledge(self) -> None:
        for fn in self.by_name.values():
            for rule, reason in (
                (
                    "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
                    "Lambda's basic execution policy only writes the function's own CloudWatch logs.",
                ),
                (
                    "AwsSolutions-IAM5[Resource::*]",
                    "X-Ray PutTraceSegments/PutTelemetryRecords support no resource-level permissions.",
                ),
                (
                    f"AwsSolutions-IAM5[Resource::<{self._table_token}.Arn>/index/*]",
                    "Queries run on the table's own GSIs (listing without Scan); scoped to this table.",
                ),
                (
                    "AwsSolutions-IAM5[Action::kms:ReEncrypt*]",
                    "CDK's table grant for the customer-managed table key; scoped to this one key.",
                ),
                (
                    "AwsSolutions-IAM5[Action::kms:GenerateDataKey*]",
                    "SSE-KMS data keys for the table and objects; scoped to this one key.",
                ),
                (
                    f"AwsSolutions-IAM5[Resource::<{self._bucket_token}.Arn>/documents/*]",
                    "Object keys are server-generated ids under documents/; access is per object via presigning.",
                ),
                (
                    f"AwsSolutions-IAM5[Resource::<{self._bucket_token}.Arn>/{ARCHIVES_PREFIX}*]",
                    "Bundle ZIPs are server-named (archives/{share}/{fingerprint}.zip): built by the job, presigned.",
                ),
            ):
                acknowledge(fn, rule, reason)
        acknowledge(
            self,
            "AwsSolutions-L1",
            "Python 3.13 on purpose: CI runs the unit and integration tiers on 3.13 (runtime parity); "
            "Powertools also publishes a 3.14 layer, and moving is a pin change plus a 3.14 parity tier.",
        )
