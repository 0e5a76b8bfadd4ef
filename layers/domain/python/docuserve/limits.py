"""Deployment limits (SPEC "Limits"): one definition read by the CDK config and the functions."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

MIB = 1024 * 1024
GIB = 1024 * MIB
TIB = 1024 * GIB


@dataclass(frozen=True)
class Limits:
    """Every tunable limit, with SPEC's defaults. Stages override them in ``cdk.json``."""

    single_put_threshold: int = 100 * MIB
    # Grows per upload when a file would need more than S3's 10,000 parts (above 160 GiB).
    part_size: int = 16 * MIB
    max_document_size: int = 5 * TIB
    upload_url_ttl_seconds: int = 15 * 60
    download_url_ttl_seconds: int = 60
    share_default_days: int = 7
    share_max_days: int = 90
    password_min_length: int = 8
    max_downloads_max: int = 10_000
    page_size_default: int = 50
    page_size_max: int = 200
    trash_days: int = 30
    audit_days: int = 365
    lockout_threshold: int = 10
    lockout_minutes: int = 15

    def validate(self) -> None:
        """Raise ``ValueError`` naming the first setting that makes no sense."""
        for f in fields(self):
            value = getattr(self, f.name)
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"limits.{f.name} must be a positive integer, got {value!r}")
        # S3 multipart: parts are 5 MiB..5 GiB and at most 10,000 of them.
        if not 5 * MIB <= self.part_size <= 5 * GIB:
            raise ValueError("limits.part_size must be between 5 MiB and 5 GiB")
        if self.single_put_threshold > 5 * GIB:
            raise ValueError("limits.single_put_threshold must be at most 5 GiB (S3 single PUT)")
        if self.max_document_size > 5 * TIB:
            raise ValueError("limits.max_document_size must be at most 5 TiB (S3 object limit)")
        if self.download_url_ttl_seconds > 60:
            raise ValueError("limits.download_url_ttl_seconds must be at most 60 (security promise 4)")
        if self.upload_url_ttl_seconds > 15 * 60:
            raise ValueError("limits.upload_url_ttl_seconds must be at most 900")
        if self.share_default_days > self.share_max_days:
            raise ValueError("limits.share_default_days must not exceed limits.share_max_days")
        if self.page_size_default > self.page_size_max:
            raise ValueError("limits.page_size_default must not exceed limits.page_size_max")
        if self.password_min_length < 8:
            raise ValueError("limits.password_min_length must be at least 8")

    @classmethod
    def from_mapping(cls, raw: dict[str, Any]) -> Limits:
        """Build from a ``cdk.json``-style mapping; unknown keys are an error, not ignored."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(raw) - known)
        if unknown:
            raise ValueError(f"unknown limits setting(s): {', '.join('limits.' + u for u in unknown)}")
        limits = cls(**raw)
        limits.validate()
        return limits

    def to_env(self) -> dict[str, str]:
        """The environment variables a function reads these limits from."""
        return {f"LIMIT_{k.upper()}": str(v) for k, v in asdict(self).items()}

    @classmethod
    def from_env(cls, env: dict[str, str]) -> Limits:
        """Read limits back from ``to_env`` variables; missing ones keep their default."""
        values: dict[str, Any] = {}
        for f in fields(cls):
            key = f"LIMIT_{f.name.upper()}"
            if key in env:
                values[f.name] = int(env[key])
        return cls(**values)
