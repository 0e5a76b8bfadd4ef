#!/usr/bin/env python3
"""CDK entry point: one DocuServe stack for the stage named by ``-c stage=dev|prod``."""

from __future__ import annotations

import os

from aws_cdk import App, Environment

from infra.config import load_stage
from infra.nag import add_nag
from infra.stack import DocuServeStack


def build_app(stage: str | None = None, app: App | None = None) -> App:
    """Build the CDK app for one stage, with cdk-nag validating it at synth."""
    app = app or App()
    stage = stage or app.node.try_get_context("stage") or "dev"
    context = {
        "stages": app.node.try_get_context("stages"),
        "alarm_email_fallback": app.node.try_get_context("alarm_email_fallback"),
    }
    config = load_stage(context, stage)
    env = None
    if os.environ.get("CDK_DEFAULT_ACCOUNT"):
        env = Environment(account=os.environ["CDK_DEFAULT_ACCOUNT"], region=os.environ.get("CDK_DEFAULT_REGION"))
    DocuServeStack(app, config.stack_name, config=config, env=env, termination_protection=config.deletion_protection)
    add_nag(app)
    return app


if __name__ == "__main__":
    build_app().synth()
