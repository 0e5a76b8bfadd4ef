"""Where things are: the deployment (``{web_origin}/config.json``) and the CLI's own files.

The CLI's files live in ``$XDG_CONFIG_HOME/docuserve`` (default ``~/.config/docuserve``):
``session.json`` (0600, the refresh token per web origin) and ``uploads/`` (one resume state file
per multipart upload in progress).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from docuserve_cli.errors import NETWORK, USAGE, CliError

TIMEOUT_S = 30


@dataclass(frozen=True)
class Deployment:
    """What ``/config.json`` says: the API, the user pool and (locally) Cognito's endpoint."""

    web_origin: str
    api_url: str
    region: str
    user_pool_id: str
    client_id: str
    cognito_endpoint: str | None = None

    @classmethod
    def from_config(cls, web_origin: str, config: dict[str, Any]) -> Deployment:
        try:
            return cls(
                web_origin=web_origin,
                api_url=str(config["api_url"]).rstrip("/"),
                region=str(config["region"]),
                user_pool_id=str(config["user_pool_id"]),
                client_id=str(config["user_pool_client_id"]),
                cognito_endpoint=str(config["cognito_endpoint"]) if config.get("cognito_endpoint") else None,
            )
        except KeyError as missing:
            raise CliError(
                f"{web_origin}/config.json lacks {missing}: is this a DocuServe web origin?", USAGE
            ) from None


def normalise_origin(url: str) -> str:
    """``https://docs.example.com/`` → ``https://docs.example.com``; a scheme is required."""
    url = url.strip().rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise CliError(f"--url must start with https:// (or http:// locally), got {url!r}", USAGE, code="bad_url")
    return url


def discover(web_origin: str) -> Deployment:
    """Read ``{web_origin}/config.json``."""
    origin = normalise_origin(web_origin)
    try:
        response = requests.get(f"{origin}/config.json", timeout=TIMEOUT_S)
    except requests.RequestException as exc:
        raise CliError(f"Cannot reach {origin}: {type(exc).__name__}", NETWORK, code="network") from None
    if response.status_code != 200:
        raise CliError(f"{origin}/config.json answered HTTP {response.status_code}", NETWORK, code="network")
    try:
        config = response.json()
    except ValueError:
        raise CliError(f"{origin}/config.json is not JSON: is this a DocuServe web origin?", USAGE) from None
    if not isinstance(config, dict):
        raise CliError(f"{origin}/config.json is not a JSON object", USAGE)
    return Deployment.from_config(origin, config)


def config_dir() -> Path:
    """``$XDG_CONFIG_HOME/docuserve`` or ``~/.config/docuserve``."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "docuserve"
