"""Upload jobs from SQS, one per invocation: assemble a multipart upload, hash a landed object, or
build a bundle's ZIP (``docuserve.sharing.archive``).

Both can take minutes (CompleteMultipartUpload, S3 documents, "can take several minutes"; reading
a large object once), so they run here with a 900 s timeout rather than in an API request or in the
checksum step. The event source gives one message per invocation, so one slow object never holds
others back; a message whose job raised is reported in ``batchItemFailures`` and retried, then
moved to the dead-letter queue. Malformed messages are dropped.
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from docuserve import processing, uploads
from docuserve.adapters import jobs
from docuserve.observability import event_entry, logger


def run(job: dict[str, Any]) -> str:
    """Do one job; returns what happened (for logs and tests)."""
    kind = job.get("job")
    if kind == jobs.ASSEMBLE and isinstance(job.get("upload_id"), str) and isinstance(job.get("parts"), list):
        parts = [(str(etag), str(sha256)) for etag, sha256 in job["parts"]]
        return uploads.assemble(job["upload_id"], parts)
    if kind == jobs.HASH and isinstance(job.get("key"), str):
        version = job.get("s3_version_id")
        return processing.handle_hash_job(job["key"], version if isinstance(version, str) else None)
    if kind == jobs.ARCHIVE and isinstance(job.get("link"), str) and isinstance(job.get("fingerprint"), str):
        from docuserve.sharing import archive  # only this job streams ZIPs

        return archive.build(job["link"], job["fingerprint"])
    logger.warning("ignoring a message that is not an upload job")
    return "ignored"


def process(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    failures = []
    for record in event.get("Records", []):
        try:
            try:
                job = json.loads(str(record.get("body", "")))
            except ValueError:
                job = {}
            outcome = run(job if isinstance(job, dict) else {})
            logger.info("upload job done", extra={"job": job.get("job"), "outcome": outcome})
        except Exception:
            logger.exception("upload job failed; SQS will retry", extra={"message_id": record.get("messageId")})
            failures.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failures}


handler = event_entry(process)
