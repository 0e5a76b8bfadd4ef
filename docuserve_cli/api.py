"""The API client: Bearer ID token, one refresh-and-retry on 401, every failure a ``CliError``."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import requests

from docuserve_cli import session
from docuserve_cli.config import Deployment
from docuserve_cli.errors import NETWORK, CliError, api_error

TIMEOUT_S = 60


def seg(value: str) -> str:
    """One path segment, percent-encoded."""
    return quote(value, safe="")


def network_error(what: str, exc: Exception) -> CliError:
    detail = " ".join(str(exc).split())[:200]
    return CliError(f"Network error talking to {what}: {type(exc).__name__}: {detail}", NETWORK, code="network")


class Api:
    """Authenticated calls to ``{api_url}``; ``public=True`` calls send no token."""

    def __init__(self, deployment: Deployment) -> None:
        self.deployment = deployment
        self.http = requests.Session()
        self._token: str | None = None

    def _send(self, method: str, path: str, token: str | None, **kwargs: Any) -> requests.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        try:
            return self.http.request(
                method, f"{self.deployment.api_url}{path}", headers=headers, timeout=TIMEOUT_S, **kwargs
            )
        except requests.RequestException as exc:
            raise network_error(self.deployment.api_url, exc) from None

    def call(self, method: str, path: str, *, public: bool = False, raw: bool = False, **kwargs: Any) -> Any:
        """The JSON answer of ``method path`` (``None`` for 204; the text with ``raw``); an error
        answer raises ``CliError``."""
        token = None
        if not public:
            token = self._token = self._token or session.id_token(self.deployment)
        response = self._send(method, path, token, **kwargs)
        if response.status_code == 401 and not public:
            # The token may have expired mid-run (or been revoked): refresh once, then give up.
            token = self._token = session.id_token(self.deployment, force_refresh=True)
            response = self._send(method, path, token, **kwargs)
        if response.status_code >= 400:
            try:
                body = response.json()
            except ValueError:
                body = None
            raise api_error(response.status_code, body)
        if raw:
            return response.text
        if response.status_code == 204 or not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise CliError(f"The API answered {method} {path} with something that is not JSON.", NETWORK) from None

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.call("GET", path, **kwargs)

    def post(self, path: str, body: Any = None, **kwargs: Any) -> Any:
        return self.call("POST", path, json=body if body is not None else {}, **kwargs)

    def all_items(self, path: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Every item of a list route, following ``next_cursor``."""
        items: list[dict[str, Any]] = []
        query = dict(params or {}, limit=200)
        while True:
            page = self.get(path, params=query)
            items.extend(page.get("items", []))
            cursor = page.get("next_cursor")
            if not cursor:
                return items
            query["cursor"] = cursor
