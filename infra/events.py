"""Upload processing: S3 object-created events → SQS → the upload-events function (the checksum
step), and the upload-jobs queue → the upload-jobs function (multipart completion and the full
SHA-256 of multipart objects). Each queue has a dead-letter queue; each function takes one message
per invocation, so one slow object never fails or delays another.

The hashing step reads an object once inside one invocation, so the largest document it can verify
is bounded by its timeout and the read rate: the deployment's ``max_document_size`` must stay under
``VERIFIABLE_DOCUMENT_SIZE`` (``docs/performance.md``, "Multipart verification"), or synth fails.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_notifications as s3n
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from docuserve.limits import GIB, MIB
from docuserve.schema import DOCUMENTS_PREFIX
from docuserve.settings import UPLOAD_JOBS_QUEUE_URL
from infra.nag import acknowledge

CHECKSUM_TIMEOUT_SECONDS = 60  # a HEAD and a few DynamoDB writes per object
JOBS_TIMEOUT_SECONDS = 900  # Lambda's maximum
# One GetObject stream into a 1,769 MB (one vCPU) arm64 function. Lambda does not document its
# network bandwidth; hashlib's SHA-256 runs at ~750 MiB/s here, so the read is the bound. Assumed,
# conservatively, well below the 5 Gbps per-connection ceiling S3 states (docs/performance.md).
ASSUMED_READ_BYTES_PER_SECOND = 50 * MIB
HASHING_MARGIN = 2  # half the timeout: retries, cold start, slower reads
VERIFIABLE_DOCUMENT_SIZE = (JOBS_TIMEOUT_SECONDS // HASHING_MARGIN) * ASSUMED_READ_BYTES_PER_SECOND // GIB * GIB
MAX_RECEIVES = 5


def queue_pair(scope: Construct, name: str, *, timeout_seconds: int) -> tuple[sqs.Queue, sqs.Queue]:
    """A Lambda source queue (SSE-SQS, TLS only) whose messages go to their own DLQ after 5 receives."""
    dead_letters = sqs.Queue(
        scope,
        f"{name}DeadLetters" if name != "ObjectCreated" else "DeadLetters",
        encryption=sqs.QueueEncryption.SQS_MANAGED,
        enforce_ssl=True,
        retention_period=Duration.days(14),
    )
    acknowledge(dead_letters, "AwsSolutions-SQS3", "This queue is itself the dead-letter queue.")
    queue = sqs.Queue(
        scope,
        name,
        # S3 can publish to SSE-SQS queues; a KMS-encrypted queue would need a key grant to S3.
        encryption=sqs.QueueEncryption.SQS_MANAGED,
        enforce_ssl=True,
        # AWS's advice for a Lambda source: six times the function's timeout.
        visibility_timeout=Duration.seconds(6 * timeout_seconds),
        dead_letter_queue=sqs.DeadLetterQueue(queue=dead_letters, max_receive_count=MAX_RECEIVES),
    )
    return queue, dead_letters


class UploadEvents(Construct):
    """At-least-once delivery of object-created events and upload jobs; 5 tries, then the DLQ."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        bucket: s3.IBucket,
        handler: lambda_.Function,
        jobs_handler: lambda_.Function,
        job_senders: list[lambda_.Function],
        max_document_size: int,
    ) -> None:
        super().__init__(scope, id)
        if max_document_size > VERIFIABLE_DOCUMENT_SIZE:
            raise ValueError(
                f"limits.max_document_size ({max_document_size} bytes) exceeds what upload verification "
                f"hashes within its timeout ({VERIFIABLE_DOCUMENT_SIZE} bytes; docs/performance.md)"
            )
        self.queue, self.dead_letters = queue_pair(self, "ObjectCreated", timeout_seconds=CHECKSUM_TIMEOUT_SECONDS)
        bucket.add_event_notification(
            s3.EventType.OBJECT_CREATED,
            s3n.SqsDestination(self.queue),
            s3.NotificationKeyFilter(prefix=DOCUMENTS_PREFIX),
        )
        handler.add_event_source(sources.SqsEventSource(self.queue, batch_size=1, report_batch_item_failures=True))

        self.jobs, self.job_dead_letters = queue_pair(self, "Jobs", timeout_seconds=JOBS_TIMEOUT_SECONDS)
        jobs_handler.add_event_source(sources.SqsEventSource(self.jobs, batch_size=1, report_batch_item_failures=True))
        for sender in job_senders:
            self.jobs.grant_send_messages(sender)
            sender.add_environment(UPLOAD_JOBS_QUEUE_URL, self.jobs.queue_url)
