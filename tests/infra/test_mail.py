"""E-mail through SES in the stack (infra/mail.py): only a stage with ``mail_from`` gets an identity
(its domain), a configuration set whose bounces and complaints reach the alarm topic, and send
grants for exactly the functions that mail."""

from __future__ import annotations

from typing import Any

from infra.functions import SPECS
from infra.mail import ALARMED_EVENTS
from infra.stack import MAIL_SENDERS
from tests.infra.conftest import VARIANT_MAIL_FROM
from tests.infra.policy_sim import resolve


def _of_type(template: Any, kind: str) -> dict[str, dict[str, Any]]:
    return dict(template.find_resources(kind))


def _function_roles(template: Any) -> dict[str, str]:
    by_handler = {
        f["Properties"].get("Handler"): f["Properties"]["Role"]["Fn::GetAtt"][0]
        for f in _of_type(template, "AWS::Lambda::Function").values()
        if "Handler" in f["Properties"]
    }
    return {spec.name: by_handler[spec.handler] for spec in SPECS}


def _send_statements(template: Any, role: str) -> list[dict[str, Any]]:
    out = []
    for policy in _of_type(template, "AWS::IAM::Policy").values():
        if {"Ref": role} in policy["Properties"]["Roles"]:
            for s in policy["Properties"]["PolicyDocument"]["Statement"]:
                actions = [s["Action"]] if isinstance(s["Action"], str) else s["Action"]
                if any(a.startswith("ses:") for a in actions):
                    out.append(s)
    return out


def _variables(template: Any) -> list[dict[str, str]]:
    return [
        f["Properties"]["Environment"]["Variables"]
        for f in _of_type(template, "AWS::Lambda::Function").values()
        if str(f["Properties"].get("Handler", "")).startswith("handlers.")
    ]


def test_the_identity_is_the_sender_domain_with_dkim_and_the_stage_configuration_set(variant: Any) -> None:
    (identity,) = _of_type(variant, "AWS::SES::EmailIdentity").values()
    props = identity["Properties"]
    assert props["EmailIdentity"] == "mail.docs.example.com" == VARIANT_MAIL_FROM.split("@")[1]
    assert props["DkimAttributes"] == {"SigningEnabled": True}
    (set_id,) = _of_type(variant, "AWS::SES::ConfigurationSet")
    assert props["ConfigurationSetAttributes"] == {"ConfigurationSetName": {"Ref": set_id}}
    outputs = variant.to_json()["Outputs"]
    assert {"MailDkimRecord1", "MailDkimRecord2", "MailDkimRecord3", "MailConfigurationSet"} <= set(outputs)


def test_the_configuration_set_is_named_per_stage_requires_tls_and_suppresses_bounces(variant: Any) -> None:
    (config_set,) = _of_type(variant, "AWS::SES::ConfigurationSet").values()
    props = config_set["Properties"]
    assert props["Name"] == "docuserve-dev"
    assert props["DeliveryOptions"] == {"TlsPolicy": "REQUIRE"}
    assert props["SuppressionOptions"] == {"SuppressedReasons": ["BOUNCE", "COMPLAINT"]}
    assert props["SendingOptions"] == {"SendingEnabled": True}


def test_bounces_complaints_rejects_and_rendering_failures_go_to_the_alarm_topic(variant: Any) -> None:
    (destination,) = _of_type(variant, "AWS::SES::ConfigurationSetEventDestination").values()
    (topic,) = _of_type(variant, "AWS::SNS::Topic")
    event = destination["Properties"]["EventDestination"]
    assert sorted(event["MatchingEventTypes"]) == ["bounce", "complaint", "reject", "renderingFailure"]
    assert len(ALARMED_EVENTS) == 4
    assert event["SnsDestination"] == {"TopicARN": {"Ref": topic}}
    assert event["Enabled"] is True


def test_ses_may_publish_to_the_encrypted_topic_for_this_configuration_set_only(variant: Any) -> None:
    (policy,) = _of_type(variant, "AWS::SNS::TopicPolicy").values()
    (ses_publish,) = [
        s
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
        if s.get("Principal") == {"Service": "ses.amazonaws.com"}
    ]
    assert ses_publish["Action"] == "sns:Publish"
    (set_id,) = _of_type(variant, "AWS::SES::ConfigurationSet")  # its Ref is its name, docuserve-dev
    source = resolve(ses_publish["Condition"]["StringEquals"]["AWS:SourceArn"])
    assert source.endswith(f":configuration-set/ref:{set_id}")
    (topic,) = _of_type(variant, "AWS::SNS::Topic").values()
    key = _of_type(variant, "AWS::KMS::Key")[topic["Properties"]["KmsMasterKeyId"]["Fn::GetAtt"][0]]
    (ses_key,) = [
        s for s in key["Properties"]["KeyPolicy"]["Statement"] if s.get("Principal") == {"Service": "ses.amazonaws.com"}
    ]
    assert sorted(ses_key["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey*"]
    assert ses_key["Resource"] == "*"  # the key's own policy: "*" is this key


def test_exactly_the_mailing_functions_may_send_and_only_as_the_stage_sender(variant: Any) -> None:
    # public and partner_uploads: a share link's and an upload request's recipient codes
    assert set(MAIL_SENDERS) == {
        "members",
        "public",
        "partner_uploads",
        "upload_events",
        "trash_sweeper",
        "audit_stream",
    }
    for name, role in _function_roles(variant).items():
        statements = _send_statements(variant, role)
        if name not in MAIL_SENDERS:
            assert statements == [], name
            continue
        (send,) = statements
        assert send["Action"] == "ses:SendEmail", name  # SES v2 SendEmail, raw content included
        resources = sorted(resolve(r) for r in send["Resource"])
        assert [r.rsplit(":", 1)[1] for r in resources] == [
            "configuration-set/docuserve-dev",
            "identity/mail.docs.example.com",
            f"identity/{VARIANT_MAIL_FROM}",
        ], name
        assert all(":ses:" in r for r in resources)
        assert send["Condition"] == {"StringEquals": {"ses:FromAddress": VARIANT_MAIL_FROM}}


def test_the_functions_are_told_the_sender_and_configuration_set(variant: Any) -> None:
    for variables in _variables(variant):
        assert variables["MAIL_FROM"] == VARIANT_MAIL_FROM
        assert variables["MAIL_CONFIGURATION_SET"] == "docuserve-dev"


def test_without_mail_from_there_is_no_identity_no_grant_and_no_mail(template: Any) -> None:
    assert not template.find_resources("AWS::SES::EmailIdentity")
    assert not template.find_resources("AWS::SES::ConfigurationSet")
    for role in _function_roles(template).values():
        assert _send_statements(template, role) == []
    for variables in _variables(template):
        assert variables["MAIL_FROM"] == ""
        assert variables["MAIL_CONFIGURATION_SET"] == ""
