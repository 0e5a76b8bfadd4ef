"""AWS's own hard limits, checked on a synthesized CloudFormation template.

moto, cfn-lint and cdk-nag do not enforce these; CloudFormation does, on the first ``cdk deploy``.
Each rule is a function ``(template, context) -> list of violations`` and cites the page its
number comes from. Sizes that depend on deploy-time values (ARNs, generated names) are estimated
with pessimistic but realistic values: the longest commercial region name, a 12-digit account,
CloudFormation's generated physical names at their maximum length.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

Template = dict[str, Any]

# Realistic, pessimistic stand-ins for what only the deploy knows.
PARTITION = "aws-us-gov"  # the longest partition name a customer deploys to
REGION = "ap-southeast-5"  # as long as any commercial region name
ACCOUNT = "123456789012"
URL_SUFFIX = "amazonaws.com.cn"
STACK_NAME = "DocuServe-prod"
RANDOM_SUFFIX = "A1B2C3D4E5F6G"  # CloudFormation appends 12-13 random characters to generated names
REST_API_ID = "a1b2c3d4e5"

# Generated physical-name length limits per resource type (CloudFormation truncates to these).
_NAME_LIMITS = {
    "AWS::Lambda::Function": 64,
    "AWS::IAM::Role": 64,
    "AWS::SQS::Queue": 80,
    "AWS::DynamoDB::Table": 255,
    "AWS::DynamoDB::GlobalTable": 255,
    "AWS::S3::Bucket": 63,
    "AWS::SNS::Topic": 256,
    "AWS::Logs::LogGroup": 512,
    "AWS::Lambda::Permission": 100,
}


@dataclass(frozen=True)
class Context:
    """What a rule may need beyond the template: where the assets are, how big the layers are."""

    asset_dir: Path | None = None
    # Unzipped size of layers that are not assets of this app (the AWS-managed Powertools layer).
    external_layer_bytes: int = 0


@dataclass(frozen=True)
class Rule:
    name: str
    source: str  # the AWS documentation page the limit comes from
    check: Callable[[Template, Context], list[str]] = field(repr=False)


def resources(template: Template, type_: str | None = None) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = template.get("Resources", {})
    return {k: v for k, v in found.items() if type_ is None or v.get("Type") == type_}


def _physical_name(template: Template, logical_id: str) -> str:
    type_ = resources(template).get(logical_id, {}).get("Type", "")
    limit = _NAME_LIMITS.get(type_, 128)
    return f"{STACK_NAME}-{logical_id}-{RANDOM_SUFFIX}"[:limit]


def _arn(template: Template, logical_id: str) -> str:
    res = resources(template).get(logical_id, {})
    type_, name = res.get("Type", ""), _physical_name(template, logical_id)
    props = res.get("Properties", {})
    if type_ == "AWS::Lambda::Function":
        return f"arn:{PARTITION}:lambda:{REGION}:{ACCOUNT}:function:{props.get('FunctionName') or name}"
    if type_ == "AWS::IAM::Role":
        return f"arn:{PARTITION}:iam::{ACCOUNT}:role/{props.get('RoleName') or name}"
    if type_ == "AWS::S3::Bucket":
        return f"arn:{PARTITION}:s3:::{props.get('BucketName') or name.lower()}"
    if type_ == "AWS::DynamoDB::Table":
        return f"arn:{PARTITION}:dynamodb:{REGION}:{ACCOUNT}:table/{props.get('TableName') or name}"
    if type_ == "AWS::KMS::Key":
        return f"arn:{PARTITION}:kms:{REGION}:{ACCOUNT}:key/12345678-1234-1234-1234-123456789012"
    if type_ == "AWS::SQS::Queue":
        return f"arn:{PARTITION}:sqs:{REGION}:{ACCOUNT}:{name}"
    if type_ == "AWS::Cognito::UserPool":
        return f"arn:{PARTITION}:cognito-idp:{REGION}:{ACCOUNT}:userpool/{REGION}_AbCdEfGhI"
    service = type_.split("::")[1].lower() if "::" in type_ else "unknown"
    return f"arn:{PARTITION}:{service}:{REGION}:{ACCOUNT}:{name}"


def _ref(template: Template, target: str) -> str:
    pseudo = {
        "AWS::Partition": PARTITION,
        "AWS::Region": REGION,
        "AWS::AccountId": ACCOUNT,
        "AWS::URLSuffix": URL_SUFFIX,
        "AWS::StackName": STACK_NAME,
        "AWS::StackId": f"arn:{PARTITION}:cloudformation:{REGION}:{ACCOUNT}:stack/{STACK_NAME}/{'0' * 36}",
        "AWS::NoValue": "",
    }
    if target in pseudo:
        return pseudo[target]
    if target in template.get("Parameters", {}):
        return "x" * 128  # an SSM-resolved layer ARN or similar
    type_ = resources(template).get(target, {}).get("Type", "")
    if type_ == "AWS::ApiGateway::RestApi":
        return REST_API_ID
    if type_ in ("AWS::KMS::Key",):
        return "12345678-1234-1234-1234-123456789012"
    if type_ in ("AWS::SQS::Queue",):
        return f"https://sqs.{REGION}.{URL_SUFFIX}/{ACCOUNT}/{_physical_name(template, target)}"
    if type_ == "AWS::Cognito::UserPool":
        return f"{REGION}_AbCdEfGhI"
    if type_ == "AWS::Cognito::UserPoolClient":
        return "a" * 26
    if type_ in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy") or type_.startswith("AWS::SNS"):
        return _arn(template, target)
    return _physical_name(template, target)


def resolve(template: Template, value: Any) -> Any:
    """``value`` with intrinsic functions replaced by realistic, pessimistic strings."""
    if isinstance(value, list):
        return [resolve(template, v) for v in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        (fn, arg), *_ = value.items()
        if fn == "Ref":
            return _ref(template, arg)
        if fn == "Fn::GetAtt":
            logical_id, attribute = arg if isinstance(arg, list) else arg.split(".", 1)
            if attribute == "Arn":
                return _arn(template, logical_id)
            if attribute == "RootResourceId":
                return "r00tr3s0ur"
            return "x" * 64
        if fn == "Fn::Join":
            sep, parts = arg
            return sep.join(str(resolve(template, p)) for p in resolve(template, parts))
        if fn == "Fn::Sub":
            text, names = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])
            return re.sub(
                r"\$\{([^}]+)\}",
                lambda m: str(resolve(template, names[m[1]]) if m[1] in names else _ref(template, m[1].split(".")[0])),
                text,
            )
        if fn == "Fn::Select":
            index, items = arg
            items = resolve(template, items)
            return items[int(index)] if isinstance(items, list) and int(index) < len(items) else "x" * 32
        if fn == "Fn::Split":
            sep, text = arg
            return str(resolve(template, text)).split(sep)
        if fn in ("Fn::If",):
            return resolve(template, arg[1])
        if fn in ("Fn::ImportValue", "Fn::GetAZs", "Fn::Base64", "Fn::FindInMap"):
            return "x" * 64
    return {k: resolve(template, v) for k, v in value.items()}


def _target(value: Any) -> str | None:
    """The logical id a ``Ref``/``GetAtt`` points at, if any."""
    if isinstance(value, dict) and "Ref" in value:
        return str(value["Ref"])
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        arg = value["Fn::GetAtt"]
        return str(arg[0] if isinstance(arg, list) else arg.split(".")[0])
    return None


def _compact_len(document: Any) -> int:
    """IAM counts policy characters without whitespace."""
    return len(json.dumps(document, separators=(",", ":")))


# --- API Gateway -------------------------------------------------------------------------------
APIGW_QUOTAS = (
    "https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-execution-service-limits-table.html"
)
APIGW_KNOWN_ISSUES = "https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-known-issues.html"
RESOURCES_PER_API = 300
INTEGRATION_TIMEOUT_MS = 29_000
_PATH_PART = re.compile(r"^(?:[A-Za-z0-9._:,-]+|\{[A-Za-z0-9._-]+\+?\})$")


def _api_resources(template: Template) -> dict[str, dict[str, Any]]:
    return resources(template, "AWS::ApiGateway::Resource")


def one_variable_per_parent(template: Template, _: Context) -> list[str]:
    """CreateResource refuses a second ``{variable}`` under one parent ("A sibling ({x}) of this
    resource already has a variable path part -- only one is allowed")."""
    by_parent: dict[str, set[str]] = defaultdict(set)
    for res in _api_resources(template).values():
        part = res["Properties"]["PathPart"]
        if isinstance(part, str) and part.startswith("{"):
            by_parent[json.dumps(res["Properties"]["ParentId"], sort_keys=True)].add(part)
    return [f"sibling variable path parts {sorted(v)} under {k}" for k, v in by_parent.items() if len(v) > 1]


def path_part_characters(template: Template, _: Context) -> list[str]:
    """Path parts hold alphanumerics, ``-``, ``.``, ``_``, ``,``, ``:`` or one whole ``{variable}``."""
    parts = [res["Properties"]["PathPart"] for res in _api_resources(template).values()]
    return [f"invalid path part {p!r}" for p in parts if not isinstance(p, str) or not _PATH_PART.match(p)]


def resources_per_api(template: Template, _: Context) -> list[str]:
    by_api: dict[str, int] = defaultdict(int)
    for res in _api_resources(template).values():
        by_api[json.dumps(res["Properties"]["RestApiId"], sort_keys=True)] += 1
    return [f"{n} resources in {api} (quota {RESOURCES_PER_API})" for api, n in by_api.items() if n > RESOURCES_PER_API]


def integration_timeout(template: Template, _: Context) -> list[str]:
    found = []
    for lid, res in resources(template, "AWS::ApiGateway::Method").items():
        timeout = res["Properties"].get("Integration", {}).get("TimeoutInMillis")
        if timeout is not None and not 50 <= int(timeout) <= INTEGRATION_TIMEOUT_MS:
            found.append(f"{lid}: integration timeout {timeout} ms outside 50-{INTEGRATION_TIMEOUT_MS}")
    return found


def no_account_settings(template: Template, _: Context) -> list[str]:
    """``AWS::ApiGateway::Account`` is one per account and region: a stage that owns it breaks every
    other stage's logging when it is deleted."""
    return [
        f"{lid}: account-wide API Gateway settings in a stage"
        for lid in resources(template, "AWS::ApiGateway::Account")
    ]


# --- Lambda ------------------------------------------------------------------------------------
LAMBDA_QUOTAS = "https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html"
LAMBDA_SQS = "https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html"
RESOURCE_POLICY_BYTES = 20_480
ENVIRONMENT_BYTES = 4_096
MAX_LAYERS = 5
UNZIPPED_BYTES = 250 * 1024 * 1024


def _permission_statement(template: Template, lid: str, props: dict[str, Any]) -> dict[str, Any]:
    """The statement Lambda stores for one ``AWS::Lambda::Permission`` (as GetPolicy returns it)."""
    principal = resolve(template, props["Principal"])
    statement: dict[str, Any] = {
        "Sid": _physical_name(template, lid),
        "Effect": "Allow",
        "Principal": {"Service": principal} if str(principal).endswith(".amazonaws.com") else {"AWS": principal},
        "Action": resolve(template, props["Action"]),
        "Resource": _arn(template, _target(props["FunctionName"]) or ""),
    }
    conditions: dict[str, Any] = {}
    if "SourceAccount" in props:
        conditions["StringEquals"] = {"AWS:SourceAccount": resolve(template, props["SourceAccount"])}
    if "SourceArn" in props:
        conditions["ArnLike"] = {"AWS:SourceArn": resolve(template, props["SourceArn"])}
    if conditions:
        statement["Condition"] = conditions
    return statement


def resource_policy_size(template: Template, _: Context) -> list[str]:
    by_function: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for lid, res in resources(template, "AWS::Lambda::Permission").items():
        fn = _target(res["Properties"]["FunctionName"]) or str(res["Properties"]["FunctionName"])
        by_function[fn].append(_permission_statement(template, lid, res["Properties"]))
    found = []
    for fn, statements in by_function.items():
        policy = {"Version": "2012-10-17", "Id": "default", "Statement": statements}
        size = len(json.dumps(policy, separators=(",", ":")))
        if size > RESOURCE_POLICY_BYTES:
            found.append(f"{fn}: resource-based policy ~{size} bytes ({len(statements)} statements) > 20 KB")
    return found


def environment_size(template: Template, _: Context) -> list[str]:
    found = []
    for lid, res in resources(template, "AWS::Lambda::Function").items():
        variables = resolve(template, res["Properties"].get("Environment", {}).get("Variables", {}))
        size = sum(len(str(k).encode()) + len(str(v).encode()) for k, v in variables.items())
        if size > ENVIRONMENT_BYTES:
            found.append(f"{lid}: environment ~{size} bytes > 4 KB")
    return found


def layer_count(template: Template, _: Context) -> list[str]:
    found = []
    for lid, res in resources(template, "AWS::Lambda::Function").items():
        layers = res["Properties"].get("Layers", [])
        if len(layers) > MAX_LAYERS:
            found.append(f"{lid}: {len(layers)} layers > {MAX_LAYERS}")
    return found


def _asset_bytes(context: Context, code: dict[str, Any]) -> int | None:
    key = code.get("S3Key")
    if context.asset_dir is None or not isinstance(key, str) or not key.endswith(".zip"):
        return None
    folder = context.asset_dir / f"asset.{key.removesuffix('.zip')}"
    if not folder.is_dir():
        return None
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def unzipped_size(template: Template, context: Context) -> list[str]:
    """Function code plus every layer, unzipped, ≤ 250 MB (assets measured, external layers given)."""
    layer_sizes = {
        lid: _asset_bytes(context, res["Properties"].get("Content", {}))
        for lid, res in resources(template, "AWS::Lambda::LayerVersion").items()
    }
    found = []
    for lid, res in resources(template, "AWS::Lambda::Function").items():
        props = res["Properties"]
        code = _asset_bytes(context, props.get("Code", {}))
        if code is None:
            continue  # inline or image code: measured elsewhere, if at all
        total = code
        for layer in props.get("Layers", []):
            own = layer_sizes.get(_target(layer) or "")
            total += own if own is not None else context.external_layer_bytes
        if total > UNZIPPED_BYTES:
            found.append(f"{lid}: code plus layers {total / 2**20:.1f} MiB unzipped > 250 MB")
    return found


def sqs_visibility_timeout(template: Template, _: Context) -> list[str]:
    """Lambda's SQS guidance: the queue's visibility timeout at least six times the function timeout."""
    found = []
    for lid, res in resources(template, "AWS::Lambda::EventSourceMapping").items():
        props = res["Properties"]
        queue = resources(template, "AWS::SQS::Queue").get(_target(props.get("EventSourceArn")) or "")
        fn = resources(template, "AWS::Lambda::Function").get(_target(props.get("FunctionName")) or "")
        if queue is None or fn is None:
            continue
        visibility = int(queue["Properties"].get("VisibilityTimeout", 30))
        timeout = int(fn["Properties"].get("Timeout", 3))
        if visibility < 6 * timeout:
            found.append(f"{lid}: queue visibility {visibility} s < 6 x function timeout {timeout} s")
    return found


# --- IAM ---------------------------------------------------------------------------------------
IAM_QUOTAS = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html"
ROLE_INLINE_POLICY_CHARS = 10_240
MANAGED_POLICY_CHARS = 6_144
TRUST_POLICY_CHARS = 2_048
ROLE_NAME_CHARS = 64
POLICY_NAME_CHARS = 128


def inline_policy_size(template: Template, _: Context) -> list[str]:
    """A role's inline policies together ≤ 10,240 characters (whitespace not counted)."""
    per_role: dict[str, int] = defaultdict(int)
    for lid, res in resources(template, "AWS::IAM::Role").items():
        for policy in res["Properties"].get("Policies", []):
            per_role[lid] += _compact_len(resolve(template, policy["PolicyDocument"]))
    for res in resources(template, "AWS::IAM::Policy").values():
        size = _compact_len(resolve(template, res["Properties"]["PolicyDocument"]))
        for role in res["Properties"].get("Roles", []):
            per_role[_target(role) or str(role)] += size
    return [
        f"{role}: inline policies ~{size} characters > {ROLE_INLINE_POLICY_CHARS}"
        for role, size in per_role.items()
        if size > ROLE_INLINE_POLICY_CHARS
    ]


def managed_policy_size(template: Template, _: Context) -> list[str]:
    found = []
    for lid, res in resources(template, "AWS::IAM::ManagedPolicy").items():
        size = _compact_len(resolve(template, res["Properties"]["PolicyDocument"]))
        if size > MANAGED_POLICY_CHARS:
            found.append(f"{lid}: managed policy ~{size} characters > {MANAGED_POLICY_CHARS}")
    for lid, res in resources(template, "AWS::IAM::Role").items():
        size = _compact_len(resolve(template, res["Properties"].get("AssumeRolePolicyDocument", {})))
        if size > TRUST_POLICY_CHARS:
            found.append(f"{lid}: trust policy ~{size} characters > {TRUST_POLICY_CHARS}")
    return found


def iam_name_lengths(template: Template, _: Context) -> list[str]:
    found = []
    for type_, prop, limit in (
        ("AWS::IAM::Role", "RoleName", ROLE_NAME_CHARS),
        ("AWS::IAM::Policy", "PolicyName", POLICY_NAME_CHARS),
        ("AWS::IAM::ManagedPolicy", "ManagedPolicyName", POLICY_NAME_CHARS),
    ):
        for lid, res in resources(template, type_).items():
            name = res["Properties"].get(prop)
            if name is not None and len(str(resolve(template, name))) > limit:
                found.append(f"{lid}: {prop} longer than {limit} characters")
    for lid, res in resources(template, "AWS::IAM::Role").items():
        for policy in res["Properties"].get("Policies", []):
            if len(policy.get("PolicyName", "")) > POLICY_NAME_CHARS:
                found.append(f"{lid}: inline PolicyName longer than {POLICY_NAME_CHARS} characters")
    return found


# --- CloudFormation ----------------------------------------------------------------------------
CFN_QUOTAS = "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html"
MAX_RESOURCES = 500
MAX_TEMPLATE_BYTES = 1_000_000  # through S3, as the CDK CLI uploads templates
MAX_OUTPUTS = 200
MAX_PARAMETERS = 200
MAX_LOGICAL_ID = 255


def cloudformation_counts(template: Template, _: Context) -> list[str]:
    found = []
    counts = (
        ("resources", len(resources(template)), MAX_RESOURCES),
        ("outputs", len(template.get("Outputs", {})), MAX_OUTPUTS),
        ("parameters", len(template.get("Parameters", {})), MAX_PARAMETERS),
    )
    found += [f"{n} {what} > {limit}" for what, n, limit in counts if n > limit]
    size = len(json.dumps(template).encode())
    if size > MAX_TEMPLATE_BYTES:
        found.append(f"template body {size} bytes > {MAX_TEMPLATE_BYTES}")
    found += [f"logical id {lid[:40]}... too long" for lid in resources(template) if len(lid) > MAX_LOGICAL_ID]
    return found


# --- Cognito -----------------------------------------------------------------------------------
COGNITO_CLIENT = "https://docs.aws.amazon.com/cognito/latest/developerguide/user-pool-settings-client-apps.html"


def oauth_needs_a_domain(template: Template, _: Context) -> list[str]:
    """OAuth grants and callback URLs only work through a user-pool domain (the hosted endpoints)."""
    if resources(template, "AWS::Cognito::UserPoolDomain"):
        return []
    found = []
    for lid, res in resources(template, "AWS::Cognito::UserPoolClient").items():
        props = res["Properties"]
        oauth = {
            k: props[k]
            for k in ("AllowedOAuthFlows", "AllowedOAuthScopes", "CallbackURLs", "LogoutURLs")
            if props.get(k)
        }
        if oauth or props.get("AllowedOAuthFlowsUserPoolClient"):
            found.append(f"{lid}: OAuth settings {sorted(oauth)} without a user-pool domain")
    return found


RULES: tuple[Rule, ...] = (
    Rule("API Gateway: one variable path part per parent", APIGW_KNOWN_ISSUES, one_variable_per_parent),
    Rule("API Gateway: path-part characters", APIGW_KNOWN_ISSUES, path_part_characters),
    Rule("API Gateway: resources per API <= 300", APIGW_QUOTAS, resources_per_api),
    Rule("API Gateway: integration timeout <= 29 s", APIGW_QUOTAS, integration_timeout),
    Rule("API Gateway: no account-wide settings in a stage", APIGW_QUOTAS, no_account_settings),
    Rule("Lambda: resource-based policy <= 20 KB", LAMBDA_QUOTAS, resource_policy_size),
    Rule("Lambda: environment <= 4 KB", LAMBDA_QUOTAS, environment_size),
    Rule("Lambda: <= 5 layers", LAMBDA_QUOTAS, layer_count),
    Rule("Lambda: code plus layers <= 250 MB unzipped", LAMBDA_QUOTAS, unzipped_size),
    Rule("Lambda: SQS visibility timeout >= 6 x function timeout", LAMBDA_SQS, sqs_visibility_timeout),
    Rule("IAM: inline policies per role <= 10,240 characters", IAM_QUOTAS, inline_policy_size),
    Rule("IAM: managed policy <= 6,144 and trust policy <= 2,048 characters", IAM_QUOTAS, managed_policy_size),
    Rule("IAM: role and policy name lengths", IAM_QUOTAS, iam_name_lengths),
    Rule("CloudFormation: resources, outputs, parameters, template size", CFN_QUOTAS, cloudformation_counts),
    Rule("Cognito: no OAuth flows or callback URLs without a domain", COGNITO_CLIENT, oauth_needs_a_domain),
)


def violations(template: Template, context: Context, rules: Iterable[Rule] = RULES) -> dict[str, list[str]]:
    """Every rule's violations, by rule name (empty lists left out)."""
    found = {rule.name: rule.check(template, context) for rule in rules}
    return {name: v for name, v in found.items() if v}
