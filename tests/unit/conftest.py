"""Unit tests run domain logic without AWS, but with the environment every function is given."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def function_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    from docuserve.limits import Limits
    from docuserve.settings import function_environment, get_settings

    env = function_environment(
        stage="unit",
        table_name="docuserve-unit",
        bucket_name="docuserve-unit",
        kms_key_arn="arn:aws:kms:us-east-1:123456789012:key/unit",
        user_pool_id="us-east-1_unit",
        user_pool_client_id="unit-client",
        web_origin="http://localhost:8000",
        cors_origins="http://localhost:8000",
        limits=Limits(),
    )
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()
