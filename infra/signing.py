"""The stage's manifest-signing keys: KMS asymmetric keys (ECC_NIST_P256, SIGN_VERIFY, ECDSA_SHA_256).

``signing_keys`` in the stage's settings lists the keys by creation date, oldest first; each date
is one key and the last one signs (``docuserve.custody.signing``). Rotating adds a date (a new
key); an older key stays, listed at ``GET /public/keys`` and readable (``kms:GetPublicKey``),
until every manifest it signed has expired: a link lives at most ``limits.share_max_days``, so a
date may be removed that long after the next one was added. Why a stage setting and not a table
item: the keys are infrastructure (created, retained and granted by the stack), the list changes
only with a deploy, and the functions then read it from their environment with no DynamoDB call.

Only the functions that sign get ``kms:Sign``, on the current key only; the public function gets
``kms:GetPublicKey`` on the listed keys and nothing else.
"""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from docuserve.custody.signing import ALGORITHM, KEY_SPEC, KEY_USAGE, signing_keys_setting
from docuserve.settings import SIGNING_KEYS
from infra.config import StageConfig
from infra.nag import acknowledge

assert (KEY_SPEC, KEY_USAGE, ALGORITHM) == ("ECC_NIST_P256", "SIGN_VERIFY", "ECDSA_SHA_256")


class SigningKeys(Construct):
    """One KMS key per listed creation date; the newest signs."""

    def __init__(self, scope: Construct, id: str, *, config: StageConfig) -> None:
        super().__init__(scope, id)
        self.keys: list[tuple[kms.Key, str]] = []
        for created in config.signing_keys:
            key = kms.Key(
                self,
                f"Key{created.replace('-', '')}",
                description=f"DocuServe {config.stage}: signs delivery manifests and audit checkpoints ({created})",
                key_spec=kms.KeySpec.ECC_NIST_P256,
                key_usage=kms.KeyUsage.SIGN_VERIFY,
                removal_policy=RemovalPolicy.RETAIN if config.retain_data else RemovalPolicy.DESTROY,
            )
            acknowledge(
                key,
                "AwsSolutions-KMS5",
                "An asymmetric signing key cannot rotate automatically; rotation adds a new key (signing_keys).",
            )
            self.keys.append((key, f"{created}T00:00:00Z"))
        self.current = self.keys[-1][0]

    def setting(self) -> str:
        """The ``SIGNING_KEYS`` environment value (key ids are deploy-time tokens)."""
        return signing_keys_setting([(key.key_id, created) for key, created in self.keys])

    def allow_listing(self, fn: lambda_.Function) -> None:
        """Public keys only: ``GET /public/keys``."""
        fn.add_environment(SIGNING_KEYS, self.setting())
        fn.add_to_role_policy(
            iam.PolicyStatement(
                sid="ReadSigningPublicKeys",
                actions=["kms:GetPublicKey"],
                resources=[key.key_arn for key, _ in self.keys],
            )
        )

    def allow_signing(self, fn: lambda_.Function) -> None:
        """``kms:Sign`` with the current key, nothing else of any key."""
        fn.add_environment(SIGNING_KEYS, self.setting())
        fn.add_to_role_policy(
            iam.PolicyStatement(sid="SignWithCurrentKey", actions=["kms:Sign"], resources=[self.current.key_arn])
        )
