"""Upload processing: S3 object-created events and malware scan results (GuardDuty's, through
EventBridge), each delivered through its own SQS queue (partial batch responses).

A message whose processing raised is reported in ``batchItemFailures`` so SQS retries it (and
moves it to the dead-letter queue after the configured receives); malformed messages are dropped.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from docuserve import processing
from docuserve.observability import event_entry, logger


def process(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    failures = []
    for record in event.get("Records", []):
        try:
            body = str(record.get("body", ""))
            scan = processing.parse_scan_message(body)
            if scan is not None:
                outcome = processing.handle_scan(scan)
                logger.info("processed scan result", extra={"key": scan.key[:300], "outcome": outcome})
                continue
            for landed in processing.parse_message(body):
                outcome = processing.handle(landed)
                logger.info("processed upload", extra={"version_id": landed.version_id, "outcome": outcome})
        except Exception:
            logger.exception("upload processing failed; SQS will retry", extra={"message_id": record.get("messageId")})
            failures.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failures}


handler = event_entry(process)
