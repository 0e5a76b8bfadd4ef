"""SPEC security promise 7, storage half: key, bucket and access logs."""

from __future__ import annotations

from typing import Any

from aws_cdk.assertions import Match


def _documents_bucket(template: Any) -> dict[str, Any]:
    buckets = template.find_resources("AWS::S3::Bucket")
    logged_as = {
        name: b["Properties"].get("LoggingConfiguration", {}).get("LogFilePrefix") for name, b in buckets.items()
    }
    (bucket,) = [buckets[name] for name, prefix in logged_as.items() if prefix == "documents/"]
    props: dict[str, Any] = bucket["Properties"]
    return props


def test_kms_key_rotates(template: Any) -> None:
    template.has_resource_properties("AWS::KMS::Key", {"EnableKeyRotation": True})


def test_documents_bucket_uses_sse_kms_with_our_key_and_bucket_key(template: Any) -> None:
    rule = _documents_bucket(template)["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert rule["BucketKeyEnabled"] is True
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    assert "Fn::GetAtt" in rule["ServerSideEncryptionByDefault"]["KMSMasterKeyID"]


def test_documents_bucket_blocks_all_public_access(template: Any) -> None:
    assert _documents_bucket(template)["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }


def test_documents_bucket_is_versioned(template: Any) -> None:
    assert _documents_bucket(template)["VersioningConfiguration"] == {"Status": "Enabled"}


def test_documents_bucket_logs_access_to_the_log_bucket(template: Any) -> None:
    logging = _documents_bucket(template)["LoggingConfiguration"]
    assert "DestinationBucketName" in logging


def test_lifecycle_aborts_incomplete_multipart_after_one_day(template: Any) -> None:
    rules = _documents_bucket(template)["LifecycleConfiguration"]["Rules"]
    assert any(r.get("AbortIncompleteMultipartUpload", {}).get("DaysAfterInitiation") == 1 for r in rules)


def test_lifecycle_expires_noncurrent_versions(template: Any) -> None:
    rules = _documents_bucket(template)["LifecycleConfiguration"]["Rules"]
    assert any("NoncurrentVersionExpiration" in r and r["Status"] == "Enabled" for r in rules)


def _bucket_policy_statements(template: Any) -> list[dict[str, Any]]:
    policies = template.find_resources("AWS::S3::BucketPolicy")
    statements: list[dict[str, Any]] = []
    for policy in policies.values():
        statements.extend(policy["Properties"]["PolicyDocument"]["Statement"])
    return statements


def test_bucket_denies_requests_without_tls(template: Any) -> None:
    template.has_resource_properties(
        "AWS::S3::BucketPolicy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [Match.object_like({"Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "false"}}})]
                )
            }
        },
    )


def test_bucket_denies_puts_not_encrypted_with_sse_kms(template: Any) -> None:
    statements = _bucket_policy_statements(template)
    assert any(
        s["Effect"] == "Deny"
        and s["Action"] == "s3:PutObject"
        and s["Condition"].get("StringNotEqualsIfExists", {}).get("s3:x-amz-server-side-encryption") == "aws:kms"
        for s in statements
    )


def test_bucket_denies_puts_under_any_other_kms_key(template: Any) -> None:
    statements = _bucket_policy_statements(template)
    assert any(
        s["Effect"] == "Deny"
        and s["Action"] == "s3:PutObject"
        and "s3:x-amz-server-side-encryption-aws-kms-key-id" in s["Condition"].get("StringNotEqualsIfExists", {})
        for s in statements
    )


def test_log_bucket_is_private_and_tls_only(template: Any) -> None:
    buckets = template.find_resources("AWS::S3::Bucket")
    (log_bucket,) = [b for b in buckets.values() if "LoggingConfiguration" not in b["Properties"]]
    assert log_bucket["Properties"]["PublicAccessBlockConfiguration"]["BlockPublicPolicy"] is True


def _data_resources(template: Any, resource_type: str) -> list[Any]:
    """Everything but the access-log bucket, which every stage retains (late logs, see docs)."""
    found = template.find_resources(resource_type)
    return [
        r
        for lid, r in found.items()
        if not (resource_type == "AWS::S3::Bucket" and lid.startswith("StorageAccessLogs"))
    ]


def test_prod_retains_bucket_and_key_and_dev_tears_down(dev: Any, prod: Any) -> None:
    for resource_type in ("AWS::S3::Bucket", "AWS::KMS::Key"):
        assert all(r["DeletionPolicy"] == "Retain" for r in _data_resources(prod, resource_type))
        assert all(r["DeletionPolicy"] == "Delete" for r in _data_resources(dev, resource_type))
