"""Deliver SQS messages to the upload-processing functions, as Lambda's SQS source does.

The bucket notifies the object-created queue (``provision()`` configures it, as the stack does),
whose poller hands each message to ``handlers.upload_events``; the upload-jobs queue's poller hands
each job to ``handlers.upload_jobs``. A poller long-polls its queue, hands each batch (of one, as
the stack's event sources) to its function as an SQS event, and deletes the messages that
succeeded; those in ``batchItemFailures`` (or a whole batch whose invocation raised) become visible
again after the queue's visibility timeout and are retried.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from typing import Any

import boto3

from local.events import sqs_event
from local.invoke import invoke
from local.polling import BackgroundPoller
from local.provision import UPLOAD_EVENTS_MAX_RECEIVES

FUNCTION = "upload_events"
BATCH_SIZE = 1  # the stack's SqsEventSource batch size (infra/events.py)
WAIT_SECONDS = 1


class S3EventPoller:
    """A background thread: queue → ``upload_events`` handler → delete the processed messages."""

    def __init__(
        self,
        *,
        queue_url: str,
        endpoint_url: str,
        region: str,
        log: Callable[[str], None],
        function: str = FUNCTION,
    ) -> None:
        self.queue_url = queue_url
        self.function = function
        self.region = region
        self.log = log
        self._sqs: Any = boto3.session.Session(region_name=region).client("sqs", endpoint_url=endpoint_url)
        self.queue_arn: str = self._sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        # Long polling already waits up to WAIT_SECONDS when the queue is empty.
        self._poller = BackgroundPoller(
            function.replace("_", "-"), self.poll_once, idle_seconds=0, retry_seconds=WAIT_SECONDS
        )

    def start(self) -> S3EventPoller:
        self._poller.start()
        return self

    def stop(self) -> None:
        self._poller.stop()

    def poll_once(self) -> int:
        """Receive one batch and process it; returns how many messages were received."""
        received = self._sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=BATCH_SIZE,
            WaitTimeSeconds=WAIT_SECONDS,
            AttributeNames=["All"],
        )
        messages = received.get("Messages", [])
        if not messages:
            return 0
        event = sqs_event([(m["MessageId"], m["Body"]) for m in messages], queue_arn=self.queue_arn)
        for record, message in zip(event["Records"], messages, strict=True):
            # What Lambda's SQS source passes along: the real receipt handle and system attributes.
            record["receiptHandle"] = message["ReceiptHandle"]
            record["attributes"] = message.get("Attributes", record["attributes"])
            record["md5OfBody"] = message.get("MD5OfBody", "")
        try:
            result = invoke(self.function, event, region=self.region)
        except Exception:
            traceback.print_exc()
            self.log(f"{self.function}: raised; {len(messages)} message(s) will be retried")
            return len(messages)
        failed = {f.get("itemIdentifier") for f in (result or {}).get("batchItemFailures", [])}
        done = [m for m in messages if m["MessageId"] not in failed]
        if done:
            self._sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)],
            )
        self.log(f"{self.function}: {len(messages)} message(s), {len(failed)} to retry")
        for message in messages:
            receives = int(message.get("Attributes", {}).get("ApproximateReceiveCount", "1"))
            if message["MessageId"] in failed and receives >= UPLOAD_EVENTS_MAX_RECEIVES:
                self.log(f"{self.function}: message {message['MessageId']} failed {receives} times: dead-letter queue")
        return len(messages)
