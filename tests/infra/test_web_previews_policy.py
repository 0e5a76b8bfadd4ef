"""The Content-Security-Policy CloudFront sends with the web app, as synthesized: previews' images
may come from the app and the region's S3 hosts only, and nothing may be framed."""

from __future__ import annotations

from typing import Any


def _flat(value: Any) -> str:
    """A CloudFormation string with its tokens written as ``${Ref}`` / ``${Resource.Attribute}``."""
    if isinstance(value, str):
        return value
    if "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return str(separator).join(_flat(p) for p in parts)
    if "Ref" in value:
        return "${" + str(value["Ref"]) + "}"
    if "Fn::GetAtt" in value:
        return "${" + ".".join(value["Fn::GetAtt"]) + "}"
    raise AssertionError(f"unexpected token {value}")


def _policy(template: Any) -> dict[str, list[str]]:
    (policy,) = template.find_resources("AWS::CloudFront::ResponseHeadersPolicy").values()
    config = policy["Properties"]["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]["ContentSecurityPolicy"]
    text = _flat(config["ContentSecurityPolicy"])
    return {d.split(" ")[0]: d.split(" ")[1:] for d in text.split("; ")}


def test_images_come_only_from_the_app_and_the_regions_s3_hosts(template: Any) -> None:
    assert _policy(template)["img-src"] == [
        "'self'",
        "data:",
        "https://*.s3.${AWS::Region}.amazonaws.com",
        "https://*.s3.amazonaws.com",
    ]


def test_nothing_may_be_framed(template: Any) -> None:
    policy = _policy(template)
    assert policy["frame-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["object-src"] == ["'none'"]
