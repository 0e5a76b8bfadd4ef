"""The archive job: a bundle's ZIP, streamed from S3 into S3 (the ``upload_jobs`` function, 900 s).

Each serving entry's object version is read with a streaming GetObject (1 MiB chunks), passed
through ``zipstream-ng``'s generator with stored entries (``ZIP_STORED``: documents are mostly
compressed already, and CRC-32 is all a stored entry needs, so the CPU does little more than
copy and the time is bounded by S3 throughput) and written with a multipart upload of 16 MiB parts
(SSE-KMS under the stage key) to ``archives/{share_id}/{fingerprint}.zip``. Memory stays at about
one part plus one chunk whatever the bundle's size (``make bench``: docs/performance.md). ZIP64
records are written where a size needs them.

Idempotent under SQS's at-least-once delivery: a job whose fingerprint no longer matches the
link's ``archive`` claim (the entries changed, the link is gone) does nothing; an object already at
the key (an earlier delivery got that far) is not built again; marking ready is conditioned on
the same fingerprint. A delivery that fails aborts its multipart upload (and the bucket's
lifecycle rule aborts any left behind after a day); SQS retries it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from botocore.exceptions import ClientError
from zipstream import ZIP_STORED, ZipStream

from docuserve import clock
from docuserve.adapters import aws
from docuserve.adapters.store import ConditionFailed, Store
from docuserve.settings import get_settings
from docuserve.sharing import bundles
from docuserve.sharing.state import is_bundle

READ_CHUNK = 1024 * 1024
PART_SIZE = 16 * 1024 * 1024  # ≥ S3's 5 MiB minimum; 20 GiB is 1,280 parts of the 10,000 allowed


def build(link_pk: str, print_: str, *, store: Store | None = None) -> str:
    """Build (or find) the archive of ``link_pk`` for ``print_`` and mark it ready; what happened."""
    store = store or Store()
    key = {"pk": link_pk, "sk": "LINK"}
    item = store.get(key)
    if item is None or not is_bundle(item):
        return "no such bundle"
    archive = item.get("bundle_zip") or {}
    if archive.get("fingerprint") != print_ or bundles.fingerprint(item) != print_:
        return "superseded"
    if archive.get("status") == "ready":
        return "already ready"
    object_key = bundles.archive_key(item["share_id"], print_)
    found = _existing(object_key)
    built = found is None
    if found is None:
        found = _stream(object_key, bundles.serving(item))
    size, s3_version_id = found
    ready: dict[str, Any] = {
        ":ready": "ready",
        ":key": object_key,
        ":size": size,
        ":until": clock.epoch(clock.now()) + bundles.ARCHIVE_READY_HOURS * 3600,
        ":fp": print_,
    }
    update = (
        "SET bundle_zip.#st = :ready, bundle_zip.object_key = :key, bundle_zip.bytes = :size,"
        " bundle_zip.ready_until = :until"
    )
    if s3_version_id:
        update += ", bundle_zip.s3_version_id = :version"
        ready[":version"] = s3_version_id
    try:
        store.update(
            key,
            update + " REMOVE last_event",
            condition="bundle_zip.fingerprint = :fp",
            names={"#st": "status"},
            expression_values=ready,
            return_values="NONE",
        )
    except ConditionFailed:
        return "superseded"  # the entries changed while it was built; the object expires unused
    return "built" if built else "found built"


def _existing(object_key: str) -> tuple[int, str | None] | None:
    """An archive an earlier delivery of this job completed: (size, S3 version)."""
    try:
        head = aws.s3().head_object(Bucket=get_settings().bucket_name, Key=object_key)
    except ClientError as error:
        # Without s3:ListBucket (the job has none) S3 answers a missing key with 403, not 404.
        if error.response.get("Error", {}).get("Code") in ("403", "404", "NoSuchKey", "NotFound", "AccessDenied"):
            return None
        raise
    return int(head["ContentLength"]), head.get("VersionId")


def _object_chunks(object_key: str, s3_version_id: str | None) -> Iterator[bytes]:
    params: dict[str, Any] = {"Bucket": get_settings().bucket_name, "Key": object_key}
    if s3_version_id:
        params["VersionId"] = s3_version_id
    body = aws.s3().get_object(**params)["Body"]
    try:
        yield from body.iter_chunks(READ_CHUNK)
    finally:
        body.close()


def archive_names(entries: list[tuple[str, dict[str, Any]]]) -> list[str]:
    """One name per entry, unique in the ZIP: a repeated name gets `` (2)``, `` (3)`` before its suffix."""
    taken: set[str] = set()
    names = []
    for _, entry in entries:
        name = str(entry.get("document_name") or "file")
        stem, dot, suffix = name.rpartition(".") if "." in name.lstrip(".") else (name, "", "")
        candidate, n = name, 1
        while candidate.lower() in taken:
            n += 1
            candidate = f"{stem} ({n}){dot}{suffix}"
        taken.add(candidate.lower())
        names.append(candidate)
    return names


def zip_stream(entries: list[tuple[str, dict[str, Any]]]) -> ZipStream:
    """The ZIP of ``entries`` as a generator of bytes (stored, sized up front, ZIP64 where needed)."""
    stream = ZipStream(compress_type=ZIP_STORED, sized=True)
    for (_, entry), name in zip(entries, archive_names(entries), strict=True):
        stream.add(_object_chunks(entry["object_key"], entry.get("s3_version_id")), name, size=int(entry["size"]))
    return stream


def _stream(object_key: str, entries: list[tuple[str, dict[str, Any]]]) -> tuple[int, str | None]:
    """Stream the ZIP into a multipart upload; returns (size, S3 version)."""
    settings = get_settings()
    s3 = aws.s3()
    started = s3.create_multipart_upload(
        Bucket=settings.bucket_name,
        Key=object_key,
        ContentType="application/zip",
        ServerSideEncryption="aws:kms",
        SSEKMSKeyId=settings.kms_key_arn,
    )
    upload_id = started["UploadId"]
    parts: list[dict[str, Any]] = []
    buffer = bytearray()
    size = 0

    def flush() -> None:
        number = len(parts) + 1
        done = s3.upload_part(
            Bucket=settings.bucket_name, Key=object_key, UploadId=upload_id, PartNumber=number, Body=bytes(buffer)
        )
        parts.append({"PartNumber": number, "ETag": done["ETag"]})
        buffer.clear()

    try:
        for chunk in zip_stream(entries):
            buffer += chunk
            size += len(chunk)
            if len(buffer) >= PART_SIZE:
                flush()
        if buffer or not parts:
            flush()
        done = s3.complete_multipart_upload(
            Bucket=settings.bucket_name, Key=object_key, UploadId=upload_id, MultipartUpload={"Parts": parts}
        )
    except BaseException:
        s3.abort_multipart_upload(Bucket=settings.bucket_name, Key=object_key, UploadId=upload_id)
        raise
    return size, done.get("VersionId")
