"""S3 object-created events → SQS → the upload-events function, with a dead-letter queue."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_notifications as s3n
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from docuserve.schema import DOCUMENTS_PREFIX
from infra.nag import acknowledge


class UploadEvents(Construct):
    """At-least-once delivery of object-created events; failures land in the DLQ after 5 tries."""

    def __init__(self, scope: Construct, id: str, *, bucket: s3.IBucket, handler: lambda_.IFunction) -> None:
        super().__init__(scope, id)
        self.dead_letters = sqs.Queue(
            self,
            "DeadLetters",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(14),
        )
        acknowledge(self.dead_letters, "AwsSolutions-SQS3", "This queue is itself the dead-letter queue.")
        self.queue = sqs.Queue(
            self,
            "ObjectCreated",
            # S3 can publish to SSE-SQS queues; a KMS-encrypted queue would need a key grant to S3.
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            visibility_timeout=Duration.seconds(6 * 300),
            dead_letter_queue=sqs.DeadLetterQueue(queue=self.dead_letters, max_receive_count=5),
        )
        bucket.add_event_notification(
            s3.EventType.OBJECT_CREATED,
            s3n.SqsDestination(self.queue),
            s3.NotificationKeyFilter(prefix=DOCUMENTS_PREFIX),
        )
        handler.add_event_source(sources.SqsEventSource(self.queue, batch_size=10, report_batch_item_failures=True))
