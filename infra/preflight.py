"""``make preflight STAGE=prod``: what a deploy assumes of the account and region, checked first.

A template can be perfect and still fail half-way through its first deploy, because the account is
missing something the stack does not (and must not) create itself. Each check here reads, with the
operator's own credentials, one such assumption, and a failure names its fix. Nothing is changed.

- the CDK bootstrap stack (``CDKToolkit``) exists, finished, at a version the templates accept;
- the pinned Powertools layer is published in the region (its public SSM parameter);
- API Gateway's account-wide CloudWatch Logs role is set (a stage logs executions but never owns
  that account setting: ``make account-setup`` sets it once);
- the SES identity of ``mail_from`` is verified for sending, when the stage sets one.

Run: ``python -m infra.preflight --stage prod`` (exit 1 when a check fails).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from infra.config import ConfigError, StageConfig, load_stage

BOOTSTRAP_STACK = "CDKToolkit"
BOOTSTRAP_QUALIFIER = "hnb659fds"  # CDK's default qualifier; the app does not change it
BOOTSTRAP_VERSION_PARAMETER = f"/cdk-bootstrap/{BOOTSTRAP_QUALIFIER}/version"
# The oldest bootstrap version the synthesized templates accept (their CheckBootstrapVersion rule
# and the cloud assembly manifest, whose lookup role asks the most; tests/infra/test_deploy_review.py
# keeps this in step with them).
MIN_BOOTSTRAP_VERSION = 8
_STABLE = ("CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE", "IMPORT_COMPLETE")


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def check_bootstrap(session: boto3.Session) -> Check:
    name = "CDK bootstrap"
    bootstrap = f"npx cdk bootstrap aws://{{account}}/{session.region_name}"
    try:
        stacks = session.client("cloudformation").describe_stacks(StackName=BOOTSTRAP_STACK)["Stacks"]
    except ClientError as exc:
        if "does not exist" in str(exc):
            return Check(name, False, f"no {BOOTSTRAP_STACK} stack in {session.region_name}", f"run: {bootstrap}")
        raise
    status = stacks[0]["StackStatus"]
    if status not in _STABLE:
        return Check(name, False, f"{BOOTSTRAP_STACK} is {status}", f"repair or delete it, then run: {bootstrap}")
    try:
        raw = session.client("ssm").get_parameter(Name=BOOTSTRAP_VERSION_PARAMETER)["Parameter"]["Value"]
    except ClientError as exc:
        if _code(exc) != "ParameterNotFound":
            raise
        return Check(name, False, f"{BOOTSTRAP_VERSION_PARAMETER} is missing", f"re-run: {bootstrap}")
    version = int(raw) if raw.isdigit() else 0
    if version < MIN_BOOTSTRAP_VERSION:
        return Check(
            name,
            False,
            f"bootstrap version {raw} is older than {MIN_BOOTSTRAP_VERSION}",
            f"upgrade it: {bootstrap}",
        )
    return Check(name, True, f"{BOOTSTRAP_STACK} {status}, version {version}")


def check_powertools(session: boto3.Session) -> Check:
    from infra.functions import POWERTOOLS_LAYER_PARAMETER

    name = "Powertools layer"
    try:
        arn = session.client("ssm").get_parameter(Name=POWERTOOLS_LAYER_PARAMETER)["Parameter"]["Value"]
    except ClientError as exc:
        if _code(exc) != "ParameterNotFound":
            raise
        return Check(
            name,
            False,
            f"{POWERTOOLS_LAYER_PARAMETER} is not published in {session.region_name}",
            "deploy to a region where AWS publishes this Powertools version, or pin one it publishes "
            "(POWERTOOLS_VERSION in infra/functions.py and aws-lambda-powertools in pyproject.toml)",
        )
    return Check(name, True, arn)


def check_api_gateway_logging(session: boto3.Session) -> Check:
    name = "API Gateway logging role"
    role_arn = session.client("apigateway").get_account().get("cloudwatchRoleArn")
    if not role_arn:
        return Check(
            name,
            False,
            "the account has no CloudWatch Logs role for API Gateway; a stage with execution logging fails to deploy",
            "run once per account and region: make account-setup",
        )
    role_name = role_arn.rsplit("/", 1)[-1]
    try:
        session.client("iam").get_role(RoleName=role_name)
    except ClientError as exc:
        if _code(exc) != "NoSuchEntity":
            raise
        return Check(
            name,
            False,
            f"the account's role {role_arn} no longer exists (was it deleted with a stack that owned it?)",
            "run once per account and region: make account-setup",
        )
    return Check(name, True, role_arn)


def check_mail(session: boto3.Session, config: StageConfig) -> Check:
    name = "SES sender"
    if not config.mail_from:
        if config.retain_data:
            return Check(
                name,
                False,
                f"stages.{config.stage}.mail_from is not set: Cognito's own sender sends about 50 mails a day",
                "verify an address in SES (aws sesv2 create-email-identity) and set mail_from in cdk.json",
            )
        return Check(name, True, "Cognito's own sender (no mail_from on this stage)")
    try:
        identity = session.client("sesv2").get_email_identity(EmailIdentity=config.mail_from)
    except ClientError as exc:
        if _code(exc) != "NotFoundException":
            raise
        return Check(
            name,
            False,
            f"{config.mail_from} is not an SES identity in {session.region_name}",
            f"aws sesv2 create-email-identity --email-identity {config.mail_from}, then click the link SES mails",
        )
    if not identity.get("VerifiedForSendingStatus"):
        return Check(
            name,
            False,
            f"{config.mail_from} is not verified yet",
            "click the verification link SES mailed to it",
        )
    return Check(name, True, f"{config.mail_from} verified in {session.region_name}")


def run(session: boto3.Session, config: StageConfig) -> list[Check]:
    """Every check, in the order a deploy meets them; a check that cannot run is a failure."""
    results: list[Check] = []
    for name, check in (
        ("CDK bootstrap", lambda: check_bootstrap(session)),
        ("Powertools layer", lambda: check_powertools(session)),
        ("API Gateway logging role", lambda: check_api_gateway_logging(session)),
        ("SES sender", lambda: check_mail(session, config)),
    ):
        try:
            results.append(check())
        except (ClientError, BotoCoreError) as exc:
            results.append(Check(name, False, f"could not check: {exc}", "check the credentials' permissions"))
    return results


def _context(root: Path) -> dict[str, Any]:
    context: dict[str, Any] = json.loads((root / "cdk.json").read_text())["context"]
    return context


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--stage", default="dev")
    args = parser.parse_args(argv)
    try:
        config = load_stage(_context(Path(__file__).resolve().parents[1]), args.stage)
    except ConfigError as exc:
        print(f"FAIL  cdk.json: {exc}")
        return 1
    session = boto3.Session()
    if not session.region_name:
        print("FAIL  region: none configured; set AWS_REGION (or AWS_DEFAULT_REGION)")
        return 1
    try:
        account = session.client("sts").get_caller_identity()["Account"]
    except (ClientError, BotoCoreError) as exc:
        print(f"FAIL  credentials: {exc}")
        print("      fix: configure credentials for the target account (aws sts get-caller-identity)")
        return 1
    print(f"preflight for {config.stack_name} in account {account}, region {session.region_name}")
    results = run(session, config)
    for result in results:
        print(f"{'ok  ' if result.ok else 'FAIL'}  {result.name}: {result.detail}")
        if not result.ok:
            print(f"      fix: {result.fix.replace('{account}', account)}")
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
