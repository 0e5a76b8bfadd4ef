"""Share links in the stack: the audit-stream function's event source, and the narrow roles."""

from __future__ import annotations

import json
from typing import Any

from docuserve.routes import Function
from infra.functions import AUDIT_STREAM, SPECS


def _role_statements(template: Any, function: str) -> list[dict[str, Any]]:
    by_handler = {
        props["Properties"]["Handler"]: props["Properties"]
        for props in template.find_resources("AWS::Lambda::Function").values()
        if "Handler" in props["Properties"]
    }
    spec = next(s for s in SPECS if s.name == function)
    role_ref = by_handler[spec.handler]["Role"]["Fn::GetAtt"][0]
    statements: list[dict[str, Any]] = []
    for policy in template.find_resources("AWS::IAM::Policy").values():
        if {"Ref": role_ref} in policy["Properties"]["Roles"]:
            statements.extend(policy["Properties"]["PolicyDocument"]["Statement"])
    return statements


_STREAM_READS = ("dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:ListStreams")


def _item_statements(statements: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Statements on table items (the event source's stream-read grant aside)."""
    out = []
    for s in statements:
        actions = [s["Action"]] if isinstance(s["Action"], str) else s["Action"]
        if any(a.startswith("dynamodb:") for a in actions) and not any(a in _STREAM_READS for a in actions):
            out.append(s)
    return out


def _item_grants(template: Any, function: str) -> set[tuple[tuple[str, ...], tuple[str, ...]]]:
    return {
        (tuple(sorted([s["Action"]] if isinstance(s["Action"], str) else s["Action"])),
         tuple(s["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"]))
        for s in _item_statements(_role_statements(template, function))
    }  # fmt: skip


def test_the_public_function_reaches_only_link_items(template: Any) -> None:
    """Share links: get and update link items, nothing else. Every share link hits this function,
    so it holds no write of a document, an upload session, a workspace or an audit item: upload
    requests are the partner-uploads function's (below)."""
    assert _item_grants(template, Function.PUBLIC.value) == {
        (("dynamodb:GetItem", "dynamodb:UpdateItem"), ("LINK#*",)),
    }


def test_the_partner_uploads_function_reaches_only_the_items_partner_uploads_need(template: Any) -> None:
    """Upload requests (issue 17): a partner's upload writes the same items as a member's (document,
    version, session, workspace counters, audit) and the request's own (budget, codes, lockout), by
    partition prefix only; never a query, a scan or a batch write, never a membership write."""
    assert _item_grants(template, Function.PARTNER_UPLOADS.value) == {
        (("dynamodb:BatchGetItem", "dynamodb:GetItem"), ("LINK#*", "SETTINGS#*", "UPLOAD#*", "DOC#*", "WS#*")),
        (
            ("dynamodb:ConditionCheckItem", "dynamodb:DeleteItem", "dynamodb:PutItem", "dynamodb:UpdateItem"),
            ("DOC#*", "UPLOAD#*", "WS#*", "AUDIT#*", "LINK#*"),
        ),
    }


def _scope(statement: dict[str, Any]) -> tuple[str, ...]:
    """A statement's LeadingKeys prefixes, or else the part of the table it names (an index)."""
    condition = statement.get("Condition", {}).get("ForAllValues:StringLike", {}).get("dynamodb:LeadingKeys")
    if condition:
        return tuple(condition)
    resource = statement["Resource"]
    parts = resource["Fn::Join"][1] if isinstance(resource, dict) else [resource]
    return (str(parts[-1]).lstrip("/"),)


def test_the_audit_stream_function_can_only_append_audit_items(template: Any) -> None:
    """Append audit items; besides, for the download and files-arrived mails, claim them on the link
    or request item (and mark a request's due mail there) and read the creator's preferences,
    find the due files-arrived mails on the sparse gsi4 only, and append to the audit chains (head,
    link, marker in CHAIN# partitions): nothing else, no scan, no delete, no put outside AUDIT#
    and CHAIN#."""
    found = {
        (s["Action"] if isinstance(s["Action"], str) else tuple(sorted(s["Action"])), _scope(s))
        for s in _item_statements(_role_statements(template, AUDIT_STREAM))
    }
    assert found == {
        ("dynamodb:PutItem", ("AUDIT#*",)),
        ("dynamodb:UpdateItem", ("LINK#*",)),
        ("dynamodb:GetItem", ("NOTIFY#*",)),
        ("dynamodb:Query", ("index/gsi4",)),
        (("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"), ("CHAIN#*",)),
    }


def test_every_15_minutes_the_audit_stream_function_sends_the_due_files_arrived_mails(template: Any) -> None:
    """Upload requests: files that arrived within the hour after a mail are mailed once it is over,
    by a schedule that hands the function its task (docuserve.upload_requests.arrivals.send_due)."""
    spec = next(s for s in SPECS if s.name == AUDIT_STREAM)
    (function,) = [
        lid for lid, fn in template.find_resources("AWS::Lambda::Function").items()
        if fn["Properties"].get("Handler") == spec.handler
    ]  # fmt: skip
    (rule,) = [
        r["Properties"]
        for lid, r in template.find_resources("AWS::Events::Rule").items()
        if lid.startswith("AuditStreamFilesArrivedDue")
    ]
    assert rule["ScheduleExpression"] == "rate(15 minutes)"
    assert rule["State"] == "ENABLED"
    (target,) = rule["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": [function, "Arn"]}
    assert json.loads(target["Input"]) == {"task": "files_arrived_due"}
    assert target["RetryPolicy"]["MaximumRetryAttempts"] == 2
    (permission,) = [
        p["Properties"]
        for p in template.find_resources("AWS::Lambda::Permission").values()
        if p["Properties"]["Principal"] == "events.amazonaws.com"
        and p["Properties"]["SourceArn"]["Fn::GetAtt"][0].startswith("AuditStreamFilesArrivedDue")
    ]
    assert permission["FunctionName"] == {"Fn::GetAtt": [function, "Arn"]}
    assert permission["Action"] == "lambda:InvokeFunction"
    # The local stack runs the same invocation on its own schedule (every minute).
    from local.schedules import files_arrived_due

    local = files_arrived_due(region="us-east-1", log=print)
    assert (local.function, local.event) == (AUDIT_STREAM, json.loads(target["Input"]))


def test_the_table_stream_feeds_link_events_to_the_audit_function_with_retries_and_a_failure_queue(
    template: Any,
) -> None:
    mappings = [
        m["Properties"]
        for m in template.find_resources("AWS::Lambda::EventSourceMapping").values()
        if "StartingPosition" in m["Properties"]
    ]
    (mapping,) = mappings
    assert mapping["StartingPosition"] == "TRIM_HORIZON"
    assert mapping["BisectBatchOnFunctionError"] is True
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["MaximumRetryAttempts"] >= 3
    assert "OnFailure" in mapping["DestinationConfig"]
    # Link items with an event, and (upload requests) a partner's upload session that completed.
    link, landed, audit_items = (json.loads(c["Pattern"]) for c in mapping["FilterCriteria"]["Filters"])
    # Every new audit item, which the function hash-chains (docuserve.audit_chain).
    assert audit_items == {
        "eventName": ["INSERT"],
        "dynamodb": {"NewImage": {"pk": {"S": [{"prefix": "AUDIT#"}]}, "type": {"S": ["audit"]}}},
    }
    pattern = link
    assert pattern["dynamodb"]["NewImage"]["pk"] == {"S": [{"prefix": "LINK#"}]}
    assert landed["dynamodb"]["NewImage"] == {
        "pk": {"S": [{"prefix": "UPLOAD#"}]},
        "partner": {"BOOL": [True]},
        "status": {"S": ["completed"]},
    }
