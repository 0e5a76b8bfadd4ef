"""Malware scanning in the stack (infra/scanning.py): the GuardDuty plan and its role, the result
feed, the bucket policy's tag gate (attacked through tests/infra/policy_sim.py), the overdue check
and its alarm, and a stage with scanning off."""

from __future__ import annotations

from typing import Any

import pytest

from docuserve.routes import Function
from infra.functions import SPECS, TRASH_SWEEPER, UPLOAD_EVENTS, UPLOAD_JOBS
from infra.monitoring import SCANS_OVERDUE
from infra.scanning import (
    CLEAN,
    GUARDDUTY_PRINCIPAL,
    INFECTED,
    OVERDUE_SCHEDULE,
    OVERDUE_TASK,
    RELEASE_TAG,
    RELEASED,
    RESULT_DETAIL_TYPE,
    SCAN_STATUS_TAG,
)
from tests.infra.policy_sim import Request, denied, resolve


def _of_type(template: Any, kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template.find_resources(kind).items()}


def _function_ids(template: Any) -> dict[str, str]:
    by_handler = {f["Properties"].get("Handler"): k for k, f in _of_type(template, "AWS::Lambda::Function").items()}
    return {spec.name: by_handler[spec.handler] for spec in SPECS}


def _function_role(template: Any, name: str) -> str:
    fn = _of_type(template, "AWS::Lambda::Function")[_function_ids(template)[name]]
    return str(fn["Properties"]["Role"]["Fn::GetAtt"][0])


def _guardduty_role(template: Any) -> str:
    roles = _of_type(template, "AWS::IAM::Role")
    (role,) = [
        k
        for k, r in roles.items()
        if r["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": GUARDDUTY_PRINCIPAL}
    ]
    return role


def _documents_bucket(template: Any) -> str:
    buckets = _of_type(template, "AWS::S3::Bucket")
    (bucket,) = [
        k
        for k, b in buckets.items()
        if b["Properties"].get("LoggingConfiguration", {}).get("LogFilePrefix") == "documents/"
    ]
    return bucket


def _bucket_statements(template: Any) -> list[dict[str, Any]]:
    bucket = _documents_bucket(template)
    (policy,) = [
        p["Properties"]["PolicyDocument"]["Statement"]
        for p in _of_type(template, "AWS::S3::BucketPolicy").values()
        if p["Properties"]["Bucket"] == {"Ref": bucket}
    ]
    return list(policy)


def _by_sid(template: Any) -> dict[str, dict[str, Any]]:
    return {s["Sid"]: s for s in _bucket_statements(template) if "Sid" in s}


def _policy_statements(template: Any, role: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for policy in _of_type(template, "AWS::IAM::Policy").values():
        if {"Ref": role} in policy["Properties"]["Roles"]:
            out.extend(policy["Properties"]["PolicyDocument"]["Statement"])
    return out


def _arn(logical_id: str) -> str:
    return f"arn:test:{logical_id}"


# --- the plan and its role -----------------------------------------------------------------------


def test_a_guardduty_plan_scans_and_tags_the_documents_prefix_of_the_documents_bucket(template: Any) -> None:
    (plan,) = _of_type(template, "AWS::GuardDuty::MalwareProtectionPlan").values()
    props = plan["Properties"]
    assert props["ProtectedResource"] == {
        "S3Bucket": {"BucketName": {"Ref": _documents_bucket(template)}, "ObjectPrefixes": ["documents/"]}
    }
    assert props["Actions"] == {"Tagging": {"Status": "ENABLED"}}
    assert props["Role"] == {"Fn::GetAtt": [_guardduty_role(template), "Arn"]}
    # GuardDuty checks the role's permissions when it creates the plan
    assert any(d.startswith("MalwareScanningGuardDutyRoleDefaultPolicy") for d in plan["DependsOn"])


def test_the_plan_role_is_trusted_by_guardduty_malware_protection_only(template: Any) -> None:
    role = _of_type(template, "AWS::IAM::Role")[_guardduty_role(template)]
    (trust,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust == {
        "Action": "sts:AssumeRole",
        "Effect": "Allow",
        "Principal": {"Service": "malware-protection-plan.guardduty.amazonaws.com"},
    }
    assert "ManagedPolicyArns" not in role["Properties"]


def test_the_plan_role_holds_the_documented_permissions_narrowed_to_this_bucket_and_key(template: Any) -> None:
    statements = {s["Sid"]: s for s in _policy_statements(template, _guardduty_role(template))}
    bucket = _documents_bucket(template)
    assert set(statements) == {
        "AllowManagedRuleToSendS3EventsToGuardDuty",
        "AllowGuardDutyToMonitorEventBridgeManagedRule",
        "AllowPostScanTag",
        "AllowEnableS3EventBridgeEvents",
        "AllowPutValidationObject",
        "AllowCheckBucketOwnership",
        "AllowMalwareScan",
        "AllowDecryptForMalwareScan",
    }
    rule = statements["AllowManagedRuleToSendS3EventsToGuardDuty"]
    assert sorted(rule["Action"]) == [
        "events:DeleteRule",
        "events:PutRule",
        "events:PutTargets",
        "events:RemoveTargets",
    ]
    assert resolve(rule["Resource"]).endswith(":rule/DO-NOT-DELETE-AmazonGuardDutyMalwareProtectionS3*")
    assert rule["Condition"] == {"StringLike": {"events:ManagedBy": GUARDDUTY_PRINCIPAL}}
    scan = statements["AllowMalwareScan"]
    assert sorted(scan["Action"]) == ["s3:GetObject", "s3:GetObjectVersion"]
    assert {resolve(r) for r in scan["Resource"]} == {
        f"{_arn(bucket)}/documents/*",
        f"{_arn(bucket)}/malware-protection-resource-validation-object",
    }
    tag = statements["AllowPostScanTag"]
    assert sorted(tag["Action"]) == [
        "s3:GetObjectTagging",
        "s3:GetObjectVersionTagging",
        "s3:PutObjectTagging",
        "s3:PutObjectVersionTagging",
    ]
    assert resolve(statements["AllowCheckBucketOwnership"]["Resource"]) == _arn(bucket)
    assert statements["AllowCheckBucketOwnership"]["Action"] == "s3:ListBucket"
    assert sorted(statements["AllowEnableS3EventBridgeEvents"]["Action"]) == [
        "s3:GetBucketNotification",
        "s3:PutBucketNotification",
    ]
    assert resolve(statements["AllowPutValidationObject"]["Resource"]).endswith(
        "/malware-protection-resource-validation-object"
    )


def test_the_plan_role_may_decrypt_with_the_documents_key_through_s3_only(template: Any) -> None:
    statements = {s["Sid"]: s for s in _policy_statements(template, _guardduty_role(template))}
    kms = statements["AllowDecryptForMalwareScan"]
    assert sorted(kms["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey"]
    bucket = _of_type(template, "AWS::S3::Bucket")[_documents_bucket(template)]
    documents_key = bucket["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"][0][
        "ServerSideEncryptionByDefault"
    ]["KMSMasterKeyID"]
    assert kms["Resource"] == documents_key
    assert resolve(kms["Condition"]["StringLike"]["kms:ViaService"]) == "s3.ref:AWS::Region.amazonaws.com"


# --- the result feed ---------------------------------------------------------------------------


def _result_rule(template: Any) -> dict[str, Any]:
    (rule,) = [
        r["Properties"] for r in _of_type(template, "AWS::Events::Rule").values() if "EventPattern" in r["Properties"]
    ]
    return rule


def test_the_rule_matches_guardduty_scan_results_for_the_documents_bucket_only(template: Any) -> None:
    pattern = _result_rule(template)["EventPattern"]
    assert pattern == {
        "source": ["aws.guardduty"],
        "detail-type": [RESULT_DETAIL_TYPE],
        "detail": {
            "s3ObjectDetails": {
                "bucketName": [{"Ref": _documents_bucket(template)}],
                "objectKey": [{"prefix": "documents/"}],
            }
        },
    }
    assert RESULT_DETAIL_TYPE == "GuardDuty Malware Protection Object Scan Result"


def test_results_go_through_an_encrypted_tls_only_queue_with_a_dead_letter_queue(template: Any) -> None:
    rule = _result_rule(template)
    (target,) = rule["Targets"]
    queue_id = target["Arn"]["Fn::GetAtt"][0]
    queues = _of_type(template, "AWS::SQS::Queue")
    queue = queues[queue_id]["Properties"]
    dead_letters = queue["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
    assert queue["RedrivePolicy"]["maxReceiveCount"] == 5
    assert queue["SqsManagedSseEnabled"] is True
    assert queues[dead_letters]["Properties"]["SqsManagedSseEnabled"] is True
    # what EventBridge cannot deliver lands in the same dead-letter queue
    assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": [dead_letters, "Arn"]}}
    # the queue policy lets this rule, and nothing else, send; and refuses plain HTTP
    (policy,) = [
        p["Properties"]["PolicyDocument"]["Statement"]
        for p in _of_type(template, "AWS::SQS::QueuePolicy").values()
        if {"Ref": queue_id} in p["Properties"]["Queues"]
    ]
    assert any(s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}} for s in policy)
    (send,) = [s for s in policy if s["Effect"] == "Allow"]
    assert send["Principal"] == {"Service": "events.amazonaws.com"}
    assert send["Condition"]["ArnEquals"]["aws:SourceArn"]["Fn::GetAtt"][0].startswith("MalwareScanningScanResultRule")


def test_the_upload_events_function_takes_scan_results_one_at_a_time(template: Any) -> None:
    queue_id = _result_rule(template)["Targets"][0]["Arn"]["Fn::GetAtt"][0]
    (mapping,) = [
        m["Properties"]
        for m in _of_type(template, "AWS::Lambda::EventSourceMapping").values()
        if m["Properties"]["EventSourceArn"] == {"Fn::GetAtt": [queue_id, "Arn"]}
    ]
    assert mapping["FunctionName"] == {"Ref": _function_ids(template)[UPLOAD_EVENTS]}
    assert mapping["BatchSize"] == 1
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    # six times the function's timeout, as for its object-created queue
    queue = _of_type(template, "AWS::SQS::Queue")[queue_id]["Properties"]
    fn = _of_type(template, "AWS::Lambda::Function")[_function_ids(template)[UPLOAD_EVENTS]]["Properties"]
    assert queue["VisibilityTimeout"] == 6 * fn["Timeout"]


# --- the bucket policy: exactly what it says ---------------------------------------------------------


def test_the_read_gate_denies_unless_clean_or_released_to_all_but_processing_and_guardduty(template: Any) -> None:
    s = _by_sid(template)["DenyReadingUnscannedDocuments"]
    assert s["Effect"] == "Deny"
    assert s["Principal"] == {"AWS": "*"}
    assert sorted(s["Action"]) == ["s3:GetObject", "s3:GetObjectVersion"]
    assert resolve(s["Resource"]) == f"{_arn(_documents_bucket(template))}/documents/*"
    assert s["Condition"]["StringNotEquals"] == {
        "s3:ExistingObjectTag/GuardDutyMalwareScanStatus": "NO_THREATS_FOUND",
        "s3:ExistingObjectTag/DocuServeScanRelease": "released",
    }
    exempt = {resolve(a) for a in s["Condition"]["ArnNotEquals"]["aws:PrincipalArn"]}
    assert exempt == {
        _arn(_function_role(template, UPLOAD_EVENTS)),
        _arn(_function_role(template, UPLOAD_JOBS)),
        _arn(_guardduty_role(template)),
    }
    assert set(s["Condition"]) == {"StringNotEquals", "ArnNotEquals"}


def test_only_guardduty_may_set_the_scan_status_tag(template: Any) -> None:
    s = _by_sid(template)["DenyScanStatusTagExceptByGuardDuty"]
    assert (s["Effect"], s["Principal"]) == ("Deny", {"AWS": "*"})
    assert sorted(s["Action"]) == ["s3:PutObject", "s3:PutObjectTagging", "s3:PutObjectVersionTagging"]
    assert resolve(s["Resource"]) == f"{_arn(_documents_bucket(template))}/*"
    assert s["Condition"] == {
        "ForAnyValue:StringEqualsIgnoreCase": {"s3:RequestObjectTagKeys": ["GuardDutyMalwareScanStatus"]},
        "ArnNotEquals": {"aws:PrincipalArn": {"Fn::GetAtt": [_guardduty_role(template), "Arn"]}},
    }


def test_only_the_members_function_may_set_the_release_tag_and_it_may(template: Any) -> None:
    members_role = _function_role(template, Function.MEMBERS.value)
    s = _by_sid(template)["DenyReleaseTagExceptByMembers"]
    assert (s["Effect"], s["Principal"]) == ("Deny", {"AWS": "*"})
    assert sorted(s["Action"]) == ["s3:PutObject", "s3:PutObjectTagging", "s3:PutObjectVersionTagging"]
    assert s["Condition"] == {
        "ForAnyValue:StringEqualsIgnoreCase": {"s3:RequestObjectTagKeys": ["DocuServeScanRelease"]},
        "ArnNotEquals": {"aws:PrincipalArn": {"Fn::GetAtt": [members_role, "Arn"]}},
    }
    (grant,) = [s for s in _policy_statements(template, members_role) if s.get("Sid") == "ReleaseUnscannableVersions"]
    assert sorted(grant["Action"]) == ["s3:PutObjectTagging", "s3:PutObjectVersionTagging"]
    assert resolve(grant["Resource"]).endswith("/documents/*")


def test_no_other_function_may_write_object_tags(template: Any) -> None:
    for spec in SPECS:
        if spec.name == Function.MEMBERS.value:
            continue
        for s in _policy_statements(template, _function_role(template, spec.name)):
            actions = [s["Action"]] if isinstance(s["Action"], str) else s["Action"]
            assert not [a for a in actions if "Tagging" in a or a in ("s3:*", "s3:Put*")], spec.name


def test_the_release_tag_names_agree_with_the_application() -> None:
    from docuserve.adapters import objects

    assert objects.RELEASE_TAG == RELEASE_TAG


# --- the bucket policy, attacked ---------------------------------------------------------------------


@pytest.fixture
def gate(dev: Any) -> Any:
    """A request evaluator on dev's documents-bucket policy, with its principals and object ARN."""
    statements = _bucket_statements(dev)
    roles = {spec.name: _arn(_function_role(dev, spec.name)) for spec in SPECS}
    roles["guardduty"] = _arn(_guardduty_role(dev))
    roles["admin"] = "arn:aws:iam::123456789012:role/Administrator"
    obj = f"{_arn(_documents_bucket(dev))}/documents/ws1/doc1/v1"

    def check(who: str, action: str, **kwargs: Any) -> list[str]:
        return denied(statements, Request(principal=roles[who], action=action, resource=obj, **kwargs))

    return check


UNSCANNED: dict[str, str] = {}
CLEAN_TAGS = {SCAN_STATUS_TAG: CLEAN}


@pytest.mark.parametrize("who", [Function.MEMBERS.value, Function.PUBLIC.value, TRASH_SWEEPER, "admin"])
@pytest.mark.parametrize(
    "tags",
    [
        UNSCANNED,
        {SCAN_STATUS_TAG: INFECTED},
        {SCAN_STATUS_TAG: "UNSUPPORTED"},
        {SCAN_STATUS_TAG: "FAILED"},
        {SCAN_STATUS_TAG: "no_threats_found"},  # a value in another case is not the clean verdict
        {RELEASE_TAG: "yes"},
        {"guarddutymalwarescanstatus": CLEAN},  # a look-alike key is not GuardDuty's tag
    ],
    ids=["untagged", "infected", "unsupported", "failed", "lowercase-value", "release-other-value", "lookalike-key"],
)
@pytest.mark.parametrize("action", ["s3:GetObject", "s3:GetObjectVersion"])
def test_nobody_but_processing_reads_a_document_that_is_not_clean_or_released(
    gate: Any, who: str, tags: dict[str, str], action: str
) -> None:
    assert gate(who, action, existing_tags=tags) == ["DenyReadingUnscannedDocuments"]


@pytest.mark.parametrize("who", [UPLOAD_EVENTS, UPLOAD_JOBS, "guardduty"])
def test_upload_processing_and_guardduty_read_unscanned_documents(gate: Any, who: str) -> None:
    assert gate(who, "s3:GetObject", existing_tags=UNSCANNED) == []
    assert gate(who, "s3:GetObjectVersion", existing_tags={SCAN_STATUS_TAG: INFECTED}) == []


@pytest.mark.parametrize(
    "tags", [CLEAN_TAGS, {SCAN_STATUS_TAG: "UNSUPPORTED", RELEASE_TAG: RELEASED}, {RELEASE_TAG: RELEASED}]
)
@pytest.mark.parametrize("who", [Function.MEMBERS.value, Function.PUBLIC.value])
def test_a_clean_or_released_document_is_served(gate: Any, who: str, tags: dict[str, str]) -> None:
    assert gate(who, "s3:GetObject", existing_tags=tags) == []


@pytest.mark.parametrize("key", [SCAN_STATUS_TAG, "guarddutymalwarescanstatus", "GUARDDUTYMALWARESCANSTATUS"])
@pytest.mark.parametrize("action", ["s3:PutObjectTagging", "s3:PutObjectVersionTagging", "s3:PutObject"])
# partner_uploads signs a partner's presigned PUTs: a partner's upload cannot carry a verdict either.
@pytest.mark.parametrize(
    "who", [Function.MEMBERS.value, Function.PARTNER_UPLOADS.value, UPLOAD_EVENTS, UPLOAD_JOBS, "admin"]
)
def test_nobody_but_guardduty_forges_a_scan_verdict(gate: Any, who: str, action: str, key: str) -> None:
    assert "DenyScanStatusTagExceptByGuardDuty" in gate(who, action, request_tags={key: CLEAN, "x": "y"})


def test_guardduty_writes_its_verdict(gate: Any) -> None:
    assert gate("guardduty", "s3:PutObjectTagging", request_tags=CLEAN_TAGS) == []
    assert gate("guardduty", "s3:PutObjectVersionTagging", request_tags=CLEAN_TAGS, existing_tags=UNSCANNED) == []


@pytest.mark.parametrize(
    "who",
    [
        Function.PUBLIC.value,
        Function.PARTNER_UPLOADS.value,
        UPLOAD_EVENTS,
        UPLOAD_JOBS,
        TRASH_SWEEPER,
        "guardduty",
        "admin",
    ],
)
@pytest.mark.parametrize("key", [RELEASE_TAG, "docuservescanrelease"])
def test_nobody_but_the_members_function_releases_a_version(gate: Any, who: str, key: str) -> None:
    found = gate(
        who, "s3:PutObjectVersionTagging", request_tags={key: RELEASED}, existing_tags={SCAN_STATUS_TAG: "FAILED"}
    )
    assert "DenyReleaseTagExceptByMembers" in found


def test_the_members_function_releases_an_unscannable_version(gate: Any) -> None:
    unscannable = {SCAN_STATUS_TAG: "UNSUPPORTED"}
    assert (
        gate(
            Function.MEMBERS.value,
            "s3:PutObjectVersionTagging",
            request_tags={RELEASE_TAG: RELEASED},
            existing_tags=unscannable,
        )
        == []
    )


@pytest.mark.parametrize(
    "action",
    ["s3:PutObjectTagging", "s3:PutObjectVersionTagging", "s3:DeleteObjectTagging", "s3:DeleteObjectVersionTagging"],
)
def test_an_infected_verdict_cannot_be_released_or_stripped(gate: Any, action: str) -> None:
    infected = {SCAN_STATUS_TAG: INFECTED}
    found = gate(Function.MEMBERS.value, action, request_tags={RELEASE_TAG: RELEASED}, existing_tags=infected)
    assert "DenyRetaggingInfectedDocuments" in found
    assert gate("guardduty", action, request_tags=CLEAN_TAGS, existing_tags=infected) == []


def test_the_simulator_sees_that_a_deny_with_two_operators_needs_both() -> None:
    # A deny read with one of its operators dropped would lock processing out: the simulator must
    # tell the two apart, or the attacks above prove nothing.
    statement = {
        "Effect": "Deny",
        "Action": ["s3:GetObject"],
        "Resource": "arn:test:b/*",
        "Condition": {
            "StringNotEquals": {"s3:ExistingObjectTag/GuardDutyMalwareScanStatus": "NO_THREATS_FOUND"},
            "ArnNotEquals": {"aws:PrincipalArn": ["arn:test:processing"]},
        },
    }
    processing = Request(principal="arn:test:processing", action="s3:GetObject", resource="arn:test:b/k")
    other = Request(principal="arn:test:members", action="s3:GetObject", resource="arn:test:b/k")
    assert denied([statement], processing) == []
    assert denied([statement], other) == ["0"]
    one_operator = {**statement, "Condition": {"StringNotEquals": statement["Condition"]["StringNotEquals"]}}
    assert denied([one_operator], processing) == ["0"]


# --- the overdue check and the alarms ---------------------------------------------------------------


def test_every_15_minutes_the_sweeper_runs_the_overdue_scan_check(template: Any) -> None:
    sweeper = _function_ids(template)[TRASH_SWEEPER]
    (rule,) = [
        r["Properties"]
        for r in _of_type(template, "AWS::Events::Rule").values()
        if r["Properties"].get("ScheduleExpression") == "rate(15 minutes)"
        and r["Properties"]["Targets"][0]["Arn"] == {"Fn::GetAtt": [sweeper, "Arn"]}  # not the audit checkpoints
    ]
    assert OVERDUE_SCHEDULE.expression_string == "rate(15 minutes)"
    (target,) = rule["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": [sweeper, "Arn"]}
    assert target["Input"] == '{"task":"scan_overdue"}'
    assert OVERDUE_TASK == {"task": "scan_overdue"}


def _alarm(template: Any, name_suffix: str) -> dict[str, Any]:
    (alarm,) = [
        a["Properties"]
        for a in _of_type(template, "AWS::CloudWatch::Alarm").values()
        if a["Properties"]["AlarmName"].endswith(name_suffix)
    ]
    return alarm


def test_overdue_scans_alarm_the_topic(template: Any) -> None:
    alarm = _alarm(template, "-scans-overdue")
    assert (alarm["Namespace"], alarm["MetricName"]) == ("DocuServe", SCANS_OVERDUE) == ("DocuServe", "ScansOverdue")
    assert "Dimensions" not in alarm
    assert (alarm["Statistic"], alarm["Period"], alarm["EvaluationPeriods"]) == ("Sum", 900, 1)
    assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (1, "GreaterThanOrEqualToThreshold")
    assert alarm["TreatMissingData"] == "notBreaching"
    (topic,) = template.find_resources("AWS::SNS::Topic")
    assert alarm["AlarmActions"] == [{"Ref": topic}]


def test_a_scan_result_in_the_dead_letter_queue_alarms(template: Any) -> None:
    alarm = _alarm(template, "-scan-result-dead-letters")
    dead_letters = alarm["Dimensions"][0]["Value"]["Fn::GetAtt"][0]
    assert dead_letters.startswith("MalwareScanningScanResultsDeadLetters")
    assert (alarm["MetricName"], alarm["Statistic"], alarm["Threshold"]) == (
        "ApproximateNumberOfMessagesVisible",
        "Maximum",
        1,
    )
    outputs = template.to_json()["Outputs"]
    assert {"ScanResultDeadLetterQueueUrl", "ScanResultDeadLetterQueueArn"} <= set(outputs)


# --- a stage with scanning off ----------------------------------------------------------------------


def test_scanning_off_builds_no_plan_gate_feed_or_overdue_check(variant: Any) -> None:
    assert not variant.find_resources("AWS::GuardDuty::MalwareProtectionPlan")
    assert [r for r in _of_type(variant, "AWS::Events::Rule").values() if "EventPattern" in r["Properties"]] == []
    schedules = [
        r["Properties"]["ScheduleExpression"]
        for lid, r in _of_type(variant, "AWS::Events::Rule").items()
        # signs audit chains, and sends the due files-arrived mails, scanning or not
        if not lid.startswith(("AuditCheckpoints", "AuditStream"))
    ]
    assert schedules == ["cron(17 3 * * ? *)"]
    sids = set(_by_sid(variant))
    assert not {s for s in sids if "Scan" in s or "Release" in s or "Infected" in s}
    assert {"DenyWrongEncryption", "DenyOtherKmsKeys"} <= sids
    members = _policy_statements(variant, _function_role(variant, Function.MEMBERS.value))
    assert not [s for s in members if s.get("Sid") == "ReleaseUnscannableVersions"]
    names = {a["Properties"]["AlarmName"] for a in _of_type(variant, "AWS::CloudWatch::Alarm").values()}
    assert not {n for n in names if "scan" in n}
    upload_events = {"Ref": _function_ids(variant)[UPLOAD_EVENTS]}
    mappings = _of_type(variant, "AWS::Lambda::EventSourceMapping").values()
    assert len([m for m in mappings if m["Properties"]["FunctionName"] == upload_events]) == 1


def test_scanning_off_tells_every_function(variant: Any, template: Any) -> None:
    for tpl, expected in ((variant, "off"), (template, "on")):
        for fn in _of_type(tpl, "AWS::Lambda::Function").values():
            if str(fn["Properties"].get("Handler", "")).startswith("handlers."):
                variables = fn["Properties"]["Environment"]["Variables"]
                assert variables["MALWARE_SCANNING"] == expected
                assert variables["SCAN_TIMEOUT_MINUTES"] == "60"
