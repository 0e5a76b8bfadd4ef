"""The upload-jobs function's role: per job, exactly the S3 calls the job makes (infra/functions.py)."""

from __future__ import annotations

from typing import Any

from infra.functions import UPLOAD_JOBS
from tests.infra.test_audit_stream_and_share_roles import _role_statements


def _s3_statements(template: Any) -> dict[str, list[str]]:
    statements = _role_statements(template, UPLOAD_JOBS)
    out = {}
    for s in statements:
        actions = [s["Action"]] if isinstance(s["Action"], str) else list(s["Action"])
        if any(a.startswith("s3:") for a in actions):
            out[str(s.get("Sid"))] = sorted(actions)
    return out


def test_upload_jobs_may_assemble_and_hash_and_nothing_else_in_s3(template: Any) -> None:
    assert _s3_statements(template) == {
        "AssembleMultipartUploads": ["s3:AbortMultipartUpload", "s3:GetObject", "s3:PutObject"],
        "HashLandedObjects": ["s3:DeleteObject", "s3:DeleteObjectVersion", "s3:GetObject", "s3:GetObjectVersion"],
        "BuildBundleArchives": ["s3:AbortMultipartUpload", "s3:GetObject", "s3:PutObject"],
    }


def test_upload_jobs_s3_access_is_limited_to_document_objects_and_bundle_archives(template: Any) -> None:
    for s in _role_statements(template, UPLOAD_JOBS):
        actions = [s["Action"]] if isinstance(s["Action"], str) else list(s["Action"])
        if any(a.startswith("s3:") for a in actions):
            expected = "/archives/*" if s.get("Sid") == "BuildBundleArchives" else "/documents/*"
            assert s["Resource"]["Fn::Join"][1][-1] == expected
