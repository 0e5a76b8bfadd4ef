"""Typed runtime settings, read once from the environment the stack (or local runner) sets."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import cache

from docuserve.limits import Limits


@dataclass(frozen=True)
class Settings:
    """What a function needs to know about its deployment."""

    stage: str
    region: str
    table_name: str
    bucket_name: str
    kms_key_arn: str
    user_pool_id: str
    user_pool_client_id: str
    web_origin: str
    # Origins whose browsers may read API answers (the web app's, plus configured extras).
    cors_origins: tuple[str, ...] = ()
    service: str = "docuserve"
    limits: Limits = field(default_factory=Limits)

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        """Read settings from ``env`` (default ``os.environ``); absent values become empty."""
        e = dict(os.environ if env is None else env)
        return cls(
            stage=e.get("STAGE", "dev"),
            region=e.get("AWS_REGION") or e.get("AWS_DEFAULT_REGION") or "us-east-1",
            table_name=e.get("TABLE_NAME", ""),
            bucket_name=e.get("BUCKET_NAME", ""),
            kms_key_arn=e.get("KMS_KEY_ARN", ""),
            user_pool_id=e.get("USER_POOL_ID", ""),
            user_pool_client_id=e.get("USER_POOL_CLIENT_ID", ""),
            web_origin=e.get("WEB_ORIGIN", "http://localhost:8000").rstrip("/"),
            cors_origins=tuple(
                o.strip().rstrip("/")
                for o in (e.get("CORS_ORIGINS") or e.get("WEB_ORIGIN", "")).split(",")
                if o.strip()
            ),
            service=e.get("POWERTOOLS_SERVICE_NAME", "docuserve"),
            limits=Limits.from_env(e),
        )


@cache
def get_settings() -> Settings:
    """The process-wide settings, read on first use (not at import)."""
    return Settings.from_env()
