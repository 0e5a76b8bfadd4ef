"""WAF for the REST API (prod): AWS managed common rules plus a per-IP rate limit on /public/*."""

from __future__ import annotations

from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from infra.api import STAGE_NAME
from infra.config import StageConfig

BODY_SIZE_RULE = "SizeRestrictions_BODY"


def _path_starts_with(prefix: str) -> wafv2.CfnWebACL.StatementProperty:
    return wafv2.CfnWebACL.StatementProperty(
        byte_match_statement=wafv2.CfnWebACL.ByteMatchStatementProperty(
            field_to_match=wafv2.CfnWebACL.FieldToMatchProperty(uri_path={}),
            positional_constraint="STARTS_WITH",
            search_string=prefix,
            text_transformations=[wafv2.CfnWebACL.TextTransformationProperty(priority=0, type="NONE")],
        )
    )


def _visibility(name: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
    return wafv2.CfnWebACL.VisibilityConfigProperty(
        # Sampled requests store full URIs, and /public/* URIs carry share tokens (never logged).
        cloud_watch_metrics_enabled=True,
        metric_name=name,
        sampled_requests_enabled=False,
    )


class ApiFirewall(Construct):
    def __init__(self, scope: Construct, id: str, *, config: StageConfig, stage: apigw.Stage) -> None:
        super().__init__(scope, id)
        public_paths = _path_starts_with(f"/{STAGE_NAME}/public/")
        self.web_acl = wafv2.CfnWebACL(
            self,
            "Acl",
            scope="REGIONAL",
            default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
            visibility_config=_visibility(f"docuserve-{config.stage}-api"),
            rules=[
                wafv2.CfnWebACL.RuleProperty(
                    name="aws-common",
                    priority=0,
                    override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
                    statement=wafv2.CfnWebACL.StatementProperty(
                        managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                            vendor_name="AWS",
                            name="AWSManagedRulesCommonRuleSet",
                            # SizeRestrictions_BODY blocks bodies over 8 KB, but completing or
                            # resuming a multipart upload of a few GiB legitimately lists hundreds
                            # of parts (up to 10,000). Count it instead; API Gateway caps bodies at
                            # 10 MB and the handlers validate every field.
                            rule_action_overrides=[
                                wafv2.CfnWebACL.RuleActionOverrideProperty(
                                    name=BODY_SIZE_RULE, action_to_use=wafv2.CfnWebACL.RuleActionProperty(count={})
                                )
                            ],
                        )
                    ),
                    visibility_config=_visibility("aws-common"),
                ),
                wafv2.CfnWebACL.RuleProperty(
                    name="public-rate-limit",
                    priority=1,
                    action=wafv2.CfnWebACL.RuleActionProperty(block={}),
                    statement=wafv2.CfnWebACL.StatementProperty(
                        rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
                            limit=config.waf_public_rate_per_5min,
                            aggregate_key_type="IP",
                            scope_down_statement=public_paths,
                        )
                    ),
                    visibility_config=_visibility("public-rate-limit"),
                ),
            ],
        )
        wafv2.CfnWebACLAssociation(self, "Association", resource_arn=stage.stage_arn, web_acl_arn=self.web_acl.attr_arn)
