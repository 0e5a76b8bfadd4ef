"""Shared fixtures: fake credentials, and moto resources built from the stack's own definitions."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

# No test may reach AWS: fake credentials, and Powertools tracing off outside Lambda.
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_NAMESPACE": "DocuServe",
        "POWERTOOLS_DEV": "false",
    }
)
os.environ.pop("AWS_PROFILE", None)


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """Fresh in-memory moto with every DocuServe resource provisioned, and functions pointed at it."""
    from moto import mock_aws

    from docuserve.adapters import aws as adapters
    from local.provision import provision

    with mock_aws():
        resources = provision(web_origins=["http://localhost:8000"])
        for key, value in resources.function_environment(web_origin="http://localhost:8000").items():
            monkeypatch.setenv(key, value)
        adapters.reset()
        yield resources
        adapters.reset()
