"""boto3 clients, created lazily once per process and reused across invocations.

Endpoints come from the standard ``AWS_ENDPOINT_URL`` variables, so the local stack points the
very same code at moto without a code path of its own.
"""

from __future__ import annotations

import os
from functools import cache
from typing import Any

import boto3
from botocore.config import Config

from docuserve.settings import get_settings

_DEFAULT_CONFIG = Config(retries={"mode": "standard"})


@cache
def session() -> boto3.session.Session:
    return boto3.session.Session(region_name=get_settings().region)


@cache
def dynamodb() -> Any:
    """Low-level DynamoDB client (typed attribute values, transactions)."""
    return session().client("dynamodb", config=_DEFAULT_CONFIG)


@cache
def s3() -> Any:
    """S3 client that presigns with SigV4 (botocore would use SigV2 in some regions otherwise).

    Virtual-hosted URLs in AWS; path-style when ``S3_ADDRESSING_STYLE=path`` (a loopback endpoint
    such as moto has no per-bucket host names).
    """
    style = os.environ.get("S3_ADDRESSING_STYLE", "virtual")
    config = Config(signature_version="s3v4", s3={"addressing_style": style}, retries={"mode": "standard"})
    return session().client("s3", config=config)


@cache
def cognito() -> Any:
    return session().client("cognito-idp", config=_DEFAULT_CONFIG)


@cache
def sqs() -> Any:
    return session().client("sqs", config=_DEFAULT_CONFIG)


@cache
def kms() -> Any:
    """KMS: the manifest-signing keys (``docuserve.adapters.signer``)."""
    return session().client("kms", config=_DEFAULT_CONFIG)


# Mail is never worth a long wait: the public function sends from the partner's download request.
_MAIL_CONFIG = Config(connect_timeout=2, read_timeout=3, retries={"mode": "standard", "max_attempts": 2})


@cache
def sesv2() -> Any:
    """SES v2, with short timeouts (``docuserve.adapters.mail``)."""
    return session().client("sesv2", config=_MAIL_CONFIG)


def reset() -> None:
    """Forget cached clients and settings (tests and the local stack re-point them at moto)."""
    for fn in (session, dynamodb, s3, cognito, sqs, sesv2, kms):
        fn.cache_clear()
    get_settings.cache_clear()
