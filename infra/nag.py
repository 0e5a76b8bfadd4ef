"""cdk-nag 3 wiring: the AwsSolutions validation plugin and reasoned acknowledgements."""

from __future__ import annotations

from aws_cdk import Acknowledgment, App, Validations
from cdk_nag import AwsSolutionsChecks
from constructs import IConstruct


def add_nag(app: App) -> None:
    """Run AwsSolutions checks on every stack of ``app``; any unacknowledged finding fails synth."""
    Validations.of(app).add_plugins(AwsSolutionsChecks(app, verbose=True))


def acknowledge(scope: IConstruct, rule: str, reason: str) -> None:
    """Acknowledge one nag finding (``AwsSolutions-IAM5[Resource::...]`` form) with its reason."""
    if len(reason) < 20:
        raise ValueError(f"acknowledgement of {rule} needs a real reason")
    Validations.of(scope).acknowledge(Acknowledgment(id=rule, reason=reason))
