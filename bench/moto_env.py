"""A fresh in-memory moto with every DocuServe resource, and the functions pointed at it.

The same set-up as the tests' ``aws`` fixture, usable outside pytest.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
for _path in (ROOT / "functions", ROOT / "layers" / "domain" / "python", ROOT):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

FAKE_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_NAMESPACE": "DocuServe",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
    "POWERTOOLS_METRICS_DISABLED": "true",
}


@contextmanager
def moto_stack() -> Iterator[Any]:
    """Yield the provisioned ``local.provision.Resources`` inside ``mock_aws``; restore the environment after."""
    import warnings

    warnings.filterwarnings("ignore", "No application metrics to publish", UserWarning)
    saved = dict(os.environ)
    os.environ.update(FAKE_ENV)
    os.environ.pop("AWS_PROFILE", None)
    os.environ.pop("AWS_ENDPOINT_URL", None)
    from moto import mock_aws

    from docuserve.adapters import aws as adapters
    from local.provision import provision

    try:
        with mock_aws():
            resources = provision(web_origins=["http://localhost:8000"])
            os.environ.update(resources.function_environment(web_origin="http://localhost:8000"))
            adapters.reset()
            yield resources
            adapters.reset()
    finally:
        os.environ.clear()
        os.environ.update(saved)
