"""Users: the Cognito user pool (no self sign-up), the ``admins`` group and the web app client."""

from __future__ import annotations

from aws_cdk import Annotations, Aws, Duration, RemovalPolicy
from aws_cdk import aws_cognito as cognito
from constructs import Construct

from docuserve.schema import ADMINS_GROUP, ID_TOKEN_HOURS, PASSWORD_POLICY, REFRESH_TOKEN_DAYS
from infra.config import StageConfig
from infra.nag import acknowledge

_MFA = {"off": cognito.Mfa.OFF, "optional": cognito.Mfa.OPTIONAL, "required": cognito.Mfa.REQUIRED}


def _mail(config: StageConfig) -> cognito.UserPoolEmail | None:
    """Invitations and password resets: through SES from ``mail_from`` when set (in the stack's region)."""
    if not config.mail_from:
        return None  # Cognito's own sender: fine for a dev stage, capped at about 50 mails a day
    return cognito.UserPoolEmail.with_ses(
        from_email=config.mail_from,
        from_name="DocuServe",
        ses_region=Aws.REGION,
    )


class Identity(Construct):
    def __init__(self, scope: Construct, id: str, *, config: StageConfig) -> None:
        super().__init__(scope, id)
        self.user_pool = cognito.UserPool(
            self,
            "Users",
            self_sign_up_enabled=False,
            sign_in_aliases=cognito.SignInAliases(email=True),
            sign_in_case_sensitive=False,
            auto_verify=cognito.AutoVerifiedAttrs(email=True),
            standard_attributes=cognito.StandardAttributes(
                email=cognito.StandardAttribute(required=True, mutable=True)
            ),
            password_policy=cognito.PasswordPolicy(
                min_length=PASSWORD_POLICY.min_length,
                require_lowercase=PASSWORD_POLICY.require_lowercase,
                require_uppercase=PASSWORD_POLICY.require_uppercase,
                require_digits=PASSWORD_POLICY.require_digits,
                require_symbols=PASSWORD_POLICY.require_symbols,
                temp_password_validity=Duration.days(PASSWORD_POLICY.temporary_password_days),
            ),
            mfa=_MFA[config.mfa],
            mfa_second_factor=cognito.MfaSecondFactor(otp=True, sms=False) if config.mfa != "off" else None,
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            user_invitation=cognito.UserInvitationConfig(
                email_subject="Your DocuServe account",
                # The pool signs in by e-mail: {username} would print an internal id, not what the
                # user types. Cognito requires only the password placeholder.
                email_body=(
                    "You have been invited to DocuServe. Sign in with this e-mail address and the temporary "
                    "password {####}; you will choose your own password at first sign-in."
                ),
            ),
            email=_mail(config),
            deletion_protection=config.deletion_protection,
            removal_policy=RemovalPolicy.RETAIN if config.retain_data else RemovalPolicy.DESTROY,
        )
        if config.retain_data and not config.mail_from:
            Annotations.of(self.user_pool).add_warning_v2(
                "docuserve:mail-from",
                f"stages.{config.stage}.mail_from is not set: invitations go through Cognito's own sender, "
                "capped at about 50 mails a day. Verify an address in SES and set it.",
            )
        if config.mfa != "required":
            acknowledge(
                self.user_pool,
                "AwsSolutions-COG2",
                f"MFA is '{config.mfa}' on the {config.stage} stage by its cdk.json setting; prod requires it.",
            )
        for rule in ("AwsSolutions-COG3", "AwsSolutions-COG8"):
            acknowledge(
                self.user_pool,
                rule,
                "Threat protection needs the Cognito Plus feature plan (per-user cost); the org opts in separately.",
            )

        cognito.CfnUserPoolGroup(
            self,
            "AdminsGroup",
            user_pool_id=self.user_pool.user_pool_id,
            group_name=ADMINS_GROUP,
            description="DocuServe administrators: invite and disable users, see every audit trail",
        )

        self.client = self.user_pool.add_client(
            "WebClient",
            generate_secret=False,
            auth_flows=cognito.AuthFlow(user_password=True, user_srp=True),
            prevent_user_existence_errors=True,
            id_token_validity=Duration.hours(ID_TOKEN_HOURS),
            access_token_validity=Duration.hours(ID_TOKEN_HOURS),
            refresh_token_validity=Duration.days(REFRESH_TOKEN_DAYS),
            enable_token_revocation=True,
            # No hosted UI or domain: the app signs in through the Cognito API, so OAuth grants and
            # callback URLs (CDK's defaults) would only be a dangling redirect surface.
            disable_o_auth=True,
            # Users may not write their own e-mail: memberships are granted to a verified address.
            write_attributes=cognito.ClientAttributes().with_standard_attributes(fullname=True, locale=True),
        )
