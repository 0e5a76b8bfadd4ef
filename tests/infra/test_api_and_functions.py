"""API Gateway, Lambda functions, least privilege, event wiring, WAF and cdk-nag."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from docuserve.routes import ROUTES, Function
from infra.events import JOBS_TIMEOUT_SECONDS, VERIFIABLE_DOCUMENT_SIZE
from infra.functions import MANIFEST_SIGNERS, SPECS, UPLOAD_EVENTS, UPLOAD_JOBS


def _methods(template: Any) -> list[dict[str, Any]]:
    return [
        m["Properties"]
        for m in template.find_resources("AWS::ApiGateway::Method").values()
        if m["Properties"]["HttpMethod"] != "OPTIONS"
    ]


def test_every_route_in_the_table_is_deployed(template: Any) -> None:
    assert len(_methods(template)) == len(ROUTES)


def test_only_public_routes_skip_the_cognito_authorizer(template: Any) -> None:
    public = sum(1 for r in ROUTES if r.public)
    kinds = [m["AuthorizationType"] for m in _methods(template)]
    assert kinds.count("NONE") == public
    assert kinds.count("COGNITO_USER_POOLS") == len(ROUTES) - public
    assert all("AuthorizerId" in m for m in _methods(template) if m["AuthorizationType"] == "COGNITO_USER_POOLS")


def test_api_has_request_validation(template: Any) -> None:
    template.has_resource_properties(
        "AWS::ApiGateway::RequestValidator", {"ValidateRequestBody": True, "ValidateRequestParameters": True}
    )
    assert all("RequestValidatorId" in m for m in _methods(template))


def test_stage_throttles_and_writes_access_logs_by_route_template(template: Any) -> None:
    (stage,) = template.find_resources("AWS::ApiGateway::Stage").values()
    props = stage["Properties"]
    assert "DestinationArn" in props["AccessLogSetting"]
    # Access lines name the resource template (/public/shares/{token}), never the request path.
    assert "$context.resourcePath" in props["AccessLogSetting"]["Format"]
    assert "$context.path" not in props["AccessLogSetting"]["Format"]
    default = next(s for s in props["MethodSettings"] if s["HttpMethod"] == "*")
    assert default["ThrottlingRateLimit"] > 0
    assert default["ThrottlingBurstLimit"] > 0


def test_nothing_at_the_gateway_records_share_token_urls(template: Any, prod: Any) -> None:
    (stage,) = template.find_resources("AWS::ApiGateway::Stage").values()
    props = stage["Properties"]
    assert props.get("TracingEnabled", False) is False  # X-Ray traces keep full URLs
    public = [s for s in props["MethodSettings"] if s["ResourcePath"].startswith("/~1public")]
    assert public
    assert all(s["LoggingLevel"] == "OFF" for s in public)
    (acl,) = prod.find_resources("AWS::WAFv2::WebACL").values()
    configs = [acl["Properties"]["VisibilityConfig"]] + [r["VisibilityConfig"] for r in acl["Properties"]["Rules"]]
    assert not any(c["SampledRequestsEnabled"] for c in configs)


def test_public_routes_have_their_own_tighter_throttle(template: Any) -> None:
    (stage,) = template.find_resources("AWS::ApiGateway::Stage").values()
    settings = stage["Properties"]["MethodSettings"]
    default = next(s for s in settings if s["HttpMethod"] == "*")
    public = [s for s in settings if s["ResourcePath"].startswith("/~1public")]
    assert len(public) == sum(1 for r in ROUTES if r.path.startswith("/public/"))
    assert all(s["ThrottlingRateLimit"] < default["ThrottlingRateLimit"] for s in public)


def _functions(template: Any) -> dict[str, dict[str, Any]]:
    found = template.find_resources("AWS::Lambda::Function")
    by_handler = {f["Properties"]["Handler"]: f["Properties"] for f in found.values() if "Handler" in f["Properties"]}
    return {spec.name: by_handler[spec.handler] for spec in SPECS}


def test_functions_run_python_313_on_arm64_with_explicit_memory_and_timeout(template: Any) -> None:
    for name, props in _functions(template).items():
        assert props["Runtime"] == "python3.13", name
        assert props["Architectures"] == ["arm64"], name
        assert props["MemorySize"] >= 128, name
        assert props["Timeout"] >= 1, name


def test_functions_trace_log_json_and_keep_logs_for_the_stage_retention(template: Any) -> None:
    for name, props in _functions(template).items():
        assert props["TracingConfig"] == {"Mode": "Active"}, name
        assert props["LoggingConfig"]["LogFormat"] == "JSON", name
    for group in template.find_resources("AWS::Logs::LogGroup").values():
        assert group["Properties"]["RetentionInDays"] > 0


def test_functions_use_the_managed_powertools_layer_and_the_domain_layer(template: Any) -> None:
    for name, props in _functions(template).items():
        # upload_jobs and the manifest signers add the vendored layer (tests/infra/test_bundle_archives.py)
        assert len(props["Layers"]) == (3 if name in (UPLOAD_JOBS, *MANIFEST_SIGNERS) else 2), name
    params = template.to_json()["Parameters"]
    assert any("/aws/service/powertools/python/arm64/python3.13/" in str(p.get("Default")) for p in params.values())


def test_no_function_is_built_with_docker() -> None:
    infra = Path(__file__).resolve().parents[2] / "infra"
    text = "".join(p.read_text() for p in infra.glob("*.py"))
    assert "PythonFunction" not in text
    assert "PythonLayerVersion" not in text
    assert "bundling" not in text


def _role_statements(template: Any, function: str) -> list[dict[str, Any]]:
    props = _functions(template)[function]
    role_ref = props["Role"]["Fn::GetAtt"][0]
    statements: list[dict[str, Any]] = []
    for policy in template.find_resources("AWS::IAM::Policy").values():
        if {"Ref": role_ref} in policy["Properties"]["Roles"]:
            statements.extend(policy["Properties"]["PolicyDocument"]["Statement"])
    return statements


def _actions(statements: list[dict[str, Any]]) -> set[str]:
    actions: set[str] = set()
    for s in statements:
        a = s["Action"]
        actions.update([a] if isinstance(a, str) else a)
    return actions


def test_system_function_reads_only_account_status_items(template: Any) -> None:
    statements = _role_statements(template, Function.SYSTEM.value)
    actions = _actions(statements)
    assert not any(a.startswith(("s3:", "cognito-idp:")) for a in actions)
    assert {a for a in actions if a.startswith("dynamodb:")} == {"dynamodb:GetItem"}
    (table_read,) = [s for s in statements if "dynamodb:GetItem" in _actions([s])]
    assert table_read["Condition"] == {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["ACCOUNT#*"]}}
    kms = {a for a in actions if a.startswith("kms:")}
    assert kms <= {"kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey"}


def test_public_function_can_read_objects_but_never_write_delete_or_list(template: Any) -> None:
    """Every share link hits it: it presigns GETs and holds no write on objects, uploads or documents.
    Upload requests' writes are the partner-uploads function's (below)."""
    statements = _role_statements(template, Function.PUBLIC.value)
    actions = _actions(statements)
    assert {a for a in actions if a.startswith("s3:")} == {"s3:GetObject", "s3:GetObjectVersion"}
    assert not any(a.startswith("dynamodb:") and a not in ("dynamodb:GetItem", "dynamodb:UpdateItem") for a in actions)
    assert not any(s.get("Sid", "").startswith(("PartnerUpload", "PresignPartner")) for s in statements)
    assert not any(a.startswith("cognito-idp:") for a in actions)


def test_partner_uploads_function_can_presign_uploads_but_never_read_delete_or_list_objects(template: Any) -> None:
    """Upload requests (issue 17): presigned PUTs and multipart parts under documents/, the items a
    partner's upload writes (tests/infra/test_audit_stream_and_share_roles.py), the completion job."""
    statements = _role_statements(template, Function.PARTNER_UPLOADS.value)
    actions = _actions(statements)
    (presign,) = [s for s in statements if any(a.startswith("s3:") for a in _actions([s]))]
    assert sorted(_actions([presign])) == ["s3:AbortMultipartUpload", "s3:ListMultipartUploadParts", "s3:PutObject"]
    assert presign["Resource"]["Fn::Join"][1][-1] == "/documents/*"
    assert not any(a in ("dynamodb:Scan", "dynamodb:Query", "dynamodb:BatchWriteItem") for a in actions)
    assert not any(a.startswith(("cognito-idp:", "kms:Sign", "kms:GetPublicKey")) for a in actions)
    assert "sqs:SendMessage" in actions


def test_the_partner_routes_invoke_their_own_functions(template: Any) -> None:
    """/public/requests/* reach the partner-uploads function, the share routes the public one."""
    functions = _function_ids(template)
    methods = template.find_resources("AWS::ApiGateway::Method")
    resources = template.find_resources("AWS::ApiGateway::Resource")

    def path_of(resource: Any) -> str:
        if "Ref" not in resource:  # the API's root
            return ""
        props = resources[resource["Ref"]]["Properties"]
        return f"{path_of(props['ParentId'])}/{props['PathPart']}"

    invoked: dict[str, set[str]] = {}
    for method in methods.values():
        props = method["Properties"]
        if props["HttpMethod"] == "OPTIONS":
            continue
        path = path_of(props["ResourceId"])
        if path.startswith("/public/"):
            uri = json.dumps(props["Integration"]["Uri"])
            (name,) = [n for n, logical in functions.items() if f'"{logical}"' in uri]
            invoked.setdefault(name, set()).add(f"{props['HttpMethod']} {path}")
    assert invoked[Function.PARTNER_UPLOADS.value] == {r.key for r in ROUTES if r.path.startswith("/public/requests/")}
    assert invoked[Function.PUBLIC.value] == {
        r.key for r in ROUTES if r.path.startswith("/public/") and not r.path.startswith("/public/requests/")
    }
    assert set(invoked) == {Function.PUBLIC.value, Function.PARTNER_UPLOADS.value}


def test_only_the_admin_function_can_administer_users(template: Any) -> None:
    for spec in SPECS:
        actions = _actions(_role_statements(template, spec.name))
        has_admin = any(a.startswith("cognito-idp:Admin") for a in actions)
        assert has_admin == (spec.name == Function.ADMIN.value), spec.name


def test_admin_function_cannot_touch_documents(template: Any) -> None:
    actions = _actions(_role_statements(template, Function.ADMIN.value))
    assert not any(a.startswith("s3:") for a in actions)
    assert "dynamodb:DeleteItem" not in actions


def test_upload_events_function_cannot_write_objects(template: Any) -> None:
    actions = _actions(_role_statements(template, UPLOAD_EVENTS))
    assert "s3:PutObject" not in actions


def test_object_created_events_reach_the_upload_function_through_a_queue_with_a_dlq(template: Any) -> None:
    notifications = template.find_resources("Custom::S3BucketNotifications")
    (notification,) = notifications.values()
    (queue_config,) = notification["Properties"]["NotificationConfiguration"]["QueueConfigurations"]
    assert queue_config["Events"] == ["s3:ObjectCreated:*"]
    queues = template.find_resources("AWS::SQS::Queue")
    assert any("RedrivePolicy" in q["Properties"] for q in queues.values())
    template.has_resource_properties(
        "AWS::Lambda::EventSourceMapping", {"FunctionResponseTypes": ["ReportBatchItemFailures"]}
    )


def test_outputs_cover_the_web_config(template: Any) -> None:
    outputs = template.to_json()["Outputs"]
    for name in ("ApiUrl", "Region", "UserPoolId", "UserPoolClientId"):
        assert name in outputs


def test_prod_has_a_waf_with_common_rules_and_a_public_rate_limit(prod: Any, dev: Any) -> None:
    (acl,) = prod.find_resources("AWS::WAFv2::WebACL").values()
    rules = {r["Name"]: r for r in acl["Properties"]["Rules"]}
    assert rules["aws-common"]["Statement"]["ManagedRuleGroupStatement"]["Name"] == "AWSManagedRulesCommonRuleSet"
    rate = rules["public-rate-limit"]["Statement"]["RateBasedStatement"]
    assert "/public/" in rate["ScopeDownStatement"]["ByteMatchStatement"]["SearchString"]
    assert prod.find_resources("AWS::WAFv2::WebACLAssociation")
    assert not dev.find_resources("AWS::WAFv2::WebACL")


def test_an_unacknowledged_nag_finding_fails_synth(tmp_path: Path) -> None:
    from aws_cdk import App
    from aws_cdk import aws_s3 as s3

    from app import build_app
    from infra.stack import DocuServeStack
    from tests.infra.conftest import stage_context

    app = App(context=stage_context(), outdir=str(tmp_path))
    build_app("dev", app)
    stack = next(c for c in app.node.children if isinstance(c, DocuServeStack))
    s3.Bucket(stack, "Careless")  # no TLS enforcement, no access logs
    with pytest.raises(Exception, match="AwsSolutions-S10"):
        app.synth()


def test_api_functions_name_the_web_app_origin_for_cors(template: Any) -> None:
    # The functions name the CloudFront origin on answers; the preflight allows the same origins.
    for name in (Function.MEMBERS.value, Function.PUBLIC.value, Function.PARTNER_UPLOADS.value):
        cors = _functions(template)[name]["Environment"]["Variables"]["CORS_ORIGINS"]
        assert "DomainName" in str(cors), cors
    options = [
        m["Properties"]
        for m in template.find_resources("AWS::ApiGateway::Method").values()
        if m["Properties"]["HttpMethod"] == "OPTIONS"
    ]
    assert options
    assert all("DomainName" in str(o["Integration"]["IntegrationResponses"]) for o in options)
    assert not any("'*'" in str(o["Integration"]["IntegrationResponses"]) for o in options)


def test_gateway_errors_are_readable_by_the_web_app(template: Any) -> None:
    responses = template.find_resources("AWS::ApiGateway::GatewayResponse")
    kinds = {r["Properties"]["ResponseType"]: r["Properties"] for r in responses.values()}
    for kind in ("DEFAULT_4XX", "DEFAULT_5XX"):
        origin = kinds[kind]["ResponseParameters"]["gatewayresponse.header.Access-Control-Allow-Origin"]
        assert "DomainName" in str(origin)
        assert "'*'" not in str(origin)


def _function_ids(template: Any) -> dict[str, str]:
    found = template.find_resources("AWS::Lambda::Function")
    by_handler = {f["Properties"].get("Handler"): logical for logical, f in found.items()}
    return {spec.name: by_handler[spec.handler] for spec in SPECS}


def _event_sources_of(template: Any, function: str) -> list[dict[str, Any]]:
    logical = _function_ids(template)[function]
    mappings = template.find_resources("AWS::Lambda::EventSourceMapping").values()
    return [dict(m["Properties"]) for m in mappings if m["Properties"]["FunctionName"] == {"Ref": logical}]


def test_upload_processing_takes_one_object_per_invocation(template: Any) -> None:
    # upload_events: object-created events, and (with malware scanning) scan results; upload_jobs: jobs
    for function, sources in ((UPLOAD_EVENTS, 2), (UPLOAD_JOBS, 1)):
        mappings = _event_sources_of(template, function)
        assert len(mappings) == sources, function
        for mapping in mappings:
            assert mapping["BatchSize"] == 1, function
            assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"], function


def test_the_hashing_function_has_the_timeout_the_document_size_limit_is_computed_from(template: Any) -> None:
    found = template.find_resources("AWS::Lambda::Function")
    jobs = found[_function_ids(template)[UPLOAD_JOBS]]["Properties"]
    assert VERIFIABLE_DOCUMENT_SIZE == 21 * 1024**3  # docs/performance.md, "Multipart verification"
    assert jobs["Timeout"] == JOBS_TIMEOUT_SECONDS == 900
    for props in (f["Properties"] for f in found.values() if "Environment" in f["Properties"]):
        size = props["Environment"]["Variables"].get("LIMIT_MAX_DOCUMENT_SIZE")
        if size is not None:
            assert int(size) <= VERIFIABLE_DOCUMENT_SIZE


def test_a_stage_allowing_more_than_verification_hashes_in_time_does_not_synthesize() -> None:
    from aws_cdk import App, Stack
    from aws_cdk import aws_lambda as lambda_
    from aws_cdk import aws_s3 as s3

    from infra.events import UploadEvents

    stack = Stack(App(), "Probe")
    fn = lambda_.Function(
        stack, "F", runtime=lambda_.Runtime.PYTHON_3_13, handler="x.y", code=lambda_.Code.from_inline("x = 1")
    )
    with pytest.raises(ValueError, match="max_document_size"):
        UploadEvents(
            stack,
            "E",
            bucket=s3.Bucket(stack, "B"),
            handler=fn,
            jobs_handler=fn,
            job_senders=[],
            max_document_size=VERIFIABLE_DOCUMENT_SIZE + 1,
        )


def test_completion_and_hashing_run_in_their_own_function_and_only_it_may_complete_uploads(template: Any) -> None:
    actions = _actions(_role_statements(template, UPLOAD_JOBS))
    assert {"s3:PutObject", "s3:GetObject", "s3:AbortMultipartUpload"} <= actions
    assert "sqs:SendMessage" not in actions
    # A bundle's archive is asked for on the share page (public); a partner's multipart upload is
    # completed through the job too (partner_uploads).
    senders = (Function.MEMBERS.value, UPLOAD_EVENTS, Function.PUBLIC.value, Function.PARTNER_UPLOADS.value)
    for sender in senders:
        assert "sqs:SendMessage" in _actions(_role_statements(template, sender)), sender
