"""Trash retention in the stack: a daily schedule runs the sweeper, whose role can only purge."""

from __future__ import annotations

from typing import Any

from infra.functions import SPECS, TRASH_SWEEPER
from infra.retention import SCHEDULE
from tests.infra.test_audit_stream_and_share_roles import _role_statements


def _actions(statements: list[dict[str, Any]]) -> set[str]:
    out: set[str] = set()
    for s in statements:
        out |= {s["Action"]} if isinstance(s["Action"], str) else set(s["Action"])
    return out


def _sweeper_logical_id(template: Any) -> str:
    spec = next(s for s in SPECS if s.name == TRASH_SWEEPER)
    (logical_id,) = [
        lid
        for lid, fn in template.find_resources("AWS::Lambda::Function").items()
        if fn["Properties"].get("Handler") == spec.handler
    ]
    return str(logical_id)


def test_a_daily_schedule_targets_the_sweeper_and_may_invoke_it(template: Any) -> None:
    sweeper = _sweeper_logical_id(template)
    rules = [
        r["Properties"]
        for r in template.find_resources("AWS::Events::Rule").values()
        if r["Properties"].get("ScheduleExpression", "").startswith("cron(")
    ]
    (rule,) = rules
    assert rule["ScheduleExpression"] == SCHEDULE.expression_string == "cron(17 3 * * ? *)"
    assert rule["State"] == "ENABLED"
    (target,) = rule["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": [sweeper, "Arn"]}
    assert target["RetryPolicy"]["MaximumRetryAttempts"] == 2
    permissions = [
        p["Properties"]
        for p in template.find_resources("AWS::Lambda::Permission").values()
        if p["Properties"]["Principal"] == "events.amazonaws.com"
        # the audit checkpoints' schedule has its own function (tests/infra/test_audit_checkpoints.py),
        # the due files-arrived mails theirs (tests/infra/test_audit_stream_and_share_roles.py)
        and not p["Properties"]["SourceArn"]["Fn::GetAtt"][0].startswith(("AuditCheckpoints", "AuditStream"))
    ]
    # the daily purge and, with malware scanning, the overdue-scan check (tests/infra/test_scanning.py)
    assert [p["FunctionName"] for p in permissions] == [{"Fn::GetAtt": [sweeper, "Arn"]}] * 2
    daily = [p for p in permissions if p["SourceArn"]["Fn::GetAtt"][0].startswith("TrashRetentionDaily")]
    assert len(daily) == 1


def test_the_sweeper_has_time_for_a_bounded_run(template: Any) -> None:
    fn = template.find_resources("AWS::Lambda::Function")[_sweeper_logical_id(template)]["Properties"]
    assert fn["Timeout"] == 900  # the sweep stops a minute before it (docuserve.retention.RESERVE_MS)


def test_the_sweepers_role_can_only_purge(template: Any) -> None:
    statements = _role_statements(template, TRASH_SWEEPER)
    actions = _actions(statements)
    assert not [a for a in actions if a.startswith("cognito")]
    assert "s3:PutObject" not in actions
    assert "s3:GetObject" not in actions
    assert not [a for a in actions if a.endswith("*") and a.startswith(("s3:", "dynamodb:"))]
    dynamo = sorted(a for a in actions if a.startswith("dynamodb:"))
    assert dynamo == [
        "dynamodb:DeleteItem",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:Query",
        "dynamodb:UpdateItem",
    ]
    assert sorted(a for a in actions if a.startswith("s3:")) == [
        "s3:AbortMultipartUpload",
        "s3:DeleteObject",
        "s3:DeleteObjectVersion",
        "s3:ListBucketVersions",
    ]
    (listing,) = [s for s in statements if s.get("Sid") == "ListVersionsForPurge"]
    assert listing["Condition"] == {"StringLike": {"s3:prefix": ["documents/*"]}}
    (objects,) = [s for s in statements if s.get("Sid") == "DeleteExpiredDocumentObjects"]
    assert objects["Resource"]["Fn::Join"][1][-1] == "/documents/*"
