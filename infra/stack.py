"""The DocuServe stack: a thin wiring of one construct per capability."""

from __future__ import annotations

from typing import Any

import jsii
from aws_cdk import Aspects, CfnOutput, IAspect, RemovalPolicy, Stack, Tags
from aws_cdk import aws_logs as logs
from constructs import Construct, IConstruct

from docuserve.routes import Function
from infra.api import Api
from infra.audit_checkpoints import AuditCheckpoints
from infra.audit_stream import AuditStream
from infra.config import StageConfig
from infra.data import Data
from infra.events import UploadEvents
from infra.functions import (
    AUDIT_CHECKPOINTS,
    AUDIT_STREAM,
    MANIFEST_SIGNERS,
    TRASH_SWEEPER,
    UPLOAD_EVENTS,
    UPLOAD_JOBS,
    Functions,
)
from infra.identity import Identity
from infra.mail import Mail
from infra.monitoring import Monitoring, Watched
from infra.nag import acknowledge
from infra.retention import TrashRetention
from infra.scanning import MalwareScanning
from infra.signing import SigningKeys
from infra.storage import Storage
from infra.waf import ApiFirewall
from infra.web import Web

# The functions that send mail (SPEC phase 2): links to recipients and codes (members; public and
# partner_uploads, a share link's and an upload request's recipient codes), "files arrived" and "a
# threat was found" (upload events), "your link was downloaded" (the audit-stream function, after
# it appends the download event), the trash sweeper.
MAIL_SENDERS = (
    Function.MEMBERS.value,
    Function.PUBLIC.value,
    Function.PARTNER_UPLOADS.value,
    UPLOAD_EVENTS,
    TRASH_SWEEPER,
    AUDIT_STREAM,
)


@jsii.implements(IAspect)
class StageLogRetention:
    """Every log group follows the stage: CDK's own helper functions (bucket deployment, bucket
    notifications) otherwise get two years and survive a dev teardown."""

    def __init__(self, config: StageConfig) -> None:
        self.days = config.log_retention_days
        self.removal = RemovalPolicy.RETAIN if config.retain_data else RemovalPolicy.DESTROY

    def visit(self, node: IConstruct) -> None:
        if isinstance(node, logs.CfnLogGroup):
            node.retention_in_days = self.days
            node.apply_removal_policy(self.removal)


class DocuServeStack(Stack):
    def __init__(self, scope: Construct, id: str, *, config: StageConfig, **kwargs: Any) -> None:
        super().__init__(scope, id, **kwargs)
        Tags.of(self).add("app", "docuserve")
        Tags.of(self).add("stage", config.stage)
        self.config = config
        Aspects.of(self).add(StageLogRetention(config))

        self.storage = Storage(self, "Storage", config=config)
        self.data = Data(self, "Data", config=config, key=self.storage.key)
        self.identity = Identity(self, "Identity", config=config)
        # The web app's origin (custom domain or CloudFront) is where share links point and the
        # only origin, besides configured web_origins, that may upload to the documents bucket.
        self.web = Web(self, "Web", config=config, log_bucket=self.storage.log_bucket)
        web_origins = [self.web.origin, *config.web_origins]
        self.storage.allow_browser_uploads(web_origins)
        self.functions = Functions(
            self,
            "Functions",
            config=config,
            table=self.data.table,
            bucket=self.storage.bucket,
            key=self.storage.key,
            user_pool=self.identity.user_pool,
            user_pool_client=self.identity.client,
            web_origin=self.web.origin,
            cors_origins=web_origins,
        )
        self.api = Api(
            self,
            "Api",
            config=config,
            functions=self.functions,
            user_pool=self.identity.user_pool,
            allowed_origins=web_origins,
        )
        self.web.publish(
            api_url=self.api.url,
            api_origin=f"https://{self.api.rest_api.rest_api_id}.execute-api.{self.region}.{self.url_suffix}",
            region=self.region,
            user_pool_id=self.identity.user_pool.user_pool_id,
            client_id=self.identity.client.user_pool_client_id,
        )
        if config.waf:
            ApiFirewall(self, "Firewall", config=config, stage=self.api.rest_api.deployment_stage)
        self.upload_events = UploadEvents(
            self,
            "UploadEvents",
            bucket=self.storage.bucket,
            handler=self.functions[UPLOAD_EVENTS],
            jobs_handler=self.functions[UPLOAD_JOBS],
            job_senders=[
                self.functions[Function.MEMBERS.value],
                self.functions[UPLOAD_EVENTS],
                self.functions[Function.PUBLIC.value],  # a bundle's 'download all' (the archive job)
                self.functions[Function.PARTNER_UPLOADS.value],  # a partner's multipart completion
            ],
            max_document_size=config.limits.max_document_size,
        )
        self.audit_stream = AuditStream(
            self, "AuditStream", table=self.data.table, handler=self.functions[AUDIT_STREAM]
        )
        self.trash_retention = TrashRetention(self, "TrashRetention", handler=self.functions[TRASH_SWEEPER])
        self.audit_checkpoints = AuditCheckpoints(self, "AuditCheckpoints", handler=self.functions[AUDIT_CHECKPOINTS])
        # Manifests and checkpoints are signed with the stage's key; partners read its public keys.
        self.signing = SigningKeys(self, "Signing", config=config)
        for name in (*MANIFEST_SIGNERS, AUDIT_CHECKPOINTS):
            self.signing.allow_signing(self.functions[name])
        self.signing.allow_listing(self.functions[Function.PUBLIC.value])
        self.scanning: MalwareScanning | None = None
        if config.scanning:
            self.scanning = MalwareScanning(
                self,
                "MalwareScanning",
                bucket=self.storage.bucket,
                key=self.storage.key,
                results_handler=self.functions[UPLOAD_EVENTS],
                verifiers=[self.functions[UPLOAD_EVENTS], self.functions[UPLOAD_JOBS]],
                releaser=self.functions[Function.MEMBERS.value],
                overdue_checker=self.functions[TRASH_SWEEPER],
            )

        self.monitoring = Monitoring(
            self,
            "Monitoring",
            config=config,
            watched=Watched(
                stage=self.api.rest_api.deployment_stage,
                functions=self.functions.by_name,
                table=self.data.table,
                upload_queue=self.upload_events.queue,
                dead_letters=self.upload_events.dead_letters,
                job_dead_letters=self.upload_events.job_dead_letters,
                audit_failures=self.audit_stream.failures,
                scan_dead_letters=self.scanning.dead_letters if self.scanning else None,
            ),
        )
        self.mail: Mail | None = None
        if config.mail_from:
            self.mail = Mail(
                self,
                "Mail",
                config=config,
                alarm_topic=self.monitoring.topic,
                alarm_key=self.monitoring.key,
                senders=[self.functions[name] for name in MAIL_SENDERS],
            )

        for child in self.node.children:
            if child.node.id.startswith("BucketNotificationsHandler"):
                acknowledge(
                    child,
                    "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
                    "CDK's bucket-notification custom resource; the managed policy only writes its logs.",
                )

        # Everything the web app's config.json needs.
        CfnOutput(self, "ApiUrl", value=self.api.url)
        CfnOutput(self, "Region", value=self.region)
        CfnOutput(self, "UserPoolId", value=self.identity.user_pool.user_pool_id)
        CfnOutput(self, "UserPoolClientId", value=self.identity.client.user_pool_client_id)
        CfnOutput(self, "DocumentsBucket", value=self.storage.bucket.bucket_name)
        CfnOutput(self, "Table", value=self.data.table.table_name)
        CfnOutput(self, "WebUrl", value=self.web.origin)
        # Retained when the stack is destroyed (late access logs would block its deletion); the
        # runbook removes it by this name once the last logs have landed.
        CfnOutput(self, "AccessLogBucket", value=self.storage.log_bucket.bucket_name)
