"""Bundle archives in the stack: the lifecycle rule, the job's and the public function's grants,
the vendored zipstream-ng layer, and why the malware gate leaves archives/ alone (issue 17)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from docuserve.routes import Function
from infra.functions import MANIFEST_SIGNERS, SPECS, UPLOAD_JOBS
from tests.infra.test_audit_stream_and_share_roles import _role_statements
from tests.infra.test_scanning import _by_sid
from tests.infra.test_storage import _documents_bucket


def _actions(statement: dict[str, Any]) -> list[str]:
    return sorted([statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"])


def _resource_tail(statement: dict[str, Any]) -> str:
    return str(statement["Resource"]["Fn::Join"][1][-1])


def test_archives_expire_after_a_day_with_their_versions_and_unfinished_uploads(template: Any) -> None:
    rules = {r["Id"]: r for r in _documents_bucket(template)["LifecycleConfiguration"]["Rules"]}
    rule = rules["expire-bundle-archives"]
    assert rule["Status"] == "Enabled"
    assert rule["Prefix"] == "archives/"
    assert rule["ExpirationInDays"] == 1
    assert rule["NoncurrentVersionExpiration"] == {"NoncurrentDays": 1}
    assert rule["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 1}


def test_the_job_writes_archives_by_multipart_upload_only_under_archives(template: Any) -> None:
    (statement,) = [s for s in _role_statements(template, UPLOAD_JOBS) if s.get("Sid") == "BuildBundleArchives"]
    assert _actions(statement) == ["s3:AbortMultipartUpload", "s3:GetObject", "s3:PutObject"]
    assert _resource_tail(statement) == "/archives/*"


def test_the_public_function_may_only_read_archives_and_never_write_them(template: Any) -> None:
    statements = _role_statements(template, Function.PUBLIC.value)
    (presign,) = [s for s in statements if s.get("Sid") == "PresignBundleArchives"]
    assert _actions(presign) == ["s3:GetObject", "s3:GetObjectVersion"]
    for s in statements:
        joined = isinstance(s.get("Resource"), dict) and "Fn::Join" in s["Resource"]
        if joined and _resource_tail(s) == "/archives/*":
            assert all(a in ("s3:GetObject", "s3:GetObjectVersion") for a in _actions(s))


def test_the_malware_read_gate_covers_documents_only_so_archives_of_clean_versions_are_served(template: Any) -> None:
    # Archives are built by the job from versions that passed the scan (a link serves nothing
    # else); GuardDuty scans documents/ only, so an archive never gets its tag and the gate,
    # which names documents/*, must not (and does not) reach archives/.
    gate = _by_sid(template)["DenyReadingUnscannedDocuments"]
    assert _resource_tail(gate) == "/documents/*"


def test_only_the_upload_jobs_and_manifest_signing_functions_carry_the_vendored_layer(template: Any) -> None:
    functions = template.find_resources("AWS::Lambda::Function")
    layer_ids = set(template.find_resources("AWS::Lambda::LayerVersion"))
    vendor = {i for i in layer_ids if "VendorLayer" in i}
    assert len(vendor) == 1
    by_handler = {f["Properties"].get("Handler"): f["Properties"] for f in functions.values()}
    for spec in SPECS:
        refs = {layer.get("Ref") for layer in by_handler[spec.handler].get("Layers", []) if isinstance(layer, dict)}
        # zipstream-ng for the archive job; rfc8785 for the functions that sign delivery manifests
        assert bool(refs & vendor) == (spec.name in (UPLOAD_JOBS, *MANIFEST_SIGNERS)), spec.name


def test_the_vendored_layer_ships_zipstream_source_and_bytecode_only(dev: Any, dev_out: Path) -> None:
    layers = dev.find_resources("AWS::Lambda::LayerVersion")
    (vendor,) = [v for k, v in layers.items() if "VendorLayer" in k]
    folder = dev_out / f"asset.{vendor['Properties']['Content']['S3Key'].removesuffix('.zip')}"
    files = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
    assert "python/zipstream/ng.py" in files
    assert "python/zipstream/__init__.py" in files
    assert not [f for f in files if f.endswith((".so", ".pyd")) or "server" in f]
