"""Malware scanning that fails closed (SPEC phase 2), for a stage with ``malware_scanning: guardduty``.

- **The scanner.** A GuardDuty Malware Protection plan scans every object version that lands under
  ``documents/`` and tags it ``GuardDutyMalwareScanStatus`` (``NO_THREATS_FOUND``,
  ``THREATS_FOUND``, ``UNSUPPORTED``, ``ACCESS_DENIED``, ``FAILED``). Its role holds what AWS
  documents for a plan, narrowed to this bucket's prefix and key.
- **The results.** GuardDuty's "Object Scan Result" event (default bus) → an EventBridge rule for
  this bucket → the scan-results queue (5 receives, then its dead-letter queue) → the upload-events
  function, which also takes the object-created events and tells the two apart.
- **The gate.** The bucket policy, not the application alone, keeps unscanned bytes from anyone:
  it denies reading a document object unless GuardDuty tagged it clean or an owner released it
  (``DocuServeScanRelease``), to every principal but the roles that must read to verify (upload
  processing) or scan (GuardDuty); only GuardDuty may write its tag; only the members function
  may write the release tag; nobody but GuardDuty may retag an infected object.
- **The timeout.** Every 15 minutes the trash-sweeper function runs the overdue check
  (``{"task": "scan_overdue"}``), which counts versions still unscanned past
  ``scan_timeout_minutes`` as the ``ScansOverdue`` metric; monitoring alarms on it.

Locally (moto has neither GuardDuty nor ``s3:ExistingObjectTag``) a stand-in scanner feeds the
same queue shape, and the application path enforces the gate; this module is what AWS enforces.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_guardduty as guardduty
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_s3 as s3
from constructs import Construct

from docuserve.schema import DOCUMENTS_PREFIX
from infra.events import CHECKSUM_TIMEOUT_SECONDS, queue_pair
from infra.nag import acknowledge

GUARDDUTY_PRINCIPAL = "malware-protection-plan.guardduty.amazonaws.com"
SCAN_STATUS_TAG = "GuardDutyMalwareScanStatus"
CLEAN = "NO_THREATS_FOUND"
INFECTED = "THREATS_FOUND"
# Must equal docuserve.adapters.objects.RELEASE_TAG: the members function writes it when an owner
# releases an unscannable version (tests/infra/test_scanning.py checks they agree).
RELEASE_TAG = "DocuServeScanRelease"
RELEASED = "released"
RESULT_DETAIL_TYPE = "GuardDuty Malware Protection Object Scan Result"
# GuardDuty names the EventBridge rule it manages on the account's default bus with this prefix.
MANAGED_RULE_PREFIX = "DO-NOT-DELETE-AmazonGuardDutyMalwareProtectionS3"
# GuardDuty writes this object at the bucket's root when it validates the plan.
VALIDATION_OBJECT = "malware-protection-resource-validation-object"
OVERDUE_SCHEDULE = events.Schedule.rate(Duration.minutes(15))
OVERDUE_TASK = {"task": "scan_overdue"}

_READS = ["s3:GetObject", "s3:GetObjectVersion"]
_TAG_WRITES = ["s3:PutObjectTagging", "s3:PutObjectVersionTagging"]


class MalwareScanning(Construct):
    """The GuardDuty plan and its role, the bucket's tag gate, the result feed and the overdue check."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        bucket: s3.IBucket,
        key: kms.IKey,
        results_handler: lambda_.Function,
        verifiers: Sequence[lambda_.Function],
        releaser: lambda_.Function,
        overdue_checker: lambda_.Function,
    ) -> None:
        super().__init__(scope, id)
        stack = Stack.of(self)
        documents = bucket.arn_for_objects(f"{DOCUMENTS_PREFIX}*")
        validation_object = bucket.arn_for_objects(VALIDATION_OBJECT)

        # --- the plan and its role (AWS's documented policy, narrowed to this bucket and prefix) --
        self.role = iam.Role(
            self,
            "GuardDutyRole",
            assumed_by=iam.ServicePrincipal(GUARDDUTY_PRINCIPAL),
            description="GuardDuty Malware Protection for S3: scans and tags DocuServe documents",
        )
        managed_rules = stack.format_arn(service="events", resource="rule", resource_name=f"{MANAGED_RULE_PREFIX}*")
        for statement in (
            iam.PolicyStatement(
                sid="AllowManagedRuleToSendS3EventsToGuardDuty",
                actions=["events:PutRule", "events:DeleteRule", "events:PutTargets", "events:RemoveTargets"],
                resources=[managed_rules],
                conditions={"StringLike": {"events:ManagedBy": GUARDDUTY_PRINCIPAL}},
            ),
            iam.PolicyStatement(
                sid="AllowGuardDutyToMonitorEventBridgeManagedRule",
                actions=["events:DescribeRule", "events:ListTargetsByRule"],
                resources=[managed_rules],
            ),
            iam.PolicyStatement(
                sid="AllowPostScanTag",
                actions=[*_TAG_WRITES, "s3:GetObjectTagging", "s3:GetObjectVersionTagging"],
                resources=[documents, validation_object],
            ),
            iam.PolicyStatement(
                sid="AllowEnableS3EventBridgeEvents",
                actions=["s3:PutBucketNotification", "s3:GetBucketNotification"],
                resources=[bucket.bucket_arn],
            ),
            iam.PolicyStatement(
                sid="AllowPutValidationObject", actions=["s3:PutObject"], resources=[validation_object]
            ),
            iam.PolicyStatement(
                sid="AllowCheckBucketOwnership", actions=["s3:ListBucket"], resources=[bucket.bucket_arn]
            ),
            iam.PolicyStatement(sid="AllowMalwareScan", actions=_READS, resources=[documents, validation_object]),
            iam.PolicyStatement(
                sid="AllowDecryptForMalwareScan",
                actions=["kms:GenerateDataKey", "kms:Decrypt"],
                resources=[key.key_arn],
                conditions={"StringLike": {"kms:ViaService": f"s3.{stack.region}.amazonaws.com"}},
            ),
        ):
            self.role.add_to_policy(statement)
        acknowledge(
            self.role,
            f"AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:events:<AWS::Region>:<AWS::AccountId>:rule/{MANAGED_RULE_PREFIX}*]",
            "GuardDuty names the managed rule it creates itself; AWS's documented policy scopes it by this prefix.",
        )
        bucket_token = stack.get_logical_id(bucket.node.default_child)  # type: ignore[arg-type]
        acknowledge(
            self.role,
            f"AwsSolutions-IAM5[Resource::<{bucket_token}.Arn>/documents/*]",
            "GuardDuty scans and tags every new object version under documents/ (the plan's prefix).",
        )

        self.plan = guardduty.CfnMalwareProtectionPlan(
            self,
            "Plan",
            role=self.role.role_arn,
            protected_resource=guardduty.CfnMalwareProtectionPlan.CFNProtectedResourceProperty(
                s3_bucket=guardduty.CfnMalwareProtectionPlan.S3BucketProperty(
                    bucket_name=bucket.bucket_name, object_prefixes=[DOCUMENTS_PREFIX]
                )
            ),
            actions=guardduty.CfnMalwareProtectionPlan.CFNActionsProperty(
                tagging=guardduty.CfnMalwareProtectionPlan.CFNTaggingProperty(status="ENABLED")
            ),
        )
        # GuardDuty validates the role when the plan is created: its policy must exist by then.
        self.plan.node.add_dependency(self.role)

        # --- the gate, in the bucket policy ----------------------------------------------------
        verifier_roles = [_role(fn) for fn in verifiers]
        self.exempt_readers = [*[r.role_arn for r in verifier_roles], self.role.role_arn]
        self.statements = [
            # Both conditions must hold for the deny to apply: a document object that is neither
            # clean (an absent tag counts as not clean) nor released, read by anyone else.
            iam.PolicyStatement(
                sid="DenyReadingUnscannedDocuments",
                effect=iam.Effect.DENY,
                principals=[iam.AnyPrincipal()],
                actions=_READS,
                resources=[documents],
                conditions={
                    "StringNotEquals": {
                        f"s3:ExistingObjectTag/{SCAN_STATUS_TAG}": CLEAN,
                        f"s3:ExistingObjectTag/{RELEASE_TAG}": RELEASED,
                    },
                    "ArnNotEquals": {"aws:PrincipalArn": self.exempt_readers},
                },
            ),
            # Tag keys are matched ignoring case, so no spelling of the key slips through.
            iam.PolicyStatement(
                sid="DenyScanStatusTagExceptByGuardDuty",
                effect=iam.Effect.DENY,
                principals=[iam.AnyPrincipal()],
                actions=[*_TAG_WRITES, "s3:PutObject"],
                resources=[bucket.arn_for_objects("*")],
                conditions={
                    "ForAnyValue:StringEqualsIgnoreCase": {"s3:RequestObjectTagKeys": [SCAN_STATUS_TAG]},
                    "ArnNotEquals": {"aws:PrincipalArn": self.role.role_arn},
                },
            ),
            iam.PolicyStatement(
                sid="DenyReleaseTagExceptByMembers",
                effect=iam.Effect.DENY,
                principals=[iam.AnyPrincipal()],
                actions=[*_TAG_WRITES, "s3:PutObject"],
                resources=[bucket.arn_for_objects("*")],
                conditions={
                    "ForAnyValue:StringEqualsIgnoreCase": {"s3:RequestObjectTagKeys": [RELEASE_TAG]},
                    "ArnNotEquals": {"aws:PrincipalArn": _role(releaser).role_arn},
                },
            ),
            # An infected verdict is final: replacing or deleting its tags would drop the scan tag
            # and let the release tag in. Only GuardDuty (a rescan) may change them.
            iam.PolicyStatement(
                sid="DenyRetaggingInfectedDocuments",
                effect=iam.Effect.DENY,
                principals=[iam.AnyPrincipal()],
                actions=[*_TAG_WRITES, "s3:DeleteObjectTagging", "s3:DeleteObjectVersionTagging"],
                resources=[documents],
                conditions={
                    "StringEquals": {f"s3:ExistingObjectTag/{SCAN_STATUS_TAG}": INFECTED},
                    "ArnNotEquals": {"aws:PrincipalArn": self.role.role_arn},
                },
            ),
        ]
        for statement in self.statements:
            bucket.add_to_resource_policy(statement)

        # An owner's explicit release of an unscannable version (the members function).
        releaser.add_to_role_policy(
            iam.PolicyStatement(sid="ReleaseUnscannableVersions", actions=_TAG_WRITES, resources=[documents])
        )

        # --- the results: rule → queue (DLQ) → upload-events --------------------------------------
        self.queue, self.dead_letters = queue_pair(self, "ScanResults", timeout_seconds=CHECKSUM_TIMEOUT_SECONDS)
        self.rule = events.Rule(
            self,
            "ScanResultRule",
            description="DocuServe: GuardDuty scan results for the documents bucket, to upload processing",
            event_pattern=events.EventPattern(
                source=["aws.guardduty"],
                detail_type=[RESULT_DETAIL_TYPE],
                detail={
                    "s3ObjectDetails": {
                        "bucketName": [bucket.bucket_name],
                        "objectKey": events.Match.prefix(DOCUMENTS_PREFIX),
                    }
                },
            ),
        )
        # A result EventBridge could not deliver lands with the ones processing gave up on.
        self.rule.add_target(targets.SqsQueue(self.queue, dead_letter_queue=self.dead_letters))
        results_handler.add_event_source(
            sources.SqsEventSource(self.queue, batch_size=1, report_batch_item_failures=True)
        )

        # --- the timeout -------------------------------------------------------------------------
        self.overdue = events.Rule(
            self,
            "OverdueCheck",
            description="DocuServe: count versions whose scan result is overdue (alarm ScansOverdue)",
            schedule=OVERDUE_SCHEDULE,
        )
        self.overdue.add_target(
            targets.LambdaFunction(
                overdue_checker,
                event=events.RuleTargetInput.from_object(OVERDUE_TASK),
                retry_attempts=2,
                max_event_age=Duration.minutes(15),  # the next run is due by then
            )
        )


def _role(fn: lambda_.Function) -> iam.IRole:
    if fn.role is None:
        raise ValueError(f"function {fn.node.id} has no role")
    return fn.role
