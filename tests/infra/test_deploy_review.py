"""The deploy review: what an AWS reviewer checks beyond hard limits, each on the template."""

from __future__ import annotations

import copy
import json
import re
import tarfile
from pathlib import Path
from typing import Any

import pytest

from docuserve.routes import Function
from infra.config import ConfigError, load_stage
from tests.infra.conftest import ROOT, stage_context


def _resources(template: Any, type_: str) -> dict[str, Any]:
    return dict(template.find_resources(type_))


def _logical_id(template: Any, type_: str, description_part: str) -> str:
    (lid,) = [
        k
        for k, v in _resources(template, type_).items()
        if description_part in json.dumps(v["Properties"].get("Description", ""))
    ]
    return lid


def test_no_stage_creates_the_account_wide_api_gateway_logging_role(template: Any) -> None:
    """One per account and region: destroying dev must never break prod's logging."""
    assert _resources(template, "AWS::ApiGateway::Account") == {}
    roles = json.dumps(_resources(template, "AWS::IAM::Role"))
    assert "AmazonAPIGatewayPushToCloudWatchLogs" not in roles


def test_each_function_has_one_api_wide_invoke_permission(template: Any) -> None:
    perms = [
        p["Properties"]
        for p in _resources(template, "AWS::Lambda::Permission").values()
        if p["Properties"]["Principal"] == "apigateway.amazonaws.com"
    ]
    functions = [json.dumps(p["FunctionName"]) for p in perms]
    assert len(functions) == len(set(functions)) == len(Function)  # system, members, admin, public, partner_uploads
    for p in perms:
        assert json.dumps(p["SourceArn"]).endswith('"/*/*/*"]]}')


def test_execution_logs_go_to_a_log_group_the_stack_owns_with_retention(template: Any) -> None:
    (api_id,) = _resources(template, "AWS::ApiGateway::RestApi")
    groups = [
        g["Properties"]
        for g in _resources(template, "AWS::Logs::LogGroup").values()
        if "API-Gateway-Execution-Logs_" in json.dumps(g["Properties"].get("LogGroupName", ""))
    ]
    assert len(groups) == 1
    name = json.dumps(groups[0]["LogGroupName"])
    assert api_id in name
    assert name.endswith('"/api"]]}')
    assert groups[0]["RetentionInDays"] in (30, 365)
    (stage,) = _resources(template, "AWS::ApiGateway::Stage").values()
    assert any("ExecutionLogs" in d for d in stage.get("DependsOn", []))


def test_the_access_log_bucket_survives_a_dev_teardown_instead_of_failing_it(dev: Any) -> None:
    """S3 delivers access logs late; a log bucket emptied at teardown refills and blocks deletion."""
    buckets = _resources(dev, "AWS::S3::Bucket")
    (log_id,) = [k for k, v in buckets.items() if "LoggingConfiguration" not in v["Properties"] and "AccessLogs" in k]
    assert buckets[log_id]["DeletionPolicy"] == "Retain"
    auto_delete = json.dumps(_resources(dev, "Custom::S3AutoDeleteObjects"))
    assert log_id not in auto_delete
    assert "AccessLogBucket" in dev.to_json()["Outputs"]


def test_the_web_client_has_no_oauth_flows_or_callback_urls(template: Any) -> None:
    (client,) = _resources(template, "AWS::Cognito::UserPoolClient").values()
    props = client["Properties"]
    for key in ("AllowedOAuthFlows", "CallbackURLs", "LogoutURLs", "AllowedOAuthScopes"):
        assert not props.get(key), key
    assert not props.get("AllowedOAuthFlowsUserPoolClient")


def test_users_cannot_write_their_own_email(template: Any) -> None:
    (client,) = _resources(template, "AWS::Cognito::UserPoolClient").values()
    from docuserve.schema import CLIENT_WRITE_ATTRIBUTES

    writable = client["Properties"]["WriteAttributes"]
    assert sorted(writable) == sorted(CLIENT_WRITE_ATTRIBUTES)  # the local stack provisions the same
    assert writable
    assert "email" not in writable
    assert "email_verified" not in writable


def test_the_invite_mail_does_not_tell_users_to_sign_in_as_an_internal_username(template: Any) -> None:
    (pool,) = _resources(template, "AWS::Cognito::UserPool").values()
    body = pool["Properties"]["AdminCreateUserConfig"]["InviteMessageTemplate"]["EmailMessage"]
    assert "{username}" not in body
    assert "{####}" in body
    assert "e-mail address" in body


def test_the_trash_sweeper_is_never_retried_by_lambda(template: Any) -> None:
    """It fails on purpose so its errors alarm fires; Lambda re-running it would only repeat that."""
    sweeper = _logical_id(template, "AWS::Lambda::Function", "Purges documents trashed")
    configs = [
        c["Properties"]
        for c in _resources(template, "AWS::Lambda::EventInvokeConfig").values()
        if sweeper in json.dumps(c["Properties"]["FunctionName"])
    ]
    assert [c["MaximumRetryAttempts"] for c in configs] == [0]


def test_prod_refuses_to_synthesize_without_an_alarm_email() -> None:
    context = copy.deepcopy(stage_context())
    del context["alarm_email_fallback"]
    context["stages"]["prod"]["alarm_email"] = None
    with pytest.raises(ConfigError, match=r"stages\.prod\.alarm_email is required"):
        load_stage(context, "prod")
    assert load_stage(context, "dev").alarm_email is None  # dev may go without


def test_the_synth_fallback_never_replaces_a_configured_alarm_email() -> None:
    context = copy.deepcopy(stage_context())
    context["stages"]["prod"]["alarm_email"] = "ops@example.org"
    assert load_stage(context, "prod").alarm_email == "ops@example.org"


def _recommended_flags() -> dict[str, Any]:
    import aws_cdk

    (bundle,) = (Path(aws_cdk.__file__).parent / "_jsii").glob("aws-cdk-lib@*.jsii.tgz")
    with tarfile.open(bundle) as tar:
        member = tar.extractfile("package/recommended-feature-flags.json")
        assert member is not None
        flags: dict[str, Any] = json.load(member)
    return flags


def test_cdk_json_sets_every_recommended_feature_flag_of_the_pinned_aws_cdk_lib() -> None:
    """``cdk init`` writes these for a new project; an old project silently keeps legacy behaviour."""
    context = json.loads((ROOT / "cdk.json").read_text())["context"]
    recommended = _recommended_flags()
    assert len(recommended) > 50
    wrong = {k: (context.get(k), v) for k, v in recommended.items() if context.get(k) != v}
    assert wrong == {}


def test_gateway_error_answers_name_the_web_app_origin_and_the_limit_is_documented(template: Any) -> None:
    """A gateway response carries one static header value: it names the web app's own origin; other
    configured origins (local development) see gateway-made 4xx/5xx as network errors."""
    responses = _resources(template, "AWS::ApiGateway::GatewayResponse")
    assert {r["Properties"]["ResponseType"] for r in responses.values()} >= {"DEFAULT_4XX", "DEFAULT_5XX"}
    docs = (ROOT / "docs" / "operations.md").read_text()
    assert "gateway-made" in docs
    assert "first web origin" in docs


def _identity_template(**settings: Any) -> tuple[Any, Any]:
    """The Identity construct alone, in a stack of its own (seconds, not a whole stage's synth)."""
    from dataclasses import replace

    from aws_cdk import App, Stack
    from aws_cdk.assertions import Annotations, Template

    from infra.identity import Identity

    config = replace(load_stage(stage_context(), "prod"), **settings)
    stack = Stack(App(), "IdentityOnly")
    Identity(stack, "Identity", config=config)
    return Template.from_stack(stack), Annotations.from_stack(stack)


def test_cognito_mails_through_ses_from_the_stage_sender() -> None:
    template, _ = _identity_template(mail_from="docs@example.com")
    (pool,) = _resources(template, "AWS::Cognito::UserPool").values()
    mail = pool["Properties"]["EmailConfiguration"]
    assert mail["EmailSendingAccount"] == "DEVELOPER"
    assert mail["From"] == "DocuServe <docs@example.com>"
    # The identity is the stack's own account and region: where make preflight checks it.
    parts = mail["SourceArn"]["Fn::Join"][1]
    assert {"Ref": "AWS::Region"} in parts
    assert {"Ref": "AWS::AccountId"} in parts
    assert parts[-1] == ":identity/docs@example.com"


def test_a_stage_that_keeps_data_without_a_sender_is_warned_about_cognitos_daily_cap() -> None:
    from aws_cdk.assertions import Match

    template, annotations = _identity_template(mail_from=None)
    (pool,) = _resources(template, "AWS::Cognito::UserPool").values()
    assert "EmailConfiguration" not in pool["Properties"] or (
        pool["Properties"]["EmailConfiguration"].get("EmailSendingAccount") != "DEVELOPER"
    )
    annotations.has_warning("*", Match.string_like_regexp("mail_from is not set.*50 mails a day"))
    _, quiet = _identity_template(mail_from="docs@example.com")
    assert not quiet.find_warning("*", Match.string_like_regexp("mail_from"))


def test_mail_from_must_be_an_address() -> None:
    context = copy.deepcopy(stage_context())
    context["stages"]["prod"]["mail_from"] = "DocuServe"
    with pytest.raises(ConfigError, match=r"stages\.prod\.mail_from must be an email address"):
        load_stage(context, "prod")


def test_preflight_asks_for_the_bootstrap_version_the_assembly_requires(dev: Any, dev_out: Path) -> None:
    from infra.preflight import MIN_BOOTSTRAP_VERSION

    rule = dev.to_json()["Rules"]["CheckBootstrapVersion"]["Assertions"][0]["Assert"]
    refused = rule["Fn::Not"][0]["Fn::Contains"][0]
    manifest = (dev_out / "manifest.json").read_text()
    required = [int(v) for v in re.findall(r'"requiresBootstrapStackVersion":\s*(\d+)', manifest)]
    assert required, "the manifest names the bootstrap versions it needs"
    assert max([*required, max(int(v) for v in refused) + 1]) == MIN_BOOTSTRAP_VERSION
