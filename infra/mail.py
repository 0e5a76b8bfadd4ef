"""E-mail through Amazon SES (SPEC phase 2): the sending identity, the stage's configuration set,
its bounce and complaint feed to the alarm topic, and the grants of the functions that send.

Only a stage with ``mail_from`` gets any of it; without one the functions get an empty
``MAIL_FROM`` and send nothing.

The identity is the **domain** of ``mail_from``, not the address, for three reasons:

- Cognito's invitations already send from ``mail_from`` through SES, and Cognito refuses a pool
  whose sender is not verified, so the address identity must exist (and be verified) before the
  first deploy (``make preflight`` checks it). A stack that also created that address identity
  would fail with "already exists"; the domain identity is a different resource.
- A domain identity signs with Easy DKIM, which partners' mail servers check (DMARC alignment);
  mail from an address identity alone is not DKIM-signed with the sender's domain and lands in
  spam more often, and the recipient codes must arrive.
- SES production access and reputation are managed per domain.

The operator publishes the three DKIM CNAME records the stack outputs (``docs/operations.md``,
"Scanning and mail"). Until the domain verifies, SES still sends from the verified address.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import CfnOutput, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_ses as ses
from aws_cdk import aws_sns as sns
from constructs import Construct

from infra.config import StageConfig

# What an operator must hear about: mail that never arrives (hard bounces, rejections, templates
# that failed to render) and recipients who marked it as spam, which threatens the account's
# sending. Deliveries, opens and clicks are not alarms.
ALARMED_EVENTS = (
    ses.EmailSendingEvent.BOUNCE,
    ses.EmailSendingEvent.COMPLAINT,
    ses.EmailSendingEvent.REJECT,
    ses.EmailSendingEvent.RENDERING_FAILURE,
)


def configuration_set_name(config: StageConfig) -> str:
    """The stage's SES configuration set, or "" for a stage without ``mail_from`` (no mail)."""
    return f"docuserve-{config.stage}" if config.mail_from else ""


def sender_domain(config: StageConfig) -> str:
    """The domain of ``mail_from`` (the SES identity this stack owns)."""
    if not config.mail_from:
        raise ValueError("the stage has no mail_from")
    return config.mail_from.rsplit("@", 1)[1].lower()


class Mail(Construct):
    """SES identity (the sender's domain), configuration set, bounce/complaint feed, send grants."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: StageConfig,
        alarm_topic: sns.ITopic,
        alarm_key: kms.Key,
        senders: Sequence[lambda_.Function],
    ) -> None:
        super().__init__(scope, id)
        stack = Stack.of(self)
        name = configuration_set_name(config)
        domain = sender_domain(config)

        self.configuration_set = ses.ConfigurationSet(
            self,
            "ConfigurationSet",
            configuration_set_name=name,
            sending_enabled=True,
            reputation_metrics=True,
            # Never mail an address that bounced or complained again (on top of the account list).
            suppression_reasons=ses.SuppressionReasons.BOUNCES_AND_COMPLAINTS,
            # Links and recipient codes never cross the Internet in clear text: SES refuses to
            # deliver to a server that does not offer TLS (the mail bounces, and the bounce alarms).
            tls_policy=ses.ConfigurationSetTlsPolicy.REQUIRE,
        )
        self.identity = ses.EmailIdentity(
            self,
            "Domain",
            identity=ses.Identity.domain(domain),
            configuration_set=self.configuration_set,
            dkim_signing=True,
        )
        # CDK adds the topic-policy statement that lets SES publish for this configuration set only
        # (aws:SourceArn); the topic is encrypted with its own key, which SES must be able to use.
        # Like the CloudWatch statement beside it, and as AWS documents for services publishing to
        # encrypted topics, the key statement carries no condition: the topic policy decides who
        # publishes, and a condition KMS does not see would silently drop every bounce.
        configuration_set_arn = stack.format_arn(service="ses", resource="configuration-set", resource_name=name)
        alarm_key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="SesEventsEncryptNotifications",
                principals=[iam.ServicePrincipal("ses.amazonaws.com")],
                actions=["kms:GenerateDataKey*", "kms:Decrypt"],
                resources=["*"],
            )
        )
        self.event_destination = ses.ConfigurationSetEventDestination(
            self,
            "BouncesAndComplaints",
            configuration_set=self.configuration_set,
            configuration_set_event_destination_name="alarm-topic",
            destination=ses.EventDestination.sns_topic(alarm_topic),
            events=list(ALARMED_EVENTS),
        )

        # SES v2 SendEmail (raw MIME content is the same action) authorizes the identity used and
        # the configuration set named. The address identity (Cognito's, verified before deploy) is
        # the one SES uses while both exist, so both identities are granted, and only mail_from.
        identities = [
            stack.format_arn(service="ses", resource="identity", resource_name=config.mail_from),
            stack.format_arn(service="ses", resource="identity", resource_name=domain),
        ]
        for fn in senders:
            fn.add_to_role_policy(
                iam.PolicyStatement(
                    sid="SendMailFromTheStageSender",
                    actions=["ses:SendEmail"],
                    resources=[*identities, configuration_set_arn],
                    conditions={"StringEquals": {"ses:FromAddress": config.mail_from}},
                )
            )

        # The DKIM records to publish in the sender domain's DNS (docs/operations.md).
        for i, (record_name, record_value) in enumerate(
            (
                (self.identity.dkim_dns_token_name1, self.identity.dkim_dns_token_value1),
                (self.identity.dkim_dns_token_name2, self.identity.dkim_dns_token_value2),
                (self.identity.dkim_dns_token_name3, self.identity.dkim_dns_token_value3),
            ),
            start=1,
        ):
            CfnOutput(self, f"DkimRecord{i}", value=f"{record_name} CNAME {record_value}").override_logical_id(
                f"MailDkimRecord{i}"
            )
        CfnOutput(self, "ConfigurationSetName", value=name).override_logical_id("MailConfigurationSet")
