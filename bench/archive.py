"""A bundle's 'download all' at size: the real archive job (``docuserve.sharing.archive``) on moto.

Seeds ``BENCH_ARCHIVE_FILES`` (default 4) documents of ``BENCH_ARCHIVE_MIB / files`` each (default
1,024 MiB in all) by multipart upload (16 MiB parts, never the whole object in memory), makes a
bundle of them, asks for the archive as a partner does (202, one claim, one job) and runs the job
in this process, timing it and tracing its memory (``tracemalloc`` peak: the job's buffers plus
moto's own handling of each request, so an upper bound of the job's), then checks the ZIP's
central directory and size. ``python -m bench.archive`` runs it alone; ``make bench`` includes it.

The limit stated from it (docs/performance.md#bundle-archives) assumes Lambda's S3 throughput,
not moto's: moto runs in this process and shares its CPU with the job.
"""

from __future__ import annotations

import os
import resource
import sys
import time
import tracemalloc
import zipfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
for _path in (ROOT / "functions", ROOT / "layers" / "domain" / "python", ROOT):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

MIB = 1024 * 1024
PART = 16 * MIB
ASSUMED_LAMBDA_MIB_S = 50  # one S3 stream's throughput assumed in Lambda (as docs/performance.md for hashing)
# The job reads a chunk, then writes a part: each byte crosses the wire twice, one after the other.
EFFECTIVE_MIB_S = 1 / (1 / ASSUMED_LAMBDA_MIB_S + 1 / ASSUMED_LAMBDA_MIB_S)
TIMEOUT_S = 900  # the upload-jobs function's timeout (infra/functions.py)
MARGIN = 2


def _seed_object(s3: Any, bucket: str, key: str, size: int) -> str | None:
    """A ``size``-byte object by multipart upload: parts of distinct bytes, one part in memory."""
    started = s3.create_multipart_upload(Bucket=bucket, Key=key)
    parts = []
    block = os.urandom(MIB)
    for number, offset in enumerate(range(0, size, PART), start=1):
        length = min(PART, size - offset)
        body = (number.to_bytes(8, "big") + block) * (length // (MIB + 8) + 1)
        upload = {"Bucket": bucket, "Key": key, "UploadId": started["UploadId"], "PartNumber": number}
        done = s3.upload_part(**upload, Body=body[:length])
        parts.append({"PartNumber": number, "ETag": done["ETag"]})
    done = s3.complete_multipart_upload(
        Bucket=bucket, Key=key, UploadId=started["UploadId"], MultipartUpload={"Parts": parts}
    )
    version: str | None = done.get("VersionId")
    return version


def measure(resources: Any, total_mib: int | None = None, files: int | None = None) -> dict[str, Any]:
    from docuserve import clock, ids, keys
    from docuserve.adapters import aws
    from docuserve.adapters.objects import object_key
    from docuserve.adapters.store import Store
    from docuserve.identity import Caller
    from docuserve.roles import Role
    from docuserve.settings import get_settings
    from docuserve.sharing import archive, bundles, redeem
    from docuserve.sharing.manage import Terms

    total_mib = total_mib or int(os.environ.get("BENCH_ARCHIVE_MIB", "1024"))
    files = files or int(os.environ.get("BENCH_ARCHIVE_FILES", "4"))
    size = total_mib * MIB // files
    store, s3, bucket = Store(), aws.s3(), get_settings().bucket_name
    ws = ids.new_workspace_id()
    store.put({**keys.workspace(ws), "id": ws, "name": "Bench"})
    store.put({**keys.membership(ws, "bench"), "workspace_id": ws, "user_id": "bench", "role": Role.OWNER.value})
    docs = []
    for i in range(files):
        doc, version = ids.new_child_id(ws), ids.new_child_id(ws)
        key = object_key(doc, version)
        s3_version = _seed_object(s3, bucket, key, size)
        now = clock.iso(clock.now())
        store.put(
            {
                **keys.document(doc),
                **{"id": doc, "workspace_id": ws, "name": f"part-{i + 1}.bin", "folder": "/"},
                **{"content_type": "application/octet-stream", "size": size, "sha256": "-", "status": "available"},
                **{"created_at": now, "created_by": "bench", "updated_at": now, "updated_by": "bench"},
                **{"current_version": version, "current_object_key": key, "current_s3_version_id": s3_version},
                **{"version_count": 1, "link_refs": True},
            }
        )
        docs.append(doc)
    caller = Caller(user_id="bench", email="bench@example.com", groups=())
    created = bundles.create_bundle(caller, ws, docs, Terms())
    visitor = redeem.Visitor(ip="198.51.100.1", user_agent="bench")
    answer = redeem.redeem(created.token, None, visitor, target=redeem.Target(archive=True))
    assert isinstance(answer, bundles.Preparing), answer
    link = store.get(redeem.link_key(created.token))
    assert link is not None
    print_ = link["bundle_zip"]["fingerprint"]

    # Timed without tracing (tracemalloc slows every allocation, moto's included).
    started = time.perf_counter()
    outcome = archive.build(link["pk"], print_)
    seconds = time.perf_counter() - started
    assert outcome == "built", outcome
    peak = _job_memory_peak(archive, link, print_, s3, bucket)

    zip_key = bundles.archive_key(link["share_id"], print_)
    zip_size = int(s3.head_object(Bucket=bucket, Key=zip_key)["ContentLength"])
    with zipfile.ZipFile(_S3Reader(s3, bucket, zip_key, zip_size)) as zipped:
        listed = [(i.filename, i.file_size, i.compress_type) for i in zipped.infolist()]
    assert [n for n, _, _ in listed] == [f"part-{i + 1}.bin" for i in range(files)]
    assert all(s == size and c == zipfile.ZIP_STORED for _, s, c in listed)
    served = redeem.redeem(created.token, None, visitor, target=redeem.Target(archive=True))
    assert isinstance(served, redeem.Grant)

    mib_s = total_mib / seconds
    budget_mib = EFFECTIVE_MIB_S * TIMEOUT_S / MARGIN
    return {
        "files": files,
        "input_mib": total_mib,
        "zip_bytes": zip_size,
        "overhead_bytes": zip_size - files * size,
        "seconds": round(seconds, 1),
        "mib_per_s_on_moto": round(mib_s, 1),
        "tracemalloc_peak_mib": round(peak / MIB, 1),
        "max_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "assumed_lambda_mib_per_s": ASSUMED_LAMBDA_MIB_S,
        "effective_mib_per_s": EFFECTIVE_MIB_S,
        "projected_seconds_for_input": round(total_mib / EFFECTIVE_MIB_S),
        "limit_mib_at_2x_margin": int(budget_mib),
        "configured_limit_mib": bundles.ARCHIVE_MAX_BYTES // MIB,
        "projected_seconds_at_limit": round(bundles.ARCHIVE_MAX_BYTES / MIB / EFFECTIVE_MIB_S),
    }


def _job_memory_peak(archive: Any, link: dict[str, Any], print_: str, s3: Any, bucket: str) -> int:
    """The most memory the job's own code (``sharing/archive.py`` and zipstream) holds at once.

    A second, traced build (after removing the first's object, so it builds again): at each part
    upload -- when the part buffer is fullest -- a snapshot sums the live blocks allocated by the
    job's and zipstream's lines. moto's own copies of the parts (it keeps objects in this process)
    are left out: in Lambda they are on S3's side of the wire.
    """
    from docuserve.adapters.store import Store
    from docuserve.sharing import bundles

    key = bundles.archive_key(link["share_id"], print_)
    for version in s3.list_object_versions(Bucket=bucket, Prefix=key).get("Versions", []):
        s3.delete_object(Bucket=bucket, Key=key, VersionId=version["VersionId"])
    Store().update(
        {"pk": link["pk"], "sk": "LINK"},
        "SET bundle_zip.#st = :p",
        names={"#st": "status"},
        expression_values={":p": "preparing"},
    )
    mine = (tracemalloc.Filter(True, "*sharing/archive.py"), tracemalloc.Filter(True, "*zipstream/*"))
    peaks = [0]
    real = archive.aws.s3
    client = real()
    original = client.upload_part

    def upload_part(**kwargs: Any) -> Any:
        taken = tracemalloc.take_snapshot().filter_traces(mine)
        peaks.append(sum(stat.size for stat in taken.statistics("filename")))
        return original(**kwargs)

    client.upload_part = upload_part
    tracemalloc.start(25)
    try:
        assert archive.build(link["pk"], print_) == "built"
    finally:
        tracemalloc.stop()
        client.upload_part = original
    return max(peaks)


class _S3Reader:
    """A seekable read-only file over one S3 object (ranged GETs), for ``zipfile``'s directory."""

    def __init__(self, s3: Any, bucket: str, key: str, size: int) -> None:
        self.s3, self.bucket, self.key, self.size, self.at = s3, bucket, key, size, 0

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.at

    def seek(self, offset: int, whence: int = 0) -> int:
        self.at = offset if whence == 0 else self.at + offset if whence == 1 else self.size + offset
        return self.at

    def read(self, n: int = -1) -> bytes:
        end = self.size if n is None or n < 0 else min(self.size, self.at + n)
        if end <= self.at:
            return b""
        got = self.s3.get_object(Bucket=self.bucket, Key=self.key, Range=f"bytes={self.at}-{end - 1}")["Body"].read()
        self.at += len(got)
        data: bytes = got
        return data


def main() -> None:
    import json

    from bench.moto_env import moto_stack

    with moto_stack() as resources:
        print(json.dumps(measure(resources), indent=2))


if __name__ == "__main__":
    main()
