"""Operations, per stage: the dashboard, the alarms and their topic, and the prod firewall."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from docuserve.observability import BusinessMetric
from infra.config import load_stage
from infra.functions import SPECS
from infra.monitoring import SCANS_OVERDUE
from infra.waf import BODY_SIZE_RULE
from tests.infra.conftest import stage_context, synth

BUSINESS_METRICS = [v for k, v in vars(BusinessMetric).items() if k.isupper()]
# Emitted once per deployment by the overdue-scan check, without dimensions (the alarm reads it so).
UNDIMENSIONED = {SCANS_OVERDUE}


def _resolve(value: Any) -> str:
    """A CloudFormation string with its tokens (Ref, GetAtt) replaced by a placeholder."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Fn::Join" in value:
        sep, parts = value["Fn::Join"]
        return str(sep).join(_resolve(p) for p in parts)
    return "TOKEN"


def _dashboard(template: Any) -> dict[str, Any]:
    (dashboard,) = template.find_resources("AWS::CloudWatch::Dashboard").values()
    body: dict[str, Any] = json.loads(_resolve(dashboard["Properties"]["DashboardBody"]))
    return body


def _graphs(template: Any) -> dict[str, list[Any]]:
    widgets = _dashboard(template)["widgets"]
    return {w["properties"]["title"]: w["properties"]["metrics"] for w in widgets if w["type"] == "metric"}


def _metric_names(metrics: list[Any]) -> list[str]:
    return [m[1] for m in metrics if isinstance(m[0], str)]


def _alarms(template: Any) -> dict[str, dict[str, Any]]:
    return {k: v["Properties"] for k, v in template.find_resources("AWS::CloudWatch::Alarm").items()}


def _topic_id(template: Any) -> str:
    (topic_id,) = template.find_resources("AWS::SNS::Topic").keys()
    return str(topic_id)


# --- dashboard ------------------------------------------------------------------------------


def test_dashboard_is_named_after_the_stage(template: Any) -> None:
    (dashboard,) = template.find_resources("AWS::CloudWatch::Dashboard").values()
    stage = json.loads(_resolve(dashboard["Properties"]["DashboardBody"]))["widgets"][0]["properties"]["markdown"]
    assert dashboard["Properties"]["DashboardName"] in ("docuserve-dev", "docuserve-prod")
    assert dashboard["Properties"]["DashboardName"].removeprefix("docuserve-") in stage


def test_dashboard_shows_api_requests_4xx_5xx_and_latency(template: Any) -> None:
    graphs = _graphs(template)
    assert set(_metric_names(graphs["API requests and errors"])) == {"Count", "4XXError", "5XXError"}
    latency = graphs["API latency (ms)"]
    assert "Latency" in _metric_names(latency)
    assert all(m[0] == "AWS/ApiGateway" and "Stage" in m for m in latency)


@pytest.mark.parametrize(
    ("title", "metric"),
    [("Function errors", "Errors"), ("Function throttles", "Throttles"), ("Function duration p99 (ms)", "Duration")],
)
def test_dashboard_shows_each_function(template: Any, title: str, metric: str) -> None:
    metrics = _graphs(template)[title]
    assert _metric_names(metrics) == [metric] * len(SPECS)
    assert sorted(m[-1]["label"] for m in metrics) == sorted(spec.name for spec in SPECS)


def test_dashboard_shows_dynamodb_throttles_and_dead_letter_depth(template: Any) -> None:
    graphs = _graphs(template)
    assert set(_metric_names(graphs["DynamoDB throttled requests"])) == {"ReadThrottleEvents", "WriteThrottleEvents"}
    queues = graphs["Upload processing queues"]
    assert any("dead letters" in m[-1]["label"] for m in queues)
    assert _metric_names(queues) == ["ApproximateNumberOfMessagesVisible"] * 2


def test_dashboard_shows_every_business_metric_summed_over_the_powertools_service_dimension(template: Any) -> None:
    expressions = [
        m[0]["expression"] for metrics in _graphs(template).values() for m in metrics if isinstance(m[0], dict)
    ]
    plain = [m[:2] for metrics in _graphs(template).values() for m in metrics if isinstance(m[0], str)]
    for name in BUSINESS_METRICS:
        if name in UNDIMENSIONED:
            assert ["DocuServe", name] in plain, name
            continue
        assert f"SUM(SEARCH('{{DocuServe,service}} MetricName=\"{name}\"', 'Sum', 300))" in expressions, name


def test_business_metrics_are_emitted_with_exactly_the_dimension_the_dashboard_searches(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a function whose Powertools service name is set, as the stack sets it
    from aws_lambda_powertools import Metrics

    from docuserve.observability import count

    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "docuserve-public")
    emitter = Metrics()  # shares the metric set with docuserve.observability.metrics
    # When a business event is counted
    count(BusinessMetric.PARTNER_DOWNLOADS)
    try:
        emf = emitter.serialize_metric_set()
    finally:
        emitter.clear_metrics()
    # Then it lands in namespace DocuServe with the single dimension ``service``
    (directive,) = emf["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == "DocuServe"
    assert directive["Dimensions"] == [["service"]]
    assert directive["Metrics"][0]["Name"] == BusinessMetric.PARTNER_DOWNLOADS
    assert emf["service"] == "docuserve-public"


def test_every_business_metric_on_the_dashboard_is_emitted_by_the_code() -> None:
    root = Path(__file__).resolve().parents[2]
    sources = [*(root / "layers" / "domain" / "python").rglob("*.py"), *(root / "functions").rglob("*.py")]
    text = "".join(p.read_text() for p in sources if p.name != "observability.py")
    for attribute, name in ((k, v) for k, v in vars(BusinessMetric).items() if k.isupper()):
        emitted = f"BusinessMetric.{attribute}" if name in UNDIMENSIONED else f"count(BusinessMetric.{attribute}"
        assert emitted in text, attribute


# --- alarms ---------------------------------------------------------------------------------


def test_api_5xx_alarm(template: Any) -> None:
    (alarm,) = [a for a in _alarms(template).values() if a.get("MetricName") == "5XXError"]
    assert alarm["Namespace"] == "AWS/ApiGateway"
    assert {d["Name"] for d in alarm["Dimensions"]} == {"ApiName", "Stage"}
    assert alarm["Threshold"] == 1
    assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"


@pytest.mark.parametrize("metric", ["Errors", "Throttles"])
def test_every_function_has_an_alarm(template: Any, metric: str) -> None:
    alarms = [a for a in _alarms(template).values() if a.get("MetricName") == metric]
    assert len(alarms) == len(SPECS)
    assert all(a["Namespace"] == "AWS/Lambda" and a["Dimensions"][0]["Name"] == "FunctionName" for a in alarms)


def test_dead_letter_and_audit_failure_queues_alarm_as_soon_as_one_message_lands(template: Any) -> None:
    alarms = [a for a in _alarms(template).values() if a.get("MetricName") == "ApproximateNumberOfMessagesVisible"]
    watched = {a["Dimensions"][0]["Value"]["Fn::GetAtt"][0] for a in alarms}
    queues = template.find_resources("AWS::SQS::Queue")
    # Every queue that only ever holds failures (no redrive of its own) is alarmed.
    parked = {k for k, q in queues.items() if "RedrivePolicy" not in q["Properties"]}
    # object-created, upload-jobs and scan-result dead letters, audit-stream failures
    assert len(parked) == 4
    assert watched == parked
    assert all(a["Threshold"] == 1 and a["Statistic"] == "Maximum" for a in alarms)


def test_stuck_upload_processing_alarms(template: Any) -> None:
    (alarm,) = [a for a in _alarms(template).values() if a.get("MetricName") == "ApproximateAgeOfOldestMessage"]
    assert alarm["Threshold"] >= 600


def test_alarms_have_names_an_operator_can_find(template: Any) -> None:
    names = {a["AlarmName"] for a in _alarms(template).values()}
    (dashboard,) = template.find_resources("AWS::CloudWatch::Dashboard").values()
    stage = dashboard["Properties"]["DashboardName"].removeprefix("docuserve-")
    expected = {
        f"docuserve-{stage}-{n}"
        for n in (
            "api-5xx",
            "upload-dead-letters",
            "upload-job-dead-letters",
            "audit-stream-failures",
            "upload-queue-stuck",
            "scan-result-dead-letters",
            "scans-overdue",
        )
    }
    expected |= {f"docuserve-{stage}-{spec.name}-{kind}" for spec in SPECS for kind in ("errors", "throttles")}
    assert names == expected


def test_every_alarm_notifies_the_topic_and_treats_no_data_as_fine(template: Any) -> None:
    topic = {"Ref": _topic_id(template)}
    alarms = _alarms(template)
    assert len(alarms) == 1 + 2 * len(SPECS) + 6
    for name, alarm in alarms.items():
        assert alarm["AlarmActions"] == [topic], name
        assert alarm["OKActions"] == [topic], name
        assert alarm["TreatMissingData"] == "notBreaching", name
        assert alarm["AlarmDescription"], name


def test_alarm_topic_is_kms_encrypted_with_a_rotating_key(template: Any) -> None:
    (topic,) = template.find_resources("AWS::SNS::Topic").values()
    key_id = topic["Properties"]["KmsMasterKeyId"]["Fn::GetAtt"][0]
    key = template.find_resources("AWS::KMS::Key")[key_id]
    assert key["Properties"]["EnableKeyRotation"] is True
    statements = key["Properties"]["KeyPolicy"]["Statement"]
    assert any(s.get("Principal") == {"Service": "cloudwatch.amazonaws.com"} for s in statements)


def test_alarm_topic_enforces_tls_and_only_this_accounts_alarms_publish(template: Any) -> None:
    (policy,) = template.find_resources("AWS::SNS::TopicPolicy").values()
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    assert any(
        s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}} for s in statements
    )
    (publish,) = [s for s in statements if s["Effect"] == "Allow"]
    assert publish["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert publish["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
    assert ":alarm:*" in _resolve(publish["Condition"]["ArnLike"]["aws:SourceArn"])


def test_no_email_subscription_without_an_alarm_email(dev: Any) -> None:
    assert not dev.find_resources("AWS::SNS::Subscription")


def test_prod_always_subscribes_an_alarm_email(prod: Any) -> None:
    """Prod cannot synthesize without one (tests and ``make synth`` pass a check-only fallback)."""
    (subscription,) = prod.find_resources("AWS::SNS::Subscription").values()
    assert subscription["Properties"]["Endpoint"] == "synth-check@example.com"


def test_alarm_email_subscribes_to_the_topic(tmp_path: Path) -> None:
    context = copy.deepcopy(stage_context())
    context["stages"]["dev"]["alarm_email"] = "ops@example.com"
    template = synth("dev", tmp_path, context)
    (subscription,) = template.find_resources("AWS::SNS::Subscription").values()
    assert subscription["Properties"]["Protocol"] == "email"
    assert subscription["Properties"]["Endpoint"] == "ops@example.com"
    assert subscription["Properties"]["TopicArn"] == {"Ref": _topic_id(template)}


def test_alarm_key_is_retained_in_prod_and_torn_down_in_dev(prod: Any, dev: Any) -> None:
    for template, policy in ((prod, "Retain"), (dev, "Delete")):
        (topic,) = template.find_resources("AWS::SNS::Topic").values()
        key_id = topic["Properties"]["KmsMasterKeyId"]["Fn::GetAtt"][0]
        assert template.find_resources("AWS::KMS::Key")[key_id]["DeletionPolicy"] == policy


# --- WAF (prod) -----------------------------------------------------------------------------


def test_prod_waf_rate_limit_comes_from_the_stage_setting(prod: Any) -> None:
    (acl,) = prod.find_resources("AWS::WAFv2::WebACL").values()
    rules = {r["Name"]: r for r in acl["Properties"]["Rules"]}
    rate = rules["public-rate-limit"]
    assert rate["Action"] == {"Block": {}}
    assert rate["Statement"]["RateBasedStatement"]["AggregateKeyType"] == "IP"
    expected = load_stage(stage_context(), "prod").waf_public_rate_per_5min
    assert rate["Statement"]["RateBasedStatement"]["Limit"] == expected


def test_prod_waf_counts_large_bodies_so_big_multipart_uploads_can_complete(prod: Any) -> None:
    # Completing a 5 TiB upload lists 10,000 parts, far beyond the common rule set's 8 KB body rule.
    (acl,) = prod.find_resources("AWS::WAFv2::WebACL").values()
    common = next(r for r in acl["Properties"]["Rules"] if r["Name"] == "aws-common")
    overrides = common["Statement"]["ManagedRuleGroupStatement"]["RuleActionOverrides"]
    assert overrides == [{"Name": BODY_SIZE_RULE, "ActionToUse": {"Count": {}}}]


def test_prod_waf_is_associated_with_the_api_stage(prod: Any) -> None:
    (association,) = prod.find_resources("AWS::WAFv2::WebACLAssociation").values()
    assert "ResourceArn" in association["Properties"]


def test_operators_find_the_topic_dashboard_and_dead_letter_queue_in_the_stack_outputs(template: Any) -> None:
    outputs = template.to_json()["Outputs"]
    for name in ("AlarmTopicArn", "DashboardName", "UploadDeadLetterQueueUrl", "UploadDeadLetterQueueArn"):
        assert name in outputs, name


# --- cold starts ----------------------------------------------------------------------------


def test_snapstart_stays_off_until_the_runbook_decision_changes(template: Any) -> None:
    # docs/operations.md, "Cold starts and SnapStart", says why; turning it on must update both.
    runbook = (Path(__file__).resolve().parents[2] / "docs" / "operations.md").read_text()
    assert "**Decision: SnapStart is not enabled, for now.**" in runbook
    for function in template.find_resources("AWS::Lambda::Function").values():
        assert "SnapStart" not in function["Properties"]
