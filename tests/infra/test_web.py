"""The web app's hosting: private bucket, CloudFront with OAC and security headers, SPA routing,
config.json from the stack, and documents-bucket CORS for the web origin only."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from infra.web import SPA_ROUTER, WEB_ROOT
from local.front import is_app_page
from tests.infra.conftest import stage_context, synth


def _one(template: Any, kind: str) -> tuple[str, dict[str, Any]]:
    (item,) = template.find_resources(kind).items()
    logical_id, resource = item
    return logical_id, resource["Properties"]


def _web_bucket(template: Any) -> tuple[str, dict[str, Any]]:
    _, distribution = _one(template, "AWS::CloudFront::Distribution")
    (origin,) = distribution["DistributionConfig"]["Origins"]
    logical_id = origin["DomainName"]["Fn::GetAtt"][0]
    return logical_id, template.to_json()["Resources"][logical_id]["Properties"]


def _security_headers(template: Any) -> dict[str, Any]:
    _, policy = _one(template, "AWS::CloudFront::ResponseHeadersPolicy")
    headers: dict[str, Any] = policy["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
    return headers


def _text(value: Any) -> str:
    """A CloudFormation string value with its tokens flattened, for substring checks."""
    return json.dumps(value)


def test_web_bucket_is_private_encrypted_tls_only_and_logged(template: Any) -> None:
    logical_id, bucket = _web_bucket(template)
    assert bucket["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    encryption = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert encryption["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert bucket["LoggingConfiguration"]["LogFilePrefix"] == "web/"
    policies = [
        p["Properties"]["PolicyDocument"]["Statement"]
        for p in template.find_resources("AWS::S3::BucketPolicy").values()
        if p["Properties"]["Bucket"] == {"Ref": logical_id}
    ]
    (statements,) = policies
    assert any(
        s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}} for s in statements
    )
    # Only CloudFront reads it, and only for this distribution (Origin Access Control).
    readers = [s for s in statements if s["Effect"] == "Allow" and "s3:GetObject" in s["Action"]]
    (reader,) = readers
    assert reader["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert reader["Action"] == "s3:GetObject"
    assert "AWS:SourceArn" in reader["Condition"]["StringEquals"]


def test_distribution_uses_origin_access_control_and_https_only(template: Any) -> None:
    _, distribution = _one(template, "AWS::CloudFront::Distribution")
    config = distribution["DistributionConfig"]
    (origin,) = config["Origins"]
    assert "OriginAccessControlId" in origin
    assert origin["S3OriginConfig"]["OriginAccessIdentity"] == ""
    behavior = config["DefaultCacheBehavior"]
    assert behavior["ViewerProtocolPolicy"] == "redirect-to-https"
    assert behavior["AllowedMethods"] == ["GET", "HEAD"]
    assert config["DefaultRootObject"] == "index.html"
    _, oac = _one(template, "AWS::CloudFront::OriginAccessControl")
    assert oac["OriginAccessControlConfig"]["SigningBehavior"] == "always"
    assert oac["OriginAccessControlConfig"]["SigningProtocol"] == "sigv4"


def test_distribution_does_not_log_paths_that_carry_share_tokens(template: Any) -> None:
    _, distribution = _one(template, "AWS::CloudFront::Distribution")
    assert "Logging" not in distribution["DistributionConfig"]


def test_content_security_policy_allows_no_inline_script_and_no_framing(template: Any) -> None:
    csp = _security_headers(template)["ContentSecurityPolicy"]
    assert csp["Override"] is True
    text = _text(csp["ContentSecurityPolicy"])
    assert "unsafe-inline" not in text
    assert "unsafe-eval" not in text
    assert "script-src 'self';" in text
    assert "frame-ancestors 'none'" in text
    assert "default-src 'none'" in text
    assert "object-src 'none'" in text
    assert "base-uri 'none'" in text


def test_content_security_policy_lets_the_app_reach_its_api_cognito_and_s3(template: Any) -> None:
    text = _text(_security_headers(template)["ContentSecurityPolicy"]["ContentSecurityPolicy"])
    (rest_api,) = template.find_resources("AWS::ApiGateway::RestApi")
    assert f'{{"Ref": "{rest_api}"}}, ".execute-api."' in text
    assert 'https://cognito-idp.", {"Ref": "AWS::Region"}, ".amazonaws.com' in text
    assert "https://*.s3." in text


def test_security_headers_hsts_nosniff_no_referrer_and_deny_framing(template: Any) -> None:
    headers = _security_headers(template)
    hsts = headers["StrictTransportSecurity"]
    assert hsts["AccessControlMaxAgeSec"] >= 31_536_000
    assert hsts["IncludeSubdomains"] is True
    assert headers["ContentTypeOptions"] == {"Override": True}
    assert headers["ReferrerPolicy"] == {"ReferrerPolicy": "no-referrer", "Override": True}
    assert headers["FrameOptions"] == {"FrameOption": "DENY", "Override": True}
    _, distribution = _one(template, "AWS::CloudFront::Distribution")
    (policy_id,) = template.find_resources("AWS::CloudFront::ResponseHeadersPolicy")
    assert distribution["DistributionConfig"]["DefaultCacheBehavior"]["ResponseHeadersPolicyId"] == {"Ref": policy_id}


def test_spa_router_runs_on_every_viewer_request(template: Any) -> None:
    _, distribution = _one(template, "AWS::CloudFront::Distribution")
    (association,) = distribution["DistributionConfig"]["DefaultCacheBehavior"]["FunctionAssociations"]
    assert association["EventType"] == "viewer-request"
    function_id, function = _one(template, "AWS::CloudFront::Function")
    assert association["FunctionARN"] == {"Fn::GetAtt": [function_id, "FunctionARN"]}
    assert function["FunctionCode"] == SPA_ROUTER
    assert function["FunctionConfig"]["Runtime"] == "cloudfront-js-2.0"


# Pages (index.html) and files, as both the CloudFront function and the local front must decide.
ROUTING_TABLE = [
    ("/", "/index.html"),
    ("/s/Zm9vYmFyLWJhei1xdXV4LXRva2Vu", "/index.html"),
    ("/s/odd.looking.token", "/index.html"),
    ("/s/token-ending.js", "/index.html"),
    ("/r/Zm9vYmFyLWJhei1xdXV4LXRva2Vu", "/index.html"),
    ("/r/token-ending.js", "/index.html"),
    ("/w/ws-123", "/index.html"),
    ("/w/0123456789abcdef", "/index.html"),
    ("/d/doc-1/", "/index.html"),
    # Document ids are <workspace>.<document>: the dot must not make them files.
    ("/d/0123456789abcdef.ghijklmnopqrstuv", "/index.html"),
    ("/d/0123456789abcdef.0123456789abcdjs", "/index.html"),
    ("/d/abc.json", "/index.html"),
    ("/admin", "/index.html"),
    ("/admin/", "/index.html"),
    ("/admin/users", "/index.html"),
    ("/some/unknown/page", "/index.html"),
    ("/index.html", "/index.html"),
    ("/js/main.js", "/js/main.js"),
    ("/js/views/admin.js", "/js/views/admin.js"),
    ("/js/no-extension", "/js/no-extension"),
    ("/styles.css", "/styles.css"),
    ("/config.json", "/config.json"),
    ("/favicon.ico", "/favicon.ico"),
    ("/robots.txt", "/robots.txt"),
    ("/missing.JS", "/missing.JS"),
    ("/.git/config", "/.git/config"),
    ("/.env", "/.env"),
]


def _cloudfront_function(uris: list[str]) -> list[str]:
    """Run SPA_ROUTER's handler in node over ``uris``; the rewritten uri of each."""
    script = (
        SPA_ROUTER
        + f"\nconst uris = {json.dumps(uris)};\n"
        + "process.stdout.write(JSON.stringify(uris.map((uri) => handler({request: {uri}}).uri)));\n"
    )
    result = subprocess.run(["node", "-e", script], capture_output=True, text=True, timeout=30, check=True)
    served: list[str] = json.loads(result.stdout)
    return served


def _local_front(uri: str) -> str:
    return "/index.html" if is_app_page(uri) else uri


needs_node = pytest.mark.skipif(
    shutil.which("node") is None, reason="node runs the CloudFront function (CDK needs it anyway)"
)


@needs_node
def test_spa_router_sends_pages_to_index_html_and_files_through() -> None:
    uris = [uri for uri, _ in ROUTING_TABLE]
    assert dict(zip(uris, _cloudfront_function(uris), strict=True)) == dict(ROUTING_TABLE)


def test_the_local_front_routes_like_the_cloudfront_function() -> None:
    assert {uri: _local_front(uri) for uri, _ in ROUTING_TABLE} == dict(ROUTING_TABLE)


@needs_node
def test_every_file_of_the_web_app_is_served_as_a_file_by_both() -> None:
    files = sorted("/" + p.relative_to(WEB_ROOT).as_posix() for p in WEB_ROOT.rglob("*") if p.is_file())
    assert "/js/main.js" in files
    assert _cloudfront_function(files) == files
    assert [_local_front(uri) for uri in files] == files


def test_config_json_is_written_from_stack_values_and_the_cache_invalidated(template: Any) -> None:
    _, deployment = _one(template, "Custom::CDKBucketDeployment")
    web_bucket, _ = _web_bucket(template)
    assert deployment["DestinationBucketName"] == {"Ref": web_bucket}
    assert deployment["Prune"] is True
    assert deployment["DistributionPaths"] == ["/*"]
    markers = _text(deployment["SourceMarkers"])
    (user_pool,) = template.find_resources("AWS::Cognito::UserPool")
    (client,) = template.find_resources("AWS::Cognito::UserPoolClient")
    (rest_api,) = template.find_resources("AWS::ApiGateway::RestApi")
    for logical_id in (user_pool, client, rest_api):
        assert f'"Ref": "{logical_id}"' in markers
    assert '"Ref": "AWS::Region"' in markers


def test_functions_put_share_links_on_the_cloudfront_origin(template: Any) -> None:
    distribution_id, _ = _one(template, "AWS::CloudFront::Distribution")
    expected = {"Fn::Join": ["", ["https://", {"Fn::GetAtt": [distribution_id, "DomainName"]}]]}
    functions = [
        f["Properties"]["Environment"]["Variables"]
        for f in template.find_resources("AWS::Lambda::Function").values()
        if "WEB_ORIGIN" in f["Properties"].get("Environment", {}).get("Variables", {})
    ]
    assert functions
    assert all(v["WEB_ORIGIN"] == expected for v in functions)


def test_documents_bucket_cors_allows_the_web_origins_only(template: Any) -> None:
    distribution_id, _ = _one(template, "AWS::CloudFront::Distribution")
    web_origin = {"Fn::Join": ["", ["https://", {"Fn::GetAtt": [distribution_id, "DomainName"]}]]}
    stage = template.to_json()["Resources"][distribution_id]["Properties"]["Tags"]
    stage_name = next(t["Value"] for t in stage if t["Key"] == "stage")
    configured = stage_context()["stages"][stage_name]["web_origins"]
    cors = [
        b["Properties"]["CorsConfiguration"]
        for b in template.find_resources("AWS::S3::Bucket").values()
        if "CorsConfiguration" in b["Properties"]
    ]
    (configuration,) = cors
    (rule,) = configuration["CorsRules"]
    assert sorted(map(json.dumps, rule["AllowedOrigins"])) == sorted(map(json.dumps, [*configured, web_origin]))
    assert "*" not in rule["AllowedOrigins"]
    assert set(rule["AllowedMethods"]) == {"GET", "PUT", "HEAD"}
    assert "ETag" in rule["ExposedHeaders"]


def _references(value: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(value, dict):
        if "Ref" in value and isinstance(value["Ref"], str):
            found.add(value["Ref"])
        if "Fn::GetAtt" in value:
            found.add(value["Fn::GetAtt"][0])
        if "Fn::Sub" in value:
            text = value["Fn::Sub"] if isinstance(value["Fn::Sub"], str) else value["Fn::Sub"][0]
            found.update(part.split("}")[0].split(".")[0] for part in text.split("${")[1:])
        for inner in value.values():
            found |= _references(inner)
    elif isinstance(value, list):
        for inner in value:
            found |= _references(inner)
    return found


def test_the_stack_has_no_circular_dependency(template: Any) -> None:
    # CDK does not detect cycles inside one stack; CloudFormation would refuse to deploy it.
    resources = template.to_json()["Resources"]
    graph: dict[str, set[str]] = {}
    for name, resource in resources.items():
        depends = resource.get("DependsOn", [])
        depends = [depends] if isinstance(depends, str) else depends
        graph[name] = (_references(resource.get("Properties", {})) | set(depends)) & set(resources)
    done: set[str] = set()
    for start in graph:
        path: list[str] = []
        on_path: set[str] = set()
        stack = [(start, iter(sorted(graph[start])))]
        if start in done:
            continue
        path.append(start)
        on_path.add(start)
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                stack.pop()
                path.pop()
                on_path.discard(node)
                done.add(node)
            elif child in on_path:
                pytest.fail(f"circular dependency: {' -> '.join([*path[path.index(child) :], child])}")
            elif child not in done:
                stack.append((child, iter(sorted(graph[child]))))
                path.append(child)
                on_path.add(child)


def test_custom_domain_gets_its_certificate_modern_tls_and_the_share_links(tmp_path: Path) -> None:
    context = stage_context()
    context["stages"]["prod"] = {
        **context["stages"]["prod"],
        "domain_name": "docs.example.com",
        "certificate_arn": "arn:aws:acm:us-east-1:123456789012:certificate/abcd-1234",
    }
    template = synth("prod", tmp_path, context)
    _, distribution = _one(template, "AWS::CloudFront::Distribution")
    config = distribution["DistributionConfig"]
    assert config["Aliases"] == ["docs.example.com"]
    certificate = config["ViewerCertificate"]
    assert certificate["AcmCertificateArn"] == "arn:aws:acm:us-east-1:123456789012:certificate/abcd-1234"
    assert certificate["MinimumProtocolVersion"] == "TLSv1.2_2021"
    assert certificate["SslSupportMethod"] == "sni-only"
    origins = {
        f["Properties"]["Environment"]["Variables"]["WEB_ORIGIN"]
        for f in template.find_resources("AWS::Lambda::Function").values()
        if "WEB_ORIGIN" in f["Properties"].get("Environment", {}).get("Variables", {})
    }
    assert origins == {"https://docs.example.com"}
    (bucket,) = [
        b for b in template.find_resources("AWS::S3::Bucket").values() if "CorsConfiguration" in b["Properties"]
    ]
    assert bucket["Properties"]["CorsConfiguration"]["CorsRules"][0]["AllowedOrigins"] == ["https://docs.example.com"]
