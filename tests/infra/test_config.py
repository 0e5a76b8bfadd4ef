"""Stage settings: each one reaches the template per stage, and a bad value fails synth naming it."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from infra.config import LOG_RETENTION, ConfigError, StageConfig, load_stage
from infra.functions import SPECS
from tests.infra.conftest import ROOT, stage_context


def _with(stage: str, **changes: Any) -> dict[str, Any]:
    context = copy.deepcopy(stage_context())
    context["stages"][stage].update(changes)
    return context


def _config(stage: str) -> StageConfig:
    return load_stage(stage_context(), stage)


def test_both_stages_load() -> None:
    assert load_stage(stage_context(), "dev").stage == "dev"
    assert load_stage(stage_context(), "prod").retain_data is True


def test_prod_is_the_safe_stage_and_dev_the_disposable_one() -> None:
    dev, prod = _config("dev"), _config("prod")
    assert (prod.retain_data, prod.deletion_protection, prod.mfa, prod.waf) == (True, True, "required", True)
    assert (dev.retain_data, dev.deletion_protection, dev.waf) == (False, False, False)
    assert prod.log_retention_days >= dev.log_retention_days


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"mfa": "sometimes"}, "stages.prod.mfa"),
        ({"log_retention_days": 42}, "stages.prod.log_retention_days"),
        ({"retain_data": "yes"}, "stages.prod.retain_data"),
        ({"deletion_protection": 1}, "stages.prod.deletion_protection"),
        ({"waf": "on"}, "stages.prod.waf"),
        ({"limits": {"download_url_ttl_seconds": 600}}, "limits.download_url_ttl_seconds"),
        ({"limits": {"page_sise_max": 10}}, "limits.page_sise_max"),
        ({"limits": {"part_size": 1024}}, "limits.part_size"),
        ({"limits": {"share_default_days": 120}}, "limits.share_default_days"),
        ({"limits": {"lockout_threshold": 0}}, "limits.lockout_threshold"),
        ({"web_origins": ["http://insecure.example.com"]}, "stages.prod.web_origins"),
        ({"web_origins": ["https://docs.example.com/"]}, "stages.prod.web_origins"),
        ({"web_origins": ["https://docs.example.com/app"]}, "stages.prod.web_origins"),
        ({"web_origins": "https://docs.example.com"}, "stages.prod.web_origins"),
        ({"api_throttle": {"rate": 0, "burst": 1}}, "stages.prod.api_throttle"),
        ({"public_throttle": {"rate": 20, "burst": 5}}, "stages.prod.public_throttle"),
        ({"public_throttle": {"rate": 20}}, "stages.prod.public_throttle.burst"),
        ({"waf_public_rate_per_5min": 5}, "stages.prod.waf_public_rate_per_5min"),
        ({"waf_public_rate_per_5min": True}, "stages.prod.waf_public_rate_per_5min"),
        ({"colour": "blue"}, "colour"),
        ({"malware_scanning": "clamav"}, "stages.prod.malware_scanning"),
        ({"malware_scanning": False}, "stages.prod.malware_scanning"),
        ({"malware_scanning": None}, "stages.prod.malware_scanning"),
        ({"scan_timeout_minutes": 4}, "stages.prod.scan_timeout_minutes"),
        ({"scan_timeout_minutes": 1441}, "stages.prod.scan_timeout_minutes"),
        ({"scan_timeout_minutes": "60"}, "stages.prod.scan_timeout_minutes"),
        ({"scan_timeout_minutes": True}, "stages.prod.scan_timeout_minutes"),
        ({"scan_timeout_minutes": 60.0}, "stages.prod.scan_timeout_minutes"),
        ({"mail_from": "no-reply"}, "stages.prod.mail_from"),
        ({"alarm_email": "nobody"}, "stages.prod.alarm_email"),
        ({"alarm_email": ["ops@example.com"]}, "stages.prod.alarm_email"),
        ({"domain_name": "docs.example.com"}, "stages.prod.domain_name and stages.prod.certificate_arn"),
        (
            {"domain_name": "Docs Example", "certificate_arn": "arn:aws:acm:us-east-1:123456789012:certificate/x"},
            "stages.prod.domain_name",
        ),
        (
            {"domain_name": "docs.example.com", "certificate_arn": "arn:aws:acm:eu-west-1:123456789012:certificate/x"},
            "stages.prod.certificate_arn",
        ),
    ],
)
def test_a_bad_setting_is_refused_with_its_name(changes: dict[str, Any], named: str) -> None:
    with pytest.raises(ConfigError, match=named.replace(".", r"\.")):
        load_stage(_with("prod", **changes), "prod")


@pytest.mark.parametrize("setting", ["retain_data", "deletion_protection", "mfa", "waf", "log_retention_days"])
def test_a_missing_setting_is_refused_with_its_name(setting: str) -> None:
    context = copy.deepcopy(stage_context())
    del context["stages"]["dev"][setting]
    with pytest.raises(ConfigError, match=rf"stages\.dev\.{setting} is required"):
        load_stage(context, "dev")


def test_optional_settings_accept_a_custom_domain_and_an_alarm_email() -> None:
    config = load_stage(
        _with(
            "prod",
            domain_name="docs.example.com",
            certificate_arn="arn:aws:acm:us-east-1:123456789012:certificate/abc",
            alarm_email="ops@example.com",
            web_origins=["https://docs.example.com"],
        ),
        "prod",
    )
    assert config.domain_name == "docs.example.com"
    assert config.alarm_email == "ops@example.com"
    assert config.web_origins == ("https://docs.example.com",)


def test_malware_scanning_defaults_to_guardduty_with_an_hour_to_scan() -> None:
    context = copy.deepcopy(stage_context())
    for setting in ("malware_scanning", "scan_timeout_minutes"):
        context["stages"]["prod"].pop(setting, None)
    config = load_stage(context, "prod")
    assert (config.malware_scanning, config.scanning, config.scan_timeout_minutes) == ("guardduty", True, 60)


@pytest.mark.parametrize("minutes", [5, 1440])
def test_malware_scanning_can_be_off_and_the_timeout_is_bounded(minutes: int) -> None:
    config = load_stage(_with("prod", malware_scanning="off", scan_timeout_minutes=minutes), "prod")
    assert (config.scanning, config.scan_timeout_minutes) == (False, minutes)


def test_an_unknown_stage_is_refused() -> None:
    with pytest.raises(ConfigError, match="unknown stage 'qa'"):
        load_stage(stage_context(), "qa")


def test_a_bad_setting_fails_the_cdk_app_before_anything_is_synthesized(tmp_path: Path) -> None:
    # Given cdk.json context with a bad prod setting, as `cdk synth -c stage=prod` passes it
    context = _with("prod", log_retention_days=42)
    context["stage"] = "prod"
    env = {**os.environ, "CDK_CONTEXT_JSON": json.dumps(context), "CDK_OUTDIR": str(tmp_path)}
    # When the CDK app runs
    result = subprocess.run(
        [sys.executable, "app.py"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    # Then it fails, and its last words name the setting
    assert result.returncode != 0
    last_line = result.stderr.strip().splitlines()[-1]
    assert "ConfigError: stages.prod.log_retention_days must be a CloudWatch retention value, got 42" in last_line
    assert not list(tmp_path.glob("*.template.json"))


# --- each setting reaches the template, per stage --------------------------------------------


def _stage_name(template: Any) -> str:
    (pool,) = template.find_resources("AWS::Cognito::UserPool").values()
    tags = pool["Properties"]["UserPoolTags"]
    return str(tags["stage"])


def test_log_groups_keep_logs_for_the_stage_retention_and_follow_its_removal_policy(template: Any) -> None:
    config = _config(_stage_name(template))
    groups = template.find_resources("AWS::Logs::LogGroup")
    assert len(groups) >= len(SPECS) + 1  # one per function, plus API access logs
    for group in groups.values():
        assert group["Properties"]["RetentionInDays"] == config.log_retention_days
        assert group["DeletionPolicy"] == ("Retain" if config.retain_data else "Delete")
    assert config.log_retention_days in LOG_RETENTION


def test_deletion_protection_follows_the_stage(template: Any) -> None:
    config = _config(_stage_name(template))
    (table,) = template.find_resources("AWS::DynamoDB::Table").values()
    (pool,) = template.find_resources("AWS::Cognito::UserPool").values()
    assert table["Properties"]["DeletionProtectionEnabled"] is config.deletion_protection
    expected_pool = "ACTIVE" if config.deletion_protection else "INACTIVE"
    assert pool["Properties"].get("DeletionProtection", "INACTIVE") == expected_pool


def test_stack_termination_protection_follows_deletion_protection() -> None:
    from aws_cdk import App

    from app import build_app
    from infra.stack import DocuServeStack

    for stage in ("dev", "prod"):
        app = build_app(stage, App(context=stage_context()))
        stack = next(c for c in app.node.children if isinstance(c, DocuServeStack))
        assert stack.termination_protection is _config(stage).deletion_protection


def test_data_is_retained_only_where_the_stage_says(template: Any) -> None:
    config = _config(_stage_name(template))
    expected = "Retain" if config.retain_data else "Delete"
    for kind in ("AWS::S3::Bucket", "AWS::KMS::Key", "AWS::DynamoDB::Table", "AWS::Cognito::UserPool"):
        for lid, resource in template.find_resources(kind).items():
            if lid.startswith("StorageAccessLogs"):
                assert resource["DeletionPolicy"] == "Retain"  # late access logs; docs/operations.md
                continue
            assert resource["DeletionPolicy"] == expected, kind
    # dev empties its buckets on delete so `make destroy STAGE=dev` completes
    assert bool(template.find_resources("Custom::S3AutoDeleteObjects")) is not config.retain_data


def test_mfa_follows_the_stage(template: Any) -> None:
    config = _config(_stage_name(template))
    (pool,) = template.find_resources("AWS::Cognito::UserPool").values()
    expected = {"off": "OFF", "optional": "OPTIONAL", "required": "ON"}[config.mfa]
    assert pool["Properties"]["MfaConfiguration"] == expected


def test_waf_follows_the_stage(template: Any) -> None:
    config = _config(_stage_name(template))
    assert bool(template.find_resources("AWS::WAFv2::WebACL")) is config.waf
    assert bool(template.find_resources("AWS::WAFv2::WebACLAssociation")) is config.waf


def test_api_throttles_follow_the_stage(template: Any) -> None:
    config = _config(_stage_name(template))
    (stage,) = template.find_resources("AWS::ApiGateway::Stage").values()
    settings = stage["Properties"]["MethodSettings"]
    default = next(s for s in settings if s["HttpMethod"] == "*")
    assert (default["ThrottlingRateLimit"], default["ThrottlingBurstLimit"]) == (
        config.api_throttle.rate,
        config.api_throttle.burst,
    )
    for public in (s for s in settings if s["ResourcePath"].startswith("/~1public")):
        assert (public["ThrottlingRateLimit"], public["ThrottlingBurstLimit"]) == (
            config.public_throttle.rate,
            config.public_throttle.burst,
        )


def test_every_function_gets_the_stage_limits(template: Any) -> None:
    config = _config(_stage_name(template))
    functions = [
        f["Properties"]
        for f in template.find_resources("AWS::Lambda::Function").values()
        if "Handler" in f["Properties"] and f["Properties"]["Handler"].startswith("handlers.")
    ]
    assert len(functions) == len(SPECS)
    for props in functions:
        variables = props["Environment"]["Variables"]
        assert {k: v for k, v in variables.items() if k.startswith("LIMIT_")} == config.limits.to_env()
        assert variables["STAGE"] == config.stage


def test_web_origins_are_the_only_cors_origins(template: Any) -> None:
    config = _config(_stage_name(template))
    buckets = template.find_resources("AWS::S3::Bucket").values()
    cors = [b["Properties"]["CorsConfiguration"] for b in buckets if "CorsConfiguration" in b["Properties"]]
    (configuration,) = cors
    for rule in configuration["CorsRules"]:
        # Besides these, only the web app's own (CloudFront) origin: see tests/infra/test_web.py.
        assert {o for o in rule["AllowedOrigins"] if isinstance(o, str)} <= set(config.web_origins)


def test_a_limit_override_in_cdk_json_reaches_the_functions(tmp_path: Path) -> None:
    from tests.infra.conftest import synth

    limits = {"share_max_days": 30, "share_default_days": 3, "max_document_size": 20 * 1024**3}
    template = synth("dev", tmp_path, _with("dev", limits=limits))
    functions = template.find_resources("AWS::Lambda::Function").values()
    variables = [f["Properties"]["Environment"]["Variables"] for f in functions if "Environment" in f["Properties"]]
    limited = [v for v in variables if "LIMIT_SHARE_MAX_DAYS" in v]
    assert len(limited) == len(SPECS)
    assert all(v["LIMIT_SHARE_MAX_DAYS"] == "30" and v["LIMIT_SHARE_DEFAULT_DAYS"] == "3" for v in limited)
