"""Runtime settings: one builder for the functions' environment, read back strictly."""

from __future__ import annotations

import pytest

from docuserve.limits import Limits
from docuserve.settings import REQUIRED, MissingSetting, Settings, function_environment

ENV = {
    "AWS_REGION": "eu-west-1",
    **function_environment(
        stage="prod",
        table_name="table",
        bucket_name="bucket",
        kms_key_arn="arn:aws:kms:eu-west-1:123456789012:key/k",
        user_pool_id="eu-west-1_pool",
        user_pool_client_id="client",
        web_origin="https://docs.example.com/",
        cors_origins="https://docs.example.com,http://localhost:8000",
        limits=Limits(share_max_days=30),
    ),
}


def test_what_the_builder_writes_reads_back_as_the_same_settings() -> None:
    settings = Settings.from_env(ENV)
    assert (settings.stage, settings.region, settings.table_name, settings.bucket_name) == (
        "prod",
        "eu-west-1",
        "table",
        "bucket",
    )
    assert settings.web_origin == "https://docs.example.com"
    assert settings.cors_origins == ("https://docs.example.com", "http://localhost:8000")
    assert settings.limits.share_max_days == 30


@pytest.mark.parametrize("key", [*REQUIRED, "AWS_REGION"])
def test_a_missing_variable_fails_fast_and_is_named(key: str) -> None:
    env = {k: v for k, v in ENV.items() if k != key}
    with pytest.raises(MissingSetting, match=key):
        Settings.from_env(env)
    with pytest.raises(MissingSetting, match=key):
        Settings.from_env({**env, key: ""})


def test_the_cdk_stack_and_the_local_stack_use_the_one_builder() -> None:
    import inspect

    import infra.functions
    import local.provision

    for module in (infra.functions, local.provision):
        source = inspect.getsource(module)
        assert "function_environment(" in source
        assert '"TABLE_NAME"' not in source  # no second copy of the variable names
