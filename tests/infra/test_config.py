"""Stage settings: a bad value fails synth with a message that names it."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from infra.config import ConfigError, load_stage
from tests.infra.conftest import stage_context


def _with(stage: str, **changes: Any) -> dict[str, Any]:
    context = copy.deepcopy(stage_context())
    context["stages"][stage].update(changes)
    return context


def test_both_stages_load() -> None:
    assert load_stage(stage_context(), "dev").stage == "dev"
    assert load_stage(stage_context(), "prod").retain_data is True


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"mfa": "sometimes"}, "stages.prod.mfa"),
        ({"log_retention_days": 42}, "stages.prod.log_retention_days"),
        ({"retain_data": "yes"}, "stages.prod.retain_data"),
        ({"limits": {"download_url_ttl_seconds": 600}}, "limits.download_url_ttl_seconds"),
        ({"limits": {"page_sise_max": 10}}, "limits.page_sise_max"),
        ({"web_origins": ["http://insecure.example.com"]}, "stages.prod.web_origins"),
        ({"api_throttle": {"rate": 0, "burst": 1}}, "stages.prod.api_throttle"),
        ({"colour": "blue"}, "colour"),
        ({"alarm_email": "nobody"}, "stages.prod.alarm_email"),
    ],
)
def test_a_bad_setting_is_refused_with_its_name(changes: dict[str, Any], named: str) -> None:
    with pytest.raises(ConfigError, match=named.replace(".", r"\.")):
        load_stage(_with("prod", **changes), "prod")


def test_an_unknown_stage_is_refused() -> None:
    with pytest.raises(ConfigError, match="unknown stage 'qa'"):
        load_stage(stage_context(), "qa")
