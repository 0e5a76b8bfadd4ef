"""``make preflight`` and ``make account-setup`` against an account on moto.

Each check passes on a ready account, fails on one that lacks what it checks, and names the fix.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import boto3
import pytest

from infra import account_setup, preflight
from infra.config import load_stage
from infra.functions import POWERTOOLS_LAYER_PARAMETER

ROOT = Path(__file__).resolve().parents[2]
CONTEXT: dict[str, Any] = json.loads((ROOT / "cdk.json").read_text())["context"]
DEV = load_stage(CONTEXT, "dev")
PROD = replace(load_stage({**CONTEXT, "alarm_email_fallback": "ops@example.com"}, "prod"), mail_from="docs@example.com")
BOOTSTRAP_TEMPLATE = json.dumps({"Resources": {"Bucket": {"Type": "AWS::S3::Bucket"}}})


@pytest.fixture
def session(monkeypatch: pytest.MonkeyPatch) -> Iterator[boto3.Session]:
    from moto import mock_aws

    monkeypatch.setenv("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")  # AWS's managed policies exist in an account

    with mock_aws():
        yield boto3.Session(region_name="eu-west-1")


def _bootstrap(session: boto3.Session, version: str = "21") -> None:
    session.client("cloudformation").create_stack(StackName="CDKToolkit", TemplateBody=BOOTSTRAP_TEMPLATE)
    session.client("ssm").put_parameter(Name=preflight.BOOTSTRAP_VERSION_PARAMETER, Value=version, Type="String")


def _publish_public_parameter(name: str, value: str, region: str = "eu-west-1") -> None:
    """What AWS does when it publishes a Powertools release (callers may not write under /aws/)."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ssm.models import Parameter, ssm_backends

    backend = ssm_backends[DEFAULT_ACCOUNT_ID][region]
    backend._parameters[name].append(
        Parameter(
            account_id=DEFAULT_ACCOUNT_ID,
            name=name,
            value=value,
            parameter_type="String",
            description=None,
            allowed_pattern=None,
            keyid=None,
            last_modified_date=0,
            version=1,
            data_type="text",
        )
    )


def _click_verification_link(address: str, region: str = "eu-west-1") -> None:
    """What the owner of the address does with the mail SES sends on create-email-identity."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.sesv2.models import sesv2_backends

    sesv2_backends[DEFAULT_ACCOUNT_ID][region].get_email_identity(address).verified_for_sending_status = True


def _ready(session: boto3.Session) -> None:
    """An account where a prod deploy can succeed."""
    _bootstrap(session)
    _publish_public_parameter(
        POWERTOOLS_LAYER_PARAMETER,
        "arn:aws:lambda:eu-west-1:017000801446:layer:AWSLambdaPowertoolsPythonV3-python313-arm64:20",
    )
    account_setup.ensure_api_gateway_logging_role(session)
    session.client("sesv2").create_email_identity(EmailIdentity="docs@example.com")
    _click_verification_link("docs@example.com")


def _by_name(results: list[preflight.Check]) -> dict[str, preflight.Check]:
    return {r.name: r for r in results}


def test_a_ready_account_passes_every_check(session: boto3.Session) -> None:
    _ready(session)
    results = preflight.run(session, PROD)
    assert [r.name for r in results] == ["CDK bootstrap", "Powertools layer", "API Gateway logging role", "SES sender"]
    assert all(r.ok for r in results), results


def test_an_empty_account_fails_every_check_and_names_each_fix(session: boto3.Session) -> None:
    checks = _by_name(preflight.run(session, PROD))
    assert not any(c.ok for c in checks.values())
    assert "cdk bootstrap" in checks["CDK bootstrap"].fix
    assert "POWERTOOLS_VERSION" in checks["Powertools layer"].fix
    assert checks["API Gateway logging role"].fix.endswith("make account-setup")
    assert "create-email-identity --email-identity docs@example.com" in checks["SES sender"].fix


def test_an_old_bootstrap_is_named_with_its_version(session: boto3.Session) -> None:
    _bootstrap(session, version="5")
    check = preflight.check_bootstrap(session)
    assert not check.ok
    assert "version 5 is older than 8" in check.detail
    assert "upgrade" in check.fix


def test_a_bootstrap_stack_without_its_version_parameter_fails(session: boto3.Session) -> None:
    session.client("cloudformation").create_stack(StackName="CDKToolkit", TemplateBody=BOOTSTRAP_TEMPLATE)
    check = preflight.check_bootstrap(session)
    assert (check.ok, check.detail) == (False, f"{preflight.BOOTSTRAP_VERSION_PARAMETER} is missing")


def test_a_logging_role_deleted_behind_the_account_setting_is_caught(session: boto3.Session) -> None:
    role = account_setup.ensure_api_gateway_logging_role(session)
    iam = session.client("iam")
    for policy in iam.list_attached_role_policies(RoleName=account_setup.ROLE_NAME)["AttachedPolicies"]:
        iam.detach_role_policy(RoleName=account_setup.ROLE_NAME, PolicyArn=policy["PolicyArn"])
    iam.delete_role(RoleName=account_setup.ROLE_NAME)

    check = preflight.check_api_gateway_logging(session)
    assert not check.ok
    assert role in check.detail
    # ... and the setup repairs it.
    assert account_setup.ensure_api_gateway_logging_role(session) == role
    assert preflight.check_api_gateway_logging(session).ok


def test_account_setup_is_idempotent_and_keeps_a_role_the_account_already_uses(session: boto3.Session) -> None:
    iam = session.client("iam")
    trust = json.dumps(account_setup._TRUST)
    theirs = iam.create_role(RoleName="OrgApiGatewayLogs", AssumeRolePolicyDocument=trust)["Role"]["Arn"]
    session.client("apigateway").update_account(
        patchOperations=[{"op": "replace", "path": "/cloudwatchRoleArn", "value": theirs}]
    )
    assert account_setup.ensure_api_gateway_logging_role(session) == theirs
    assert account_setup.ensure_api_gateway_logging_role(session) == theirs
    assert not [r for r in iam.list_roles()["Roles"] if r["RoleName"] == account_setup.ROLE_NAME]


def test_account_setup_creates_the_role_api_gateway_can_assume(session: boto3.Session) -> None:
    arn = account_setup.ensure_api_gateway_logging_role(session)
    iam = session.client("iam")
    role = iam.get_role(RoleName=account_setup.ROLE_NAME)["Role"]
    assert role["Arn"] == arn
    trust = role["AssumeRolePolicyDocument"]
    trust = json.loads(trust) if isinstance(trust, str) else trust
    assert trust["Statement"][0]["Principal"] == {"Service": "apigateway.amazonaws.com"}
    policies = iam.list_attached_role_policies(RoleName=account_setup.ROLE_NAME)["AttachedPolicies"]
    attached = [p["PolicyArn"] for p in policies]
    assert attached == ["arn:aws:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"]
    assert session.client("apigateway").get_account()["cloudwatchRoleArn"] == arn


def test_an_unverified_or_unknown_sender_fails_until_its_owner_clicks(session: boto3.Session) -> None:
    assert "is not an SES identity" in preflight.check_mail(session, PROD).detail
    session.client("sesv2").create_email_identity(EmailIdentity="docs@example.com")
    pending = preflight.check_mail(session, PROD)
    assert (pending.ok, pending.detail) == (False, "docs@example.com is not verified yet")
    _click_verification_link("docs@example.com")
    assert preflight.check_mail(session, PROD).ok


def test_a_stage_without_a_sender_is_judged_by_whether_it_keeps_data(session: boto3.Session) -> None:
    # dev may use Cognito's own sender; a stage that keeps data and invites real users may not
    assert preflight.check_mail(session, DEV).ok
    no_sender = preflight.check_mail(session, replace(PROD, mail_from=None))
    assert not no_sender.ok
    assert "50 mails a day" in no_sender.detail


def test_a_check_that_cannot_run_is_a_failure_not_a_crash(
    session: boto3.Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    from botocore.exceptions import ClientError

    def denied(_: boto3.Session) -> preflight.Check:
        raise ClientError({"Error": {"Code": "AccessDenied", "Message": "not allowed"}}, "GetAccount")

    monkeypatch.setattr(preflight, "check_api_gateway_logging", denied)
    _ready(session)
    checks = _by_name(preflight.run(session, PROD))
    assert not checks["API Gateway logging role"].ok
    assert "AccessDenied" in checks["API Gateway logging role"].detail


def test_the_command_exits_non_zero_and_prints_each_fix(
    session: boto3.Session, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    assert preflight.main(["--stage", "dev"]) == 1
    out = capsys.readouterr().out
    assert "FAIL  CDK bootstrap" in out
    assert "fix: run: npx cdk bootstrap aws://123456789012/eu-west-1" in out

    _ready(boto3.Session(region_name="eu-west-1"))
    assert preflight.main(["--stage", "dev"]) == 0
    assert "FAIL" not in capsys.readouterr().out
