"""Monitoring: one CloudWatch dashboard and the alarms an operator is paged for.

Alarms go to one SNS topic (encrypted with its own KMS key, TLS only) with an optional email
subscription from ``cdk.json`` (``alarm_email``). Business metrics come from the functions through
Powertools (namespace ``DocuServe``); Powertools adds a ``service`` dimension naming the emitting
function, so the dashboard sums each metric over every ``service`` with a SEARCH expression and
keeps working whichever function emits it.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import CfnOutput, Duration, RemovalPolicy, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from docuserve.observability import BusinessMetric
from infra.config import StageConfig

NAMESPACE = "DocuServe"
PERIOD = Duration.minutes(5)
# How long an object-created event may wait before processing counts as stuck (the queue's
# visibility timeout is 30 minutes, so a healthy retry cycle stays well under an hour).
QUEUE_AGE_ALARM_SECONDS = 3600
# The overdue-scan check runs every 15 minutes (infra/scanning.py) and emits this metric without
# dimensions (one deployment-wide count), so the alarm reads it as emitted.
SCANS_OVERDUE = "ScansOverdue"
# The scan verdicts upload processing counts (docuserve.observability.BusinessMetric; the dashboard
# test checks every business metric is graphed under its name).
UPLOADS_INFECTED = "UploadsInfected"
UPLOADS_UNSCANNABLE = "UploadsUnscannable"
OVERDUE_PERIOD = Duration.minutes(15)


def business_metric(name: str, label: str) -> cloudwatch.MathExpression:
    """Sum of one Powertools business metric over every function (``service``) that emits it."""
    return cloudwatch.MathExpression(
        expression=f"SUM(SEARCH('{{{NAMESPACE},service}} MetricName=\"{name}\"', 'Sum', {PERIOD.to_seconds()}))",
        using_metrics={},
        label=label,
        period=PERIOD,
    )


@dataclass(frozen=True)
class Watched:
    """What the monitoring reads: the API stage, the functions, the table and the upload queues."""

    stage: apigw.Stage
    functions: dict[str, lambda_.Function]
    table: dynamodb.ITable
    upload_queue: sqs.IQueue
    dead_letters: sqs.IQueue
    audit_failures: sqs.IQueue | None = None
    job_dead_letters: sqs.IQueue | None = None  # upload jobs (completion, hashing) that failed 5 times
    # Malware scanning (a stage with malware_scanning: guardduty): results that failed 5 times.
    scan_dead_letters: sqs.IQueue | None = None


class Monitoring(Construct):
    def __init__(self, scope: Construct, id: str, *, config: StageConfig, watched: Watched) -> None:
        super().__init__(scope, id)
        stack = Stack.of(self)
        removal = RemovalPolicy.RETAIN if config.retain_data else RemovalPolicy.DESTROY

        # CloudWatch cannot use the AWS-managed SNS key, and granting the documents key to the
        # CloudWatch service would widen who can use it; so the alarm topic gets its own key.
        self.key = kms.Key(
            self,
            "AlarmKey",
            description=f"DocuServe {config.stage}: alarm notifications",
            enable_key_rotation=True,
            removal_policy=removal,
            pending_window=Duration.days(30 if config.retain_data else 7),
        )
        cloudwatch_service = iam.ServicePrincipal("cloudwatch.amazonaws.com")
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudWatchAlarmsEncryptNotifications",
                principals=[cloudwatch_service],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],
            )
        )
        self.topic = sns.Topic(
            self,
            "Alarms",
            display_name=f"DocuServe {config.stage} alarms",
            master_key=self.key,
            enforce_ssl=True,
        )
        # The topic has a resource policy (TLS), which replaces SNS's default one: let this
        # account's alarms publish, and nobody else's.
        self.topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudWatchAlarmsOfThisAccount",
                principals=[cloudwatch_service],
                actions=["sns:Publish"],
                resources=[self.topic.topic_arn],
                conditions={
                    "ArnLike": {"aws:SourceArn": stack.format_arn(service="cloudwatch", resource="alarm:*")},
                    "StringEquals": {"aws:SourceAccount": stack.account},
                },
            )
        )
        if config.alarm_email:
            self.topic.add_subscription(subscriptions.EmailSubscription(config.alarm_email))

        self.alarms: dict[str, cloudwatch.Alarm] = {}
        self._stage = config.stage
        self._alarms(config, watched)
        self.dashboard = self._dashboard(config, watched)

        # Plain output names: docs/operations.md tells operators to look them up by these names.
        outputs = [
            ("AlarmTopicArn", self.topic.topic_arn),
            ("DashboardName", self.dashboard.dashboard_name),
            ("UploadDeadLetterQueueUrl", watched.dead_letters.queue_url),
            ("UploadDeadLetterQueueArn", watched.dead_letters.queue_arn),
        ]
        if watched.job_dead_letters is not None:
            outputs += [
                ("UploadJobDeadLetterQueueUrl", watched.job_dead_letters.queue_url),
                ("UploadJobDeadLetterQueueArn", watched.job_dead_letters.queue_arn),
            ]
        if watched.scan_dead_letters is not None:
            outputs += [
                ("ScanResultDeadLetterQueueUrl", watched.scan_dead_letters.queue_url),
                ("ScanResultDeadLetterQueueArn", watched.scan_dead_letters.queue_arn),
            ]
        for name, value in outputs:
            CfnOutput(self, name, value=value).override_logical_id(name)

    def _alarm(self, name: str, metric: cloudwatch.Metric, description: str, threshold: float = 1) -> None:
        alarm = metric.create_alarm(
            self,
            name,
            alarm_name=f"docuserve-{self._stage}-{name}",
            alarm_description=description,
            threshold=threshold,
            evaluation_periods=1,
            datapoints_to_alarm=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        alarm.add_alarm_action(actions.SnsAction(self.topic))
        alarm.add_ok_action(actions.SnsAction(self.topic))
        self.alarms[name] = alarm

    def _alarms(self, config: StageConfig, watched: Watched) -> None:
        prefix = f"DocuServe {config.stage}"
        self._alarm(
            "api-5xx",
            watched.stage.metric_server_error(period=PERIOD, statistic="Sum"),
            f"{prefix}: the API answered 5xx. Bad input never does (SPEC), so this is a bug or an outage; "
            "see docs/operations.md, 'Alarms'.",
        )
        for name, fn in sorted(watched.functions.items()):
            self._alarm(
                f"{name}-errors",
                fn.metric_errors(period=PERIOD, statistic="Sum"),
                f"{prefix}: function '{name}' failed (unhandled error or timeout); read its log group.",
            )
            self._alarm(
                f"{name}-throttles",
                fn.metric_throttles(period=PERIOD, statistic="Sum"),
                f"{prefix}: function '{name}' was throttled (account concurrency exhausted).",
            )
        self._alarm(
            "upload-dead-letters",
            watched.dead_letters.metric_approximate_number_of_messages_visible(period=PERIOD, statistic="Maximum"),
            f"{prefix}: upload processing failed 5 times for an object; it is in the dead-letter queue. "
            "Fix the cause, then redrive (docs/operations.md, 'Dead-letter queue').",
        )
        if watched.job_dead_letters is not None:
            self._alarm(
                "upload-job-dead-letters",
                watched.job_dead_letters.metric_approximate_number_of_messages_visible(
                    period=PERIOD, statistic="Maximum"
                ),
                f"{prefix}: an upload job (multipart completion or full hashing) failed 5 times; it is in "
                "the upload-jobs dead-letter queue and its upload stays pending. Fix the cause, then redrive.",
            )
        if watched.audit_failures is not None:
            self._alarm(
                "audit-stream-failures",
                watched.audit_failures.metric_approximate_number_of_messages_visible(
                    period=PERIOD, statistic="Maximum"
                ),
                f"{prefix}: link audit events could not be written after retries; they are parked in the "
                "audit-stream failure queue. Fix the cause and replay them (docs/operations.md, 'Alarms').",
            )
        if watched.scan_dead_letters is not None:
            self._alarm(
                "scan-result-dead-letters",
                watched.scan_dead_letters.metric_approximate_number_of_messages_visible(
                    period=PERIOD, statistic="Maximum"
                ),
                f"{prefix}: a malware scan result could not be processed (or delivered) 5 times; it is in the "
                "scan-result dead-letter queue and its version stays 'scanning'. Fix the cause, then redrive "
                "(docs/operations.md, 'Scanning and mail').",
            )
            self._alarm(
                "scans-overdue",
                cloudwatch.Metric(
                    namespace=NAMESPACE, metric_name=SCANS_OVERDUE, statistic="Sum", period=OVERDUE_PERIOD
                ),
                f"{prefix}: uploads have waited longer than scan_timeout_minutes "
                f"({config.scan_timeout_minutes}) for their malware scan result; they stay unavailable. "
                "Check the GuardDuty plan's status and the scan-result queue "
                "(docs/operations.md, 'Scanning and mail').",
            )
        self._alarm(
            "upload-queue-stuck",
            watched.upload_queue.metric_approximate_age_of_oldest_message(period=PERIOD, statistic="Maximum"),
            f"{prefix}: an object-created event has waited over an hour; upload processing is stuck.",
            threshold=QUEUE_AGE_ALARM_SECONDS,
        )

    def _dashboard(self, config: StageConfig, watched: Watched) -> cloudwatch.Dashboard:
        api = watched.stage
        functions = sorted(watched.functions.items())
        width = 8

        def per_function(title: str, metric: str, statistic: str, unit_label: str) -> cloudwatch.GraphWidget:
            return cloudwatch.GraphWidget(
                title=title,
                width=width,
                left=[fn.metric(metric, period=PERIOD, statistic=statistic, label=name) for name, fn in functions],
                left_y_axis=cloudwatch.YAxisProps(label=unit_label, show_units=False, min=0),
            )

        def business(title: str, *metrics: tuple[str, str]) -> cloudwatch.GraphWidget:
            return cloudwatch.GraphWidget(
                title=title,
                width=width,
                left=[business_metric(name, label) for name, label in metrics],
                left_y_axis=cloudwatch.YAxisProps(label="count / 5 min", show_units=False, min=0),
            )

        dashboard = cloudwatch.Dashboard(
            self, "Dashboard", dashboard_name=f"docuserve-{config.stage}", default_interval=Duration.days(1)
        )
        dashboard.add_widgets(
            cloudwatch.TextWidget(
                markdown=(
                    f"# DocuServe {config.stage}\n"
                    "Top row: what users see. Middle: the functions behind it. Bottom: what they did. "
                    "How to read each graph: docs/operations.md, 'Reading the dashboard'."
                ),
                width=24,
                height=2,
            )
        )
        dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="API requests and errors",
                width=width,
                left=[
                    api.metric_count(period=PERIOD, statistic="Sum", label="requests"),
                    api.metric_client_error(period=PERIOD, statistic="Sum", label="4xx"),
                    api.metric_server_error(period=PERIOD, statistic="Sum", label="5xx"),
                ],
                left_y_axis=cloudwatch.YAxisProps(label="count / 5 min", show_units=False, min=0),
            ),
            cloudwatch.GraphWidget(
                title="API latency (ms)",
                width=width,
                left=[
                    api.metric_latency(period=PERIOD, statistic="p50", label="p50"),
                    api.metric_latency(period=PERIOD, statistic="p99", label="p99"),
                    api.metric_integration_latency(period=PERIOD, statistic="p99", label="integration p99"),
                ],
                left_y_axis=cloudwatch.YAxisProps(label="ms", show_units=False, min=0),
            ),
            cloudwatch.AlarmStatusWidget(title="Alarms", width=width, alarms=list(self.alarms.values()), height=6),
        )
        dashboard.add_widgets(
            per_function("Function errors", "Errors", "Sum", "count / 5 min"),
            per_function("Function throttles", "Throttles", "Sum", "count / 5 min"),
            per_function("Function duration p99 (ms)", "Duration", "p99", "ms"),
        )
        dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="DynamoDB throttled requests",
                width=width,
                left=[
                    watched.table.metric("ReadThrottleEvents", period=PERIOD, statistic="Sum", label="read"),
                    watched.table.metric("WriteThrottleEvents", period=PERIOD, statistic="Sum", label="write"),
                ],
                left_y_axis=cloudwatch.YAxisProps(label="count / 5 min", show_units=False, min=0),
            ),
            cloudwatch.GraphWidget(
                title="Upload processing queues",
                width=width,
                left=[
                    watched.dead_letters.metric_approximate_number_of_messages_visible(
                        period=PERIOD, statistic="Maximum", label="dead letters (should be 0)"
                    ),
                    watched.upload_queue.metric_approximate_number_of_messages_visible(
                        period=PERIOD, statistic="Maximum", label="waiting"
                    ),
                ],
                left_y_axis=cloudwatch.YAxisProps(label="messages", show_units=False, min=0),
            ),
            business(
                "Uploads",
                (BusinessMetric.UPLOADS_COMPLETED, "completed"),
                (BusinessMetric.UPLOADS_FAILED, "failed (size or checksum mismatch)"),
            ),
        )
        dashboard.add_widgets(
            business("Share links created", (BusinessMetric.LINKS_CREATED, "links created")),
            business(
                "Downloads",
                (BusinessMetric.PARTNER_DOWNLOADS, "partner (share links)"),
                (BusinessMetric.MEMBER_DOWNLOADS, "member"),
            ),
            business("Share-link lockouts (10 wrong passwords)", (BusinessMetric.LINK_LOCKOUTS, "lockouts")),
            business("Trash retention", (BusinessMetric.DOCUMENTS_EXPIRED, "documents purged after trash_days")),
        )
        if config.scanning:
            scans = business(
                "Malware scanning",
                (UPLOADS_INFECTED, "infected (never served)"),
                (UPLOADS_UNSCANNABLE, "unscannable (served only if released)"),
            )
            scans.add_left_metric(
                cloudwatch.Metric(
                    namespace=NAMESPACE,
                    metric_name=SCANS_OVERDUE,
                    statistic="Maximum",
                    period=OVERDUE_PERIOD,
                    label="overdue (waiting past scan_timeout_minutes)",
                )
            )
            dashboard.add_widgets(scans)
        return dashboard
