"""Stage settings from ``cdk.json`` context, read into one typed, validated object.

An invalid setting fails synth with a message that names it (``stages.<stage>.<setting>``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from aws_cdk import aws_logs as logs

from docuserve.custody.signing import DEFAULT_SIGNING_KEYS
from docuserve.limits import Limits

MFA_MODES = ("off", "optional", "required")
# "guardduty": GuardDuty Malware Protection for S3 scans every upload and a version is served only
# once clean (SPEC phase 2, fail closed); "off": no scanning, a version is available once verified.
MALWARE_SCANNING_MODES = ("guardduty", "off")
SCAN_TIMEOUT_MINUTES = (5, 1440)  # how long a version may wait for its result before it alarms
# CloudWatch's allowed retention periods (days) and the CDK enum member for each.
LOG_RETENTION = {
    1: "ONE_DAY", 3: "THREE_DAYS", 5: "FIVE_DAYS", 7: "ONE_WEEK", 14: "TWO_WEEKS", 30: "ONE_MONTH",
    60: "TWO_MONTHS", 90: "THREE_MONTHS", 120: "FOUR_MONTHS", 150: "FIVE_MONTHS", 180: "SIX_MONTHS",
    365: "ONE_YEAR", 400: "THIRTEEN_MONTHS", 545: "EIGHTEEN_MONTHS", 731: "TWO_YEARS", 1096: "THREE_YEARS",
    1827: "FIVE_YEARS", 2192: "SIX_YEARS", 2557: "SEVEN_YEARS", 2922: "EIGHT_YEARS", 3288: "NINE_YEARS",
    3653: "TEN_YEARS",
}  # fmt: skip


_HOSTNAME = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class ConfigError(ValueError):
    """A stage setting in ``cdk.json`` is missing or invalid."""


@dataclass(frozen=True)
class Throttle:
    rate: int
    burst: int


@dataclass(frozen=True)
class StageConfig:
    """Everything that differs between stages."""

    stage: str
    retain_data: bool
    deletion_protection: bool
    mfa: str
    waf: bool
    log_retention_days: int
    web_origins: tuple[str, ...]
    api_throttle: Throttle
    public_throttle: Throttle
    limits: Limits = field(default_factory=Limits)
    waf_public_rate_per_5min: int = 300
    domain_name: str | None = None
    certificate_arn: str | None = None
    alarm_email: str | None = None
    # Cognito's own sender is capped at about 50 mails a day: a stage that invites real users sends
    # through SES from this verified address (``make preflight`` checks the identity).
    mail_from: str | None = None
    malware_scanning: str = "guardduty"
    scan_timeout_minutes: int = 60
    # A workspace's storage quota unless an admin sets its own (``PATCH /admin/workspaces/{id}``).
    default_quota_bytes: int = 100 * 1024**3
    # Manifest-signing keys by creation date (YYYY-MM-DD), oldest first; the last signs (infra/signing.py).
    signing_keys: tuple[str, ...] = DEFAULT_SIGNING_KEYS

    @property
    def scanning(self) -> bool:
        """Uploads wait for a malware scan result before they can be served."""
        return self.malware_scanning != "off"

    @property
    def stack_name(self) -> str:
        return f"DocuServe-{self.stage}"

    @property
    def log_retention(self) -> logs.RetentionDays:
        return logs.RetentionDays[LOG_RETENTION[self.log_retention_days]]


def _require(raw: dict[str, Any], key: str, kind: type | tuple[type, ...], where: str) -> Any:
    if key not in raw:
        raise ConfigError(f"{where}.{key} is required")
    value = raw[key]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ConfigError(f"{where}.{key} has the wrong type: {value!r}")
    return value


def _throttle(raw: dict[str, Any], key: str, where: str) -> Throttle:
    t = _require(raw, key, dict, where)
    rate = _require(t, "rate", int, f"{where}.{key}")
    burst = _require(t, "burst", int, f"{where}.{key}")
    if rate <= 0 or burst < rate:
        raise ConfigError(f"{where}.{key} needs rate > 0 and burst >= rate")
    return Throttle(rate=rate, burst=burst)


def _optional_str(raw: dict[str, Any], key: str, where: str) -> str | None:
    value = raw.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ConfigError(f"{where}.{key} has the wrong type: {value!r}")
    return value


def _is_origin(value: object) -> bool:
    """``scheme://host[:port]`` and nothing else: what a browser sends in ``Origin``."""
    if not isinstance(value, str):
        return False
    try:
        parts = urlsplit(value)
        _ = parts.port  # raises ValueError on a malformed port
    except ValueError:
        return False
    secure = parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in ("localhost", "127.0.0.1"))
    whole = f"{parts.scheme}://{parts.netloc}" == value
    return secure and bool(parts.hostname) and whole and not parts.username and not parts.password


SYNTH_CHECK_ALARM_EMAIL = "synth-check@example.com"


def load_stage(context: dict[str, Any], stage: str) -> StageConfig:
    """Read and validate one stage from the ``stages`` context mapping.

    A stage that retains data (prod) must name ``alarm_email``: its alarms have to reach someone.
    ``make synth`` (a check, never a deploy) passes ``alarm_email_fallback`` to synthesize a stage
    whose operator has not set one yet; deploy and diff do not.
    """
    stages = context.get("stages")
    if not isinstance(stages, dict) or not stages:
        raise ConfigError("context 'stages' is missing from cdk.json")
    if stage not in stages:
        raise ConfigError(f"unknown stage {stage!r}; cdk.json defines: {', '.join(sorted(stages))}")
    raw = stages[stage]
    where = f"stages.{stage}"
    known = {
        "retain_data", "deletion_protection", "mfa", "waf", "log_retention_days", "web_origins",
        "api_throttle", "public_throttle", "limits", "waf_public_rate_per_5min", "domain_name",
        "certificate_arn", "alarm_email", "mail_from", "malware_scanning", "scan_timeout_minutes",
        "default_quota_bytes", "signing_keys",
    }  # fmt: skip
    unknown = sorted(set(raw) - known)
    if unknown:
        raise ConfigError(f"{where} has unknown setting(s): {', '.join(unknown)}")

    mfa = _require(raw, "mfa", str, where)
    if mfa not in MFA_MODES:
        raise ConfigError(f"{where}.mfa must be one of {', '.join(MFA_MODES)}")
    retention = _require(raw, "log_retention_days", int, where)
    if retention not in LOG_RETENTION:
        raise ConfigError(f"{where}.log_retention_days must be a CloudWatch retention value, got {retention}")
    origins = _require(raw, "web_origins", list, where)
    for origin in origins:
        if not _is_origin(origin):
            raise ConfigError(
                f"{where}.web_origins entries must be origins like https://docs.example.com "
                f"(https, no path; http only for localhost), got {origin!r}"
            )
    domain = _optional_str(raw, "domain_name", where)
    certificate = _optional_str(raw, "certificate_arn", where)
    if bool(domain) != bool(certificate):
        raise ConfigError(f"{where}.domain_name and {where}.certificate_arn go together")
    if domain and not _HOSTNAME.match(domain):
        raise ConfigError(f"{where}.domain_name must be a lower-case host name like docs.example.com, got {domain!r}")
    if certificate and not certificate.startswith("arn:aws:acm:us-east-1:"):
        raise ConfigError(f"{where}.certificate_arn must be an ACM certificate in us-east-1 (CloudFront)")
    email = _optional_str(raw, "alarm_email", where)
    if email and not _EMAIL.match(email):
        raise ConfigError(f"{where}.alarm_email must be an email address, got {email!r}")
    if not email and raw.get("retain_data") is True:
        email = context.get("alarm_email_fallback")
    if not email and raw.get("retain_data") is True:
        raise ConfigError(
            f"{where}.alarm_email is required: a stage that retains data must send its alarms somewhere "
            "(set it in cdk.json under context.stages)"
        )
    mail_from = _optional_str(raw, "mail_from", where)
    if mail_from and not _EMAIL.match(mail_from):
        raise ConfigError(f"{where}.mail_from must be an email address verified in SES, got {mail_from!r}")
    scanning = raw.get("malware_scanning", "guardduty")
    if scanning not in MALWARE_SCANNING_MODES:
        raise ConfigError(
            f"{where}.malware_scanning must be one of {', '.join(MALWARE_SCANNING_MODES)}, got {scanning!r}"
        )
    timeout = raw.get("scan_timeout_minutes", 60)
    low, high = SCAN_TIMEOUT_MINUTES
    if not isinstance(timeout, int) or isinstance(timeout, bool) or not low <= timeout <= high:
        raise ConfigError(f"{where}.scan_timeout_minutes must be an integer from {low} to {high}, got {timeout!r}")
    quota = raw.get("default_quota_bytes", 100 * 1024**3)
    if not isinstance(quota, int) or isinstance(quota, bool) or quota < 0:
        raise ConfigError(f"{where}.default_quota_bytes must be a whole number of bytes (0 or more), got {quota!r}")
    signing = raw.get("signing_keys", list(DEFAULT_SIGNING_KEYS))
    if (
        not isinstance(signing, list)
        or not signing
        or not all(isinstance(d, str) and _DATE.match(d) for d in signing)
        or signing != sorted(set(signing))
    ):
        raise ConfigError(f"{where}.signing_keys must list key dates (YYYY-MM-DD), oldest first, got {signing!r}")
    waf_rate = raw.get("waf_public_rate_per_5min", 300)
    if not isinstance(waf_rate, int) or isinstance(waf_rate, bool) or not 10 <= waf_rate <= 2_000_000_000:
        raise ConfigError(f"{where}.waf_public_rate_per_5min must be an integer of at least 10")
    try:
        limits = Limits.from_mapping(_require(raw, "limits", dict, where))
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{where}.{exc}") from exc

    return StageConfig(
        stage=stage,
        retain_data=_require(raw, "retain_data", bool, where),
        deletion_protection=_require(raw, "deletion_protection", bool, where),
        mfa=mfa,
        waf=_require(raw, "waf", bool, where),
        log_retention_days=retention,
        web_origins=tuple(origins),
        api_throttle=_throttle(raw, "api_throttle", where),
        public_throttle=_throttle(raw, "public_throttle", where),
        limits=limits,
        waf_public_rate_per_5min=waf_rate,
        domain_name=domain,
        certificate_arn=certificate,
        alarm_email=email,
        mail_from=mail_from,
        malware_scanning=scanning,
        scan_timeout_minutes=timeout,
        default_quota_bytes=quota,
        signing_keys=tuple(signing),
    )
