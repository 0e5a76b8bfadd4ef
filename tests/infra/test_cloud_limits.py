"""The cloud's own hard limits hold on both stages, and each check catches a template that breaks it.

moto, cfn-lint and cdk-nag enforce none of these; a broken one fails the first ``cdk deploy``.
The rules and the AWS pages they cite live in ``tests/infra/cloud_limits.py``.
"""

from __future__ import annotations

import importlib.metadata as metadata
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement

from tests.infra import cloud_limits as limits
from tests.infra.cloud_limits import RULES, Context, Rule, violations

# Installed by the Lambda runtime itself, so not part of the Powertools layer.
_IN_RUNTIME = {"boto3", "botocore", "s3transfer", "jmespath", "urllib3", "python-dateutil", "six"}


def powertools_layer_bytes() -> int:
    """The managed Powertools layer's unzipped size, estimated as what ``aws-lambda-powertools[all]``
    installs here (its dependency closure, less what the runtime already has)."""
    seen: set[str] = set()
    pending: list[tuple[str, set[str]]] = [("aws-lambda-powertools", {"all"})]
    total = 0
    while pending:
        name, extras = pending.pop()
        key = name.lower().replace("_", "-")
        if key in seen or key in _IN_RUNTIME:
            continue
        seen.add(key)
        dist = metadata.distribution(name)
        total += sum(f.size or 0 for f in dist.files or [])
        for raw in dist.requires or []:
            req = Requirement(raw)
            if req.marker is None or any(req.marker.evaluate({"extra": e}) for e in extras or {""}):
                pending.append((req.name, set(req.extras)))
    return total


@pytest.fixture(scope="module")
def powertools_bytes() -> int:
    return powertools_layer_bytes()


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.name)
@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_both_stages_obey_every_rule(
    rule: Rule, stage: str, request: pytest.FixtureRequest, powertools_bytes: int
) -> None:
    template = request.getfixturevalue(stage).to_json()
    context = Context(asset_dir=request.getfixturevalue(f"{stage}_out"), external_layer_bytes=powertools_bytes)
    assert rule.check(template, context) == [], f"{rule.name} ({rule.source})"


def test_every_rule_cites_an_aws_documentation_page() -> None:
    for rule in RULES:
        assert rule.source.startswith("https://docs.aws.amazon.com/"), rule.name


def test_the_asset_size_rule_measures_real_assets(dev: Any, dev_out: Path, powertools_bytes: int) -> None:
    """The unzipped-size rule must find the function and layer assets, or it proves nothing."""
    template = dev.to_json()
    functions = limits.resources(template, "AWS::Lambda::Function")
    measured = [limits._asset_bytes(Context(asset_dir=dev_out), f["Properties"]["Code"]) for f in functions.values()]
    assert any(m for m in measured), "no function asset was measured"
    assert 5 * 2**20 < powertools_bytes < 250 * 2**20


# --- each rule fails on a template that breaks it ------------------------------------------------

API = {"Type": "AWS::ApiGateway::RestApi", "Properties": {"Name": "api"}}
ROOT = {"Fn::GetAtt": ["Api", "RootResourceId"]}


def _resource(part: str, parent: Any = ROOT) -> dict[str, Any]:
    return {
        "Type": "AWS::ApiGateway::Resource",
        "Properties": {"ParentId": parent, "PathPart": part, "RestApiId": {"Ref": "Api"}},
    }


def _function(**props: Any) -> dict[str, Any]:
    return {
        "Type": "AWS::Lambda::Function",
        "Properties": {"Runtime": "python3.13", "Handler": "h.handler", "Code": {"S3Key": "abc.zip"}, **props},
    }


def _api_permission(method: str, path: str, stage: str) -> dict[str, Any]:
    """What CDK's method-scoped LambdaIntegration used to add, twice per method."""
    return {
        "Type": "AWS::Lambda::Permission",
        "Properties": {
            "Action": "lambda:InvokeFunction",
            "FunctionName": {"Fn::GetAtt": ["Fn", "Arn"]},
            "Principal": "apigateway.amazonaws.com",
            "SourceArn": {
                "Fn::Join": [
                    "",
                    ["arn:", {"Ref": "AWS::Partition"}, ":execute-api:", {"Ref": "AWS::Region"}, ":",
                     {"Ref": "AWS::AccountId"}, ":", {"Ref": "Api"}, f"/{stage}/{method}{path}"],
                ]
            },
        },
    }  # fmt: skip


def _members_function_before_the_fix() -> dict[str, Any]:
    paths = [f"/workspaces/*/documents/{i}" for i in range(28)]
    found: dict[str, Any] = {"Api": API, "Fn": _function()}
    for i, path in enumerate(paths):
        found[f"PermStage{i}DocuServeprodApiRestGETworkspacesworkspaceiddocuments"] = _api_permission(
            "GET", path, "api"
        )
        found[f"PermTest{i}DocuServeprodApiRestGETworkspacesworkspaceiddocuments"] = _api_permission(
            "GET", path, "test-invoke-stage"
        )
    return found


def _sqs_pair(visibility: int, timeout: int) -> dict[str, Any]:
    return {
        "Queue": {"Type": "AWS::SQS::Queue", "Properties": {"VisibilityTimeout": visibility}},
        "Fn": _function(Timeout=timeout),
        "Mapping": {
            "Type": "AWS::Lambda::EventSourceMapping",
            "Properties": {"EventSourceArn": {"Fn::GetAtt": ["Queue", "Arn"]}, "FunctionName": {"Ref": "Fn"}},
        },
    }


def _policy(statements: int, roles: list[str]) -> dict[str, Any]:
    document = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": f"arn:aws:s3:::bucket/p{i}/*"}
            for i in range(statements)
        ],
    }
    return {
        "Type": "AWS::IAM::Policy",
        "Properties": {"PolicyName": "p", "PolicyDocument": document, "Roles": [{"Ref": r} for r in roles]},
    }


ROLE = {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": {"Statement": []}}}

BROKEN: dict[str, Callable[[Path], tuple[dict[str, Any], Context]]] = {
    "API Gateway: one variable path part per parent": lambda _: (
        {
            "Api": API,
            "Ws": _resource("workspaces"),
            "WsId": _resource("{workspace_id}", {"Ref": "Ws"}),
            "Members": _resource("members", {"Ref": "WsId"}),
            "ByEmail": _resource("{email}", {"Ref": "Members"}),
            "ById": _resource("{user_id}", {"Ref": "Members"}),
        },
        Context(),
    ),
    "API Gateway: path-part characters": lambda _: ({"Api": API, "Bad": _resource("files/{id}")}, Context()),
    "API Gateway: resources per API <= 300": lambda _: (
        {"Api": API, **{f"R{i}": _resource(f"r{i}") for i in range(301)}},
        Context(),
    ),
    "API Gateway: integration timeout <= 29 s": lambda _: (
        {
            "Api": API,
            "M": {
                "Type": "AWS::ApiGateway::Method",
                "Properties": {"HttpMethod": "GET", "Integration": {"TimeoutInMillis": 60_000}},
            },
        },
        Context(),
    ),
    "API Gateway: no account-wide settings in a stage": lambda _: (
        {"Account": {"Type": "AWS::ApiGateway::Account", "Properties": {"CloudWatchRoleArn": "arn:aws:iam::1:role/x"}}},
        Context(),
    ),
    "Lambda: resource-based policy <= 20 KB": lambda _: (_members_function_before_the_fix(), Context()),
    "Lambda: environment <= 4 KB": lambda _: (
        {"Fn": _function(Environment={"Variables": {f"VAR_{i}": "v" * 100 for i in range(40)}})},
        Context(),
    ),
    "Lambda: <= 5 layers": lambda _: (
        {"Fn": _function(Layers=[f"arn:aws:lambda:x:1:layer:l{i}:1" for i in range(6)])},
        Context(),
    ),
    "Lambda: code plus layers <= 250 MB unzipped": lambda tmp: (
        {"Fn": _function(Layers=["arn:aws:lambda:x:1:layer:powertools:1"])},
        Context(asset_dir=tmp, external_layer_bytes=100 * 2**20),
    ),
    "Lambda: SQS visibility timeout >= 6 x function timeout": lambda _: (_sqs_pair(900, 300), Context()),
    "IAM: inline policies per role <= 10,240 characters": lambda _: (
        {"Role": ROLE, "A": _policy(60, ["Role"]), "B": _policy(60, ["Role"])},
        Context(),
    ),
    "IAM: managed policy <= 6,144 and trust policy <= 2,048 characters": lambda _: (
        {"M": {"Type": "AWS::IAM::ManagedPolicy", "Properties": _policy(80, [])["Properties"]}},
        Context(),
    ),
    "IAM: role and policy name lengths": lambda _: (
        {"Role": {"Type": "AWS::IAM::Role", "Properties": {"RoleName": "r" * 65, "AssumeRolePolicyDocument": {}}}},
        Context(),
    ),
    "CloudFormation: resources, outputs, parameters, template size": lambda _: (
        {f"Q{i}": {"Type": "AWS::SQS::Queue", "Properties": {}} for i in range(501)},
        Context(),
    ),
    "Cognito: no OAuth flows or callback URLs without a domain": lambda _: (
        {
            "Client": {
                "Type": "AWS::Cognito::UserPoolClient",
                "Properties": {
                    "AllowedOAuthFlows": ["implicit", "code"],
                    "AllowedOAuthFlowsUserPoolClient": True,
                    "CallbackURLs": ["https://example.com"],
                },
            }
        },
        Context(),
    ),
}


def test_every_rule_has_a_broken_template() -> None:
    assert set(BROKEN) == {rule.name for rule in RULES}


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.name)
def test_each_rule_fails_on_a_template_that_breaks_it(rule: Rule, tmp_path: Path) -> None:
    if rule.name == "Lambda: code plus layers <= 250 MB unzipped":
        folder = tmp_path / "asset.abc"
        folder.mkdir()
        with (folder / "big.bin").open("wb") as f:  # sparse: 160 MiB of size, no disk
            f.truncate(160 * 2**20)
    resources, context = BROKEN[rule.name](tmp_path)
    template = {"Resources": resources}
    assert rule.check(template, context), f"{rule.name} did not catch its broken template"
    assert rule.name in violations(template, context)


def test_the_old_members_permissions_break_the_policy_limit_and_one_api_wide_permission_does_not() -> None:
    """Two method-scoped statements for each of 28 methods pass 20 KB; one API-wide statement is tiny."""
    before = _members_function_before_the_fix()
    assert limits.resource_policy_size({"Resources": before}, Context())
    after = {"Api": API, "Fn": _function(), "Perm": _api_permission("*", "/*", "*")}
    assert limits.resource_policy_size({"Resources": after}, Context()) == []


def test_an_environment_just_under_4_kb_passes() -> None:
    template = {"Resources": {"Fn": _function(Environment={"Variables": {"A": "v" * 4000}})}}
    assert limits.environment_size(template, Context()) == []


def test_a_queue_at_exactly_six_times_the_timeout_passes() -> None:
    assert limits.sqs_visibility_timeout({"Resources": _sqs_pair(1800, 300)}, Context()) == []


def test_a_pool_with_a_domain_may_use_oauth() -> None:
    resources, _ = BROKEN["Cognito: no OAuth flows or callback URLs without a domain"](Path("."))
    resources["Domain"] = {"Type": "AWS::Cognito::UserPoolDomain", "Properties": {"Domain": "docuserve"}}
    assert limits.oauth_needs_a_domain({"Resources": resources}, Context()) == []
