"""SQS adapter for the upload-jobs queue: work too long for the function that finds it.

Two kinds of job, each one SQS message that the ``upload_jobs`` function takes one at a time:

- ``assemble``: CompleteMultipartUpload for an upload whose client asked to complete (S3 documents
  it as possibly taking minutes; an API request must not wait for it). The message carries every
  part's ETag and SHA-256 in order, which is why ``uploads.MAX_PARTS`` bounds the part count.
- ``hash``: read a landed object once and compare its full SHA-256 with the declared one, for
  objects whose stored checksum is not a full-object SHA-256 (multipart: a composite).
- ``archive``: build a bundle's ZIP (``docuserve.sharing.archive``), claimed by a partner's
  'download all' (``sharing.bundles.prepare_archive``); streamed into S3, so no request waits.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from docuserve.adapters import aws
from docuserve.settings import UPLOAD_JOBS_QUEUE_URL, MissingSetting, get_settings

ASSEMBLE = "assemble"
HASH = "hash"
ARCHIVE = "archive"


def assemble(upload_id: str, parts: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """The job that completes ``upload_id`` with ``parts``: ``(ETag without quotes, SHA-256)``, part 1 first."""
    return {"job": ASSEMBLE, "upload_id": upload_id, "parts": [list(p) for p in parts]}


def hash_object(key: str, s3_version_id: str | None) -> dict[str, Any]:
    """The job that hashes one landed object version in full."""
    return {"job": HASH, "key": key, "s3_version_id": s3_version_id}


def archive(link_pk: str, fingerprint: str, claim: str) -> dict[str, Any]:
    """The job that builds the ZIP of the bundle ``link_pk`` for the entries named by ``fingerprint``."""
    return {"job": ARCHIVE, "link": link_pk, "fingerprint": fingerprint, "claim": claim}


def send(job: dict[str, Any]) -> None:
    url = get_settings().upload_jobs_queue_url
    if not url:
        raise MissingSetting(f"the function's environment lacks {UPLOAD_JOBS_QUEUE_URL}")
    aws.sqs().send_message(QueueUrl=url, MessageBody=json.dumps(job, separators=(",", ":")))
