"""The table's DynamoDB stream → the audit-stream function, with retries and an on-failure queue.

Only link items that carry an audit event, landed partner uploads and new audit items (which
it hash-chains, ``docuserve.audit_chain``) reach the function (event filters), in order per
item. A failing record is retried (the batch is bisected to isolate it); after the retries its
batch is described in the on-failure queue so no audit event is lost silently.

Every 15 minutes an EventBridge schedule also invokes the function with ``{"task":
"files_arrived_due"}``: it sends the upload requests' "files arrived" mails that came due
(``docuserve.upload_requests.arrivals.send_due``). A missed or failed run only delays those mails
(their markers stay listed), so EventBridge retries delivery twice and Lambda never re-runs an
invocation: the next scheduled run does the same work.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from docuserve.keys import AUDIT_PREFIX, LINK_PREFIX, UPLOAD_PREFIX
from docuserve.upload_requests.arrivals import SWEEP_TASK
from infra.nag import acknowledge

RETRIES = 10
BATCH_SIZE = 100
DUE_MAILS_EVERY = Duration.minutes(15)
DUE_MAILS_TASK = {"task": SWEEP_TASK}


def landed_partner_upload_filter() -> dict[str, object]:
    """Records whose new image is a partner's upload session that completed (upload requests:
    ``docuserve.upload_requests.arrivals``)."""
    return {
        "eventName": ["INSERT", "MODIFY"],
        "dynamodb": {
            "NewImage": {
                "pk": {"S": [{"prefix": UPLOAD_PREFIX}]},
                "partner": {"BOOL": [True]},
                "status": {"S": ["completed"]},
            }
        },
    }


def new_audit_event_filter() -> dict[str, object]:
    """Records that insert an audit item: the function chains each workspace's events."""
    return {
        "eventName": ["INSERT"],
        "dynamodb": {"NewImage": {"pk": {"S": [{"prefix": AUDIT_PREFIX}]}, "type": {"S": ["audit"]}}},
    }


def link_event_filter() -> dict[str, object]:
    """Records whose new image is a link item with a ``last_event`` (Lambda event filter pattern)."""
    return {
        "eventName": ["INSERT", "MODIFY"],
        "dynamodb": {
            "NewImage": {"pk": {"S": [{"prefix": LINK_PREFIX}]}, "last_event": {"M": {"id": {"S": [{"exists": True}]}}}}
        },
    }


class AuditStream(Construct):
    def __init__(self, scope: Construct, id: str, *, table: dynamodb.ITable, handler: lambda_.IFunction) -> None:
        super().__init__(scope, id)
        self.failures = sqs.Queue(
            self,
            "Failures",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(14),
        )
        acknowledge(self.failures, "AwsSolutions-SQS3", "This queue is itself the on-failure destination (a DLQ).")
        handler.add_event_source(
            sources.DynamoEventSource(
                table,
                starting_position=lambda_.StartingPosition.TRIM_HORIZON,
                batch_size=BATCH_SIZE,
                max_batching_window=Duration.seconds(1),
                bisect_batch_on_error=True,
                retry_attempts=RETRIES,
                report_batch_item_failures=True,
                on_failure=sources.SqsDlq(self.failures),
                filters=[
                    lambda_.FilterCriteria.filter(link_event_filter()),
                    lambda_.FilterCriteria.filter(landed_partner_upload_filter()),
                    lambda_.FilterCriteria.filter(new_audit_event_filter()),
                ],
            )
        )
        # Upload requests: the "files arrived" mails owed once the hour since the last one is over.
        self.due_mails = events.Rule(
            self,
            "FilesArrivedDue",
            description="DocuServe: send the upload requests' files-arrived mails that came due",
            schedule=events.Schedule.rate(DUE_MAILS_EVERY),
        )
        self.due_mails.add_target(
            targets.LambdaFunction(
                handler,
                event=events.RuleTargetInput.from_object(DUE_MAILS_TASK),
                retry_attempts=2,
                max_event_age=Duration.minutes(15),  # the next run is due by then
            )
        )
        handler.configure_async_invoke(retry_attempts=0)
