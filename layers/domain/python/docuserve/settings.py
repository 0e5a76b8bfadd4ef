"""Typed runtime settings, read once from the environment the stack (or local runner) sets.

``function_environment`` is the one place that environment is built, for the CDK stack
(``infra/functions.py``, with CloudFormation tokens as values) and for the local stack
(``local/provision.py``); ``Settings.from_env`` reads it back and refuses to start without it.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from functools import cache

from docuserve.limits import Limits

# What every function must be given; a function started without one of them fails its first
# request with a message naming it, rather than calling AWS with an empty table or bucket name.
REQUIRED = ("STAGE", "TABLE_NAME", "BUCKET_NAME", "KMS_KEY_ARN", "USER_POOL_ID", "USER_POOL_CLIENT_ID", "WEB_ORIGIN")


UPLOAD_JOBS_QUEUE_URL = "UPLOAD_JOBS_QUEUE_URL"
# The stage's manifest-signing keys, oldest first, as JSON ``[{"key_id", "created_at"}]``; the last
# one signs. Only the functions that sign or list keys are given it (``docuserve.custody.signing``).
SIGNING_KEYS = "SIGNING_KEYS"
DEFAULT_QUOTA_BYTES = 100 * 1024**3  # 100 GiB: a workspace's quota unless the stage or an admin says otherwise


class MissingSetting(RuntimeError):
    """The function's environment lacks a variable the stack always sets."""


def function_environment(
    *,
    stage: str,
    table_name: str,
    bucket_name: str,
    kms_key_arn: str,
    user_pool_id: str,
    user_pool_client_id: str,
    web_origin: str,
    cors_origins: str,
    limits: Limits,
    malware_scanning: bool = True,
    scan_timeout_minutes: int = 60,
    mail_from: str = "",
    mail_configuration_set: str = "",
    default_quota_bytes: int = DEFAULT_QUOTA_BYTES,
) -> dict[str, str]:
    """The environment every DocuServe function runs with (``cors_origins``: comma-separated).

    ``malware_scanning``: versions wait for a scan result (GuardDuty in AWS, the stand-in scanner
    locally) before they become available. ``mail_from`` empty: the stage sends no mail.
    ``default_quota_bytes``: the quota of a workspace whose admins set none (``docuserve.quota``).
    """
    return {
        "STAGE": stage,
        "TABLE_NAME": table_name,
        "BUCKET_NAME": bucket_name,
        "KMS_KEY_ARN": kms_key_arn,
        "USER_POOL_ID": user_pool_id,
        "USER_POOL_CLIENT_ID": user_pool_client_id,
        "WEB_ORIGIN": web_origin,
        "CORS_ORIGINS": cors_origins,
        "POWERTOOLS_METRICS_NAMESPACE": "DocuServe",
        "POWERTOOLS_LOG_LEVEL": "INFO",
        "MALWARE_SCANNING": "on" if malware_scanning else "off",
        "SCAN_TIMEOUT_MINUTES": str(scan_timeout_minutes),
        "MAIL_FROM": mail_from,
        "MAIL_CONFIGURATION_SET": mail_configuration_set,
        "DEFAULT_QUOTA_BYTES": str(default_quota_bytes),
        **limits.to_env(),
    }


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
    # Only the functions that queue upload jobs are given it (``adapters.jobs`` refuses without it).
    upload_jobs_queue_url: str = ""
    # Fail closed: a function started without the variable waits for scan results.
    malware_scanning: bool = True
    scan_timeout_minutes: int = 60
    mail_from: str = ""  # empty: this stage sends no mail
    mail_configuration_set: str = ""
    default_quota_bytes: int = DEFAULT_QUOTA_BYTES
    # (key_id, created_at) of each signing key still listed at GET /public/keys; the last signs.
    signing_keys: tuple[tuple[str, str], ...] = ()

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        """Read settings from ``env`` (default ``os.environ``); a missing required variable is an error."""
        e = dict(os.environ if env is None else env)
        missing = [key for key in REQUIRED if not e.get(key)]
        region = e.get("AWS_REGION") or e.get("AWS_DEFAULT_REGION")
        if not region:
            missing.append("AWS_REGION")
        if missing:
            raise MissingSetting(f"the function's environment lacks {', '.join(missing)}")
        return cls(
            stage=e["STAGE"],
            region=str(region),
            table_name=e["TABLE_NAME"],
            bucket_name=e["BUCKET_NAME"],
            kms_key_arn=e["KMS_KEY_ARN"],
            user_pool_id=e["USER_POOL_ID"],
            user_pool_client_id=e["USER_POOL_CLIENT_ID"],
            web_origin=e["WEB_ORIGIN"].rstrip("/"),
            cors_origins=tuple(
                o.strip().rstrip("/")
                for o in (e.get("CORS_ORIGINS") or e.get("WEB_ORIGIN", "")).split(",")
                if o.strip()
            ),
            service=e.get("POWERTOOLS_SERVICE_NAME", "docuserve"),
            limits=Limits.from_env(e),
            upload_jobs_queue_url=e.get(UPLOAD_JOBS_QUEUE_URL, ""),
            malware_scanning=e.get("MALWARE_SCANNING", "on") != "off",
            scan_timeout_minutes=int(e.get("SCAN_TIMEOUT_MINUTES") or 60),
            mail_from=e.get("MAIL_FROM", ""),
            mail_configuration_set=e.get("MAIL_CONFIGURATION_SET", ""),
            default_quota_bytes=int(e.get("DEFAULT_QUOTA_BYTES") or DEFAULT_QUOTA_BYTES),
            signing_keys=tuple((k["key_id"], k["created_at"]) for k in json.loads(e.get(SIGNING_KEYS) or "[]")),
        )


@cache
def get_settings() -> Settings:
    """The process-wide settings, read on first use (not at import)."""
    return Settings.from_env()
