"""A client of the local stack (``python -m local``) as the web app or a partner would use it.

``tests/e2e/conftest.py`` starts one stack per test session and hands tests a ``LocalStack``;
``launch()`` starts extra ones for tests that need a process of their own.
"""

from __future__ import annotations

import base64
import hashlib
import os
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests

from local.demo import DEMO_ADMIN, DEMO_MEMBER, DemoUser

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 60
# Meets the pool's password policy (schema.PASSWORD_POLICY).
USER_PASSWORD = "Test-Passw0rd!"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def launch(port: int, log_path: Path) -> subprocess.Popen[bytes]:
    """Start ``python -m local`` on ``port`` from the repository root, output to ``log_path``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_ENDPOINT_URL")}
    env |= {"PORT": str(port), "PYTHONUNBUFFERED": "1"}
    with log_path.open("wb") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "local"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )


def wait_ready(process: subprocess.Popen[bytes], base_url: str, log_path: Path) -> dict[str, Any]:
    """Poll ``/config.json`` until it answers; fail with the stack's output if it never does."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the local stack exited with {process.returncode}:\n{log_path.read_text()}")
        try:
            response = requests.get(f"{base_url}/config.json", timeout=2)
            if response.status_code == 200:
                return dict(response.json())
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the local stack was not ready in {START_TIMEOUT_S} s:\n{log_path.read_text()}")


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass
class User:
    """A user of the stack's user pool (``sub`` is the API's user id)."""

    email: str
    password: str
    sub: str
    groups: tuple[str, ...] = ()


@dataclass
class LocalStack:
    """The running local stack, seen from outside: HTTP to ``base_url``, Cognito at moto.

    - ``api(method, path, token=..., json=...)``: a request to ``{api_url}{path}``.
    - ``sign_in(email, password)`` / ``member_token()`` / ``admin_token()``: a Cognito ID token.
    - ``create_user(groups=("admins",))``: a fresh confirmed user with a permanent password.
    - ``cognito``: a boto3 ``cognito-idp`` client at the moto endpoint from ``/config.json``.
    """

    base_url: str
    config: dict[str, Any]
    log_path: Path
    process: subprocess.Popen[bytes]
    _cognito: Any = field(default=None, repr=False)

    @property
    def api_url(self) -> str:
        return str(self.config["api_url"])

    @property
    def moto_url(self) -> str:
        return str(self.config["cognito_endpoint"])

    def aws(self, service: str) -> Any:
        """A boto3 client for ``service`` at the stack's moto (what the functions talk to)."""
        return boto3.session.Session(
            aws_access_key_id="local", aws_secret_access_key="local", region_name=self.config["region"]
        ).client(service, endpoint_url=self.moto_url)

    @property
    def cognito(self) -> Any:
        if self._cognito is None:
            self._cognito = self.aws("cognito-idp")
        return self._cognito

    def api(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> requests.Response:
        """``method {api_url}{path}`` with ``Authorization: Bearer <token>`` when a token is given."""
        hdrs = dict(headers or {})
        if token is not None:
            hdrs["Authorization"] = f"Bearer {token}"
        return requests.request(method, f"{self.api_url}{path}", headers=hdrs, timeout=30, **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        """A plain GET on the web origin (web app files, ``/config.json``)."""
        return requests.get(f"{self.base_url}{path}", timeout=30, **kwargs)

    def tokens(self, email: str, password: str, *, client_id: str | None = None) -> dict[str, Any]:
        """Cognito's ``AuthenticationResult`` (IdToken, AccessToken, RefreshToken) for a password sign-in."""
        result = self.cognito.initiate_auth(
            ClientId=client_id or self.config["user_pool_client_id"],
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": email, "PASSWORD": password},
        )
        return dict(result["AuthenticationResult"])

    def sign_in(self, email: str, password: str) -> str:
        """The ID token the web app would send as ``Authorization: Bearer ...``."""
        return str(self.tokens(email, password)["IdToken"])

    def sign_in_user(self, user: User | DemoUser) -> str:
        return self.sign_in(user.email, user.password)

    def member_token(self) -> str:
        """ID token of the demo member the stack creates at start."""
        return self.sign_in_user(DEMO_MEMBER)

    def admin_token(self) -> str:
        """ID token of the demo admin (group ``admins``)."""
        return self.sign_in_user(DEMO_ADMIN)

    def create_user(
        self, email: str | None = None, *, password: str = USER_PASSWORD, groups: tuple[str, ...] = ()
    ) -> User:
        """A confirmed user with a permanent password (a unique ``@example.com`` address by default)."""
        email = email or f"user-{uuid.uuid4().hex[:10]}@example.com"
        pool = self.config["user_pool_id"]
        created = self.cognito.admin_create_user(
            UserPoolId=pool,
            Username=email,
            UserAttributes=[{"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "true"}],
            MessageAction="SUPPRESS",
        )
        self.cognito.admin_set_user_password(UserPoolId=pool, Username=email, Password=password, Permanent=True)
        for group in groups:
            self.cognito.admin_add_user_to_group(UserPoolId=pool, Username=email, GroupName=group)
        attributes = {a["Name"]: a["Value"] for a in created["User"]["Attributes"]}
        return User(email=email, password=password, sub=attributes["sub"], groups=groups)

    def log(self) -> str:
        """Everything the stack has printed so far (access lines, S3 event batches, tracebacks)."""
        return self.log_path.read_text(errors="replace")


def available_document(
    stack: LocalStack,
    token: str,
    body: bytes,
    name: str,
    *,
    workspace_id: str | None = None,
    content_type: str = "application/pdf",
) -> dict[str, Any]:
    """Create a document (in a new workspace unless given), PUT its bytes and wait until available."""
    if workspace_id is None:
        workspace_id = stack.api("POST", "/workspaces", token=token, json={"name": "e2e documents"}).json()["id"]
    checksum = base64.b64encode(hashlib.sha256(body).digest()).decode()
    created = stack.api(
        "POST",
        f"/workspaces/{workspace_id}/documents",
        token=token,
        json={"name": name, "content_type": content_type, "size": len(body), "sha256": checksum},
    )
    assert created.status_code == 201, created.text
    document, upload = created.json()["document"], created.json()["upload"]
    assert requests.put(upload["url"], data=body, headers=upload["headers"], timeout=10).status_code == 200
    deadline = time.monotonic() + 60  # verification, then the malware scan: queue hops on a loaded machine
    while time.monotonic() < deadline:
        if stack.api("GET", f"/documents/{document['id']}", token=token).json()["status"] == "available":
            return dict(document)
        time.sleep(0.2)
    pytest.fail(f"the upload never became available:\n{stack.log()[-3000:]}")
