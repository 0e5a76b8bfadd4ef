"""Synthesize each stage once per session (with cdk-nag) and hand out CloudFormation templates."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


def stage_context() -> dict[str, Any]:
    """cdk.json's context, with the fallback alarm address ``make synth`` passes (prod needs one)."""
    from infra.config import SYNTH_CHECK_ALARM_EMAIL

    context: dict[str, Any] = json.loads((ROOT / "cdk.json").read_text())["context"]
    return {**context, "alarm_email_fallback": SYNTH_CHECK_ALARM_EMAIL}


def synth(stage: str, tmp: Path, context: dict[str, Any] | None = None) -> Any:
    from aws_cdk import App
    from aws_cdk.assertions import Template

    from app import build_app
    from infra.stack import DocuServeStack

    app = App(context=context or stage_context(), outdir=str(tmp))
    build_app(stage, app)
    app.synth()  # runs the cdk-nag validation plugin; raises on any unacknowledged finding
    stack = next(c for c in app.node.children if isinstance(c, DocuServeStack))
    return Template.from_stack(stack)


@pytest.fixture(scope="session")
def dev_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the dev stage was synthesized (its template and asset folders)."""
    return tmp_path_factory.mktemp("cdk-dev")


@pytest.fixture(scope="session")
def prod_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cdk-prod")


@pytest.fixture(scope="session")
def dev(dev_out: Path) -> Any:
    return synth("dev", dev_out)


@pytest.fixture(scope="session")
def prod(prod_out: Path) -> Any:
    return synth("prod", prod_out)


@pytest.fixture(params=["dev", "prod"])
def template(request: pytest.FixtureRequest) -> Any:
    return request.getfixturevalue(request.param)


VARIANT_MAIL_FROM = "noreply@mail.docs.example.com"


@pytest.fixture(scope="session")
def variant(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The dev stage with the other choices: malware scanning off and a mail sender set."""
    context = json.loads(json.dumps(stage_context()))
    context["stages"]["dev"].update(malware_scanning="off", mail_from=VARIANT_MAIL_FROM)
    return synth("dev", tmp_path_factory.mktemp("cdk-variant"), context)
