"""Audit checkpoints in the stack: a 15-minute schedule runs the function, whose role can only sign heads."""

from __future__ import annotations

from typing import Any

from infra.functions import AUDIT_CHECKPOINTS, SPECS
from tests.infra.test_audit_stream_and_share_roles import _item_statements, _role_statements


def _logical_id(template: Any) -> str:
    spec = next(s for s in SPECS if s.name == AUDIT_CHECKPOINTS)
    (logical_id,) = [
        lid
        for lid, fn in template.find_resources("AWS::Lambda::Function").items()
        if fn["Properties"].get("Handler") == spec.handler
    ]
    return str(logical_id)


def test_a_15_minute_schedule_targets_the_checkpoints_function(template: Any) -> None:
    fn = _logical_id(template)
    (rule,) = [
        r["Properties"]
        for lid, r in template.find_resources("AWS::Events::Rule").items()
        if lid.startswith("AuditCheckpoints")
    ]
    assert rule["ScheduleExpression"] == "rate(15 minutes)"
    (target,) = rule["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": [fn, "Arn"]}
    assert target["RetryPolicy"]["MaximumRetryAttempts"] == 2


def test_the_checkpoints_role_queries_only_the_sparse_index_and_touches_only_chain_items(template: Any) -> None:
    found = {
        (
            tuple(sorted([s["Action"]] if isinstance(s["Action"], str) else s["Action"])),
            json_resource(s),
        )
        for s in _item_statements(_role_statements(template, AUDIT_CHECKPOINTS))
    }
    assert found == {
        (("dynamodb:Query",), "index/gsi4"),
        (("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"), "CHAIN#*"),
    }


def json_resource(statement: dict[str, Any]) -> str:
    """What a statement is scoped to: its LeadingKeys prefix, or the index it names."""
    condition = statement.get("Condition", {}).get("ForAllValues:StringLike", {}).get("dynamodb:LeadingKeys")
    if condition:
        (prefix,) = condition
        return str(prefix)
    resource = statement["Resource"]
    parts = resource["Fn::Join"][1] if isinstance(resource, dict) else [resource]
    return str(parts[-1]).lstrip("/")
