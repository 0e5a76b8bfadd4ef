"""The local stack as the SPEC's "Local stack" section promises it: config, API edge, web app,
S3 events, CORS for browser uploads, demo data, and a clean start and stop.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

from docuserve.routes import match
from docuserve.schema import PASSWORD_POLICY
from local.demo import DEMO_ADMIN, DEMO_MEMBER, DEMO_WORKSPACE
from tests.e2e.client import ROOT, LocalStack, free_port, launch, stop, wait_ready

pytestmark = pytest.mark.e2e


def test_config_json_tells_clients_where_the_api_and_the_user_pool_are(local_stack: LocalStack) -> None:
    config = local_stack.get("/config.json").json()

    assert set(config) == {
        "api_url",
        "region",
        "user_pool_id",
        "user_pool_client_id",
        "cognito_endpoint",
        "password_policy",
        "local",  # the local stack only: the web app shows its Outbox page
    }
    assert config["api_url"] == f"{local_stack.base_url}/api"
    assert config["region"] == "us-east-1"
    assert config["user_pool_id"].startswith("us-east-1_")
    assert config["cognito_endpoint"].startswith("http://127.0.0.1:")
    assert config["password_policy"] == PASSWORD_POLICY.as_web_config()


def test_config_json_names_the_api_on_the_origin_the_browser_used(local_stack: LocalStack) -> None:
    loopback = local_stack.base_url.replace("localhost", "127.0.0.1")

    config = requests.get(f"{loopback}/config.json", timeout=10).json()

    assert config["api_url"] == f"{loopback}/api"


def test_an_unknown_api_route_gets_api_gateways_missing_token_answer(local_stack: LocalStack) -> None:
    reply = local_stack.api("GET", "/no-such-route")

    assert reply.status_code == 403
    assert reply.json() == {"message": "Missing Authentication Token"}


def test_a_known_path_with_an_unrouted_method_is_also_403(local_stack: LocalStack) -> None:
    assert local_stack.api("DELETE", "/health").status_code == 403


def test_api_answers_carry_the_request_id_and_the_functions_headers(local_stack: LocalStack) -> None:
    reply = local_stack.api("GET", "/health")

    assert reply.headers["x-amzn-RequestId"]
    assert reply.headers["Cache-Control"] == "no-store"


def test_a_payload_over_api_gateways_limit_is_413(local_stack: LocalStack) -> None:
    reply = local_stack.api("GET", "/health", data=b"x" * (10 * 1024 * 1024 + 1))

    assert reply.status_code == 413


def test_the_web_app_is_served_at_the_root_without_a_referrer(local_stack: LocalStack) -> None:
    reply = local_stack.get("/")

    assert reply.status_code == 200
    assert reply.headers["Content-Type"].startswith("text/html")
    assert reply.headers["Referrer-Policy"] == "no-referrer"


def test_share_link_pages_fall_back_to_the_web_app(local_stack: LocalStack) -> None:
    reply = local_stack.get("/s/" + "A" * 43)

    assert reply.status_code == 200
    assert reply.text == local_stack.get("/").text
    assert reply.headers["Referrer-Policy"] == "no-referrer"


@pytest.mark.parametrize("path", ["/../pyproject.toml", "/%2e%2e/pyproject.toml", "/.git/config", "/missing.js"])
def test_nothing_outside_the_web_folder_is_served(local_stack: LocalStack, path: str) -> None:
    with socket.create_connection(("127.0.0.1", int(local_stack.base_url.rsplit(":", 1)[1])), timeout=10) as conn:
        conn.sendall(f"GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".encode())
        status_line = conn.makefile("rb").readline().decode()

    assert " 404 " in status_line


def test_demo_users_sign_in_with_the_printed_passwords(local_stack: LocalStack) -> None:
    admin = local_stack.api("GET", "/me", token=local_stack.admin_token()).json()
    member = local_stack.api("GET", "/me", token=local_stack.member_token()).json()

    assert (admin["email"], admin["groups"]) == (DEMO_ADMIN.email, ["admins"])
    assert (member["email"], member["groups"]) == (DEMO_MEMBER.email, [])
    assert DEMO_ADMIN.password in local_stack.log()
    assert "gone when this process stops" in local_stack.log()


def test_the_demo_member_has_the_demo_workspace(local_stack: LocalStack) -> None:
    if match("POST", "/workspaces") is None or match("GET", "/workspaces") is None:
        pytest.skip("the workspace routes are not in the route table yet")

    reply = local_stack.api("GET", "/workspaces", token=local_stack.member_token())

    assert reply.status_code == 200, reply.text
    assert DEMO_WORKSPACE["name"] in [w["name"] for w in reply.json()["items"]]


def _bucket_and_queue(stack: LocalStack) -> tuple[str, str]:
    bucket = next(b["Name"] for b in stack.aws("s3").list_buckets()["Buckets"] if b["Name"].endswith("-documents"))
    queue = next(q for q in stack.aws("sqs").list_queues()["QueueUrls"] if q.endswith("-object-created"))
    return bucket, queue


def test_an_object_landing_in_the_bucket_reaches_the_upload_events_function(local_stack: LocalStack) -> None:
    bucket, queue = _bucket_and_queue(local_stack)
    batches_before = local_stack.log().count("upload_events: ")

    local_stack.aws("s3").put_object(Bucket=bucket, Key="documents/e2e/probe", Body=b"probe")

    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        attrs = local_stack.aws("sqs").get_queue_attributes(
            QueueUrl=queue, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        )["Attributes"]
        drained = attrs["ApproximateNumberOfMessages"] == attrs["ApproximateNumberOfMessagesNotVisible"] == "0"
        if drained and local_stack.log().count("upload_events: ") > batches_before:
            return
        time.sleep(0.2)
    pytest.fail(f"the object-created event was not consumed:\n{local_stack.log()[-3000:]}")


def _upload_preflight(stack: LocalStack, bucket: str, origin: str) -> requests.Response:
    return requests.options(
        f"{stack.moto_url}/{bucket}/documents/e2e/browser-upload",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "PUT",
            "Access-Control-Request-Headers": "content-type,x-amz-checksum-sha256,x-amz-server-side-encryption",
        },
        timeout=10,
    )


def test_the_bucket_allows_browser_uploads_from_the_web_origin(local_stack: LocalStack) -> None:
    bucket, _ = _bucket_and_queue(local_stack)

    preflight = _upload_preflight(local_stack, bucket, local_stack.base_url)

    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == local_stack.base_url
    assert "PUT" in preflight.headers["Access-Control-Allow-Methods"]


def test_the_bucket_refuses_browser_uploads_from_other_origins(local_stack: LocalStack) -> None:
    bucket, _ = _bucket_and_queue(local_stack)

    preflight = _upload_preflight(local_stack, bucket, "https://evil.example")

    assert preflight.status_code == 403
    assert "Access-Control-Allow-Origin" not in preflight.headers


def test_a_presigned_put_from_the_web_origin_exposes_the_etag_to_the_browser(local_stack: LocalStack) -> None:
    bucket, _ = _bucket_and_queue(local_stack)
    body = b"hello from the browser"
    checksum = base64.b64encode(hashlib.sha256(body).digest()).decode()
    url = local_stack.aws("s3").generate_presigned_url(
        "put_object",
        Params={"Bucket": bucket, "Key": "documents/e2e/cors-put", "ContentType": "text/plain"},
        ExpiresIn=60,
    )

    reply = requests.put(
        url,
        data=body,
        headers={"Origin": local_stack.base_url, "Content-Type": "text/plain", "x-amz-checksum-sha256": checksum},
        timeout=10,
    )

    assert reply.status_code == 200
    assert reply.headers["Access-Control-Allow-Origin"] == local_stack.base_url
    assert "ETag" in reply.headers["Access-Control-Expose-Headers"]


def test_the_browser_can_call_cognito_from_the_web_origin(local_stack: LocalStack) -> None:
    preflight = requests.options(
        f"{local_stack.moto_url}/",
        headers={
            "Origin": local_stack.base_url,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,x-amz-target,x-amz-user-agent",
        },
        timeout=10,
    )
    sign_in = requests.post(
        f"{local_stack.moto_url}/",
        headers={
            "Origin": local_stack.base_url,
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": "AWSCognitoIdentityProviderService.InitiateAuth",
        },
        json={
            "ClientId": local_stack.config["user_pool_client_id"],
            "AuthFlow": "USER_PASSWORD_AUTH",
            "AuthParameters": {"USERNAME": DEMO_MEMBER.email, "PASSWORD": DEMO_MEMBER.password},
        },
        timeout=10,
    )

    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert "x-amz-target" in preflight.headers["Access-Control-Allow-Headers"]
    assert sign_in.status_code == 200
    assert sign_in.headers["Access-Control-Allow-Origin"] == "*"
    assert sign_in.json()["AuthenticationResult"]["IdToken"]


def test_a_taken_port_is_a_clear_error_before_anything_starts(tmp_path: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]

        started = time.monotonic()
        result = subprocess.run(
            [sys.executable, "-m", "local"],
            cwd=ROOT,
            env={**_env(), "PORT": str(port)},
            capture_output=True,
            text=True,
            timeout=60,
        )

    assert result.returncode == 2
    assert f"port {port} is already in use" in result.stderr
    assert "moto" not in result.stdout
    assert time.monotonic() - started < 20


def test_sigterm_stops_the_stack_cleanly(tmp_path: Path) -> None:
    port = free_port()
    log_path = tmp_path / "stack.log"
    process = launch(port, log_path)
    try:
        wait_ready(process, f"http://localhost:{port}", log_path)

        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=15)
    finally:
        stop(process)

    assert code == 0
    assert "stopped" in log_path.read_text()
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:{port}/config.json", timeout=2)


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("AWS_ENDPOINT_URL")}


def test_a_browser_upload_to_the_presigned_url_becomes_an_available_document(local_stack: LocalStack) -> None:
    # The whole path a browser takes: API → presigned PUT straight to S3 (cross-origin) → S3 event
    # through the queue → upload_events handler → the document is available and downloadable.
    token = local_stack.member_token()
    workspace = local_stack.api("POST", "/workspaces", token=token, json={"name": "e2e uploads"}).json()
    body = b"bytes that travel straight to S3\n" * 64
    checksum = base64.b64encode(hashlib.sha256(body).digest()).decode()
    created = local_stack.api(
        "POST",
        f"/workspaces/{workspace['id']}/documents",
        token=token,
        json={"name": "e2e.txt", "content_type": "text/plain", "size": len(body), "sha256": checksum},
    )
    assert created.status_code == 201, created.text
    document, upload = created.json()["document"], created.json()["upload"]
    assert upload["method"] == "PUT"

    put = requests.put(
        upload["url"], data=body, headers={**upload["headers"], "Origin": local_stack.base_url}, timeout=10
    )
    assert put.status_code == 200, put.text
    assert put.headers["Access-Control-Allow-Origin"] == local_stack.base_url

    deadline = time.monotonic() + 60  # a loaded CI machine: S3 event, scan, scan result, each a queue hop
    status = "pending"
    while status in ("pending", "scanning") and time.monotonic() < deadline:  # scanning: the malware scan decides
        time.sleep(0.2)
        status = local_stack.api("GET", f"/uploads/{upload['upload_id']}", token=token).json()["status"]
    assert status == "completed", local_stack.log()[-3000:]
    assert local_stack.api("GET", f"/documents/{document['id']}", token=token).json()["status"] == "available"
    download = local_stack.api("GET", f"/documents/{document['id']}/download", token=token).json()
    assert requests.get(download["url"], timeout=10).content == body


def test_forty_concurrent_connections_are_all_answered(local_stack: LocalStack) -> None:
    # A browser or a load test opens dozens of sockets at once. With socketserver's listen
    # backlog of 5 the surplus handshakes were dropped (retried a second later) or reset. Here 40
    # threads connect at the same instant; a loopback handshake the kernel queues takes well
    # under the 0.9 s allowed, and each then gets its answer.
    port = int(local_stack.base_url.rsplit(":", 1)[1])
    start = threading.Barrier(40)
    answers: list[bytes] = []
    lock = threading.Lock()

    def ask() -> None:
        start.wait()
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.9) as sock:
                sock.settimeout(60)
                sock.sendall(b"GET /api/health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
                data = b""
                while chunk := sock.recv(65536):
                    data += chunk
            outcome = data.split(b"\r\n", 1)[0]
        except OSError as exc:
            outcome = type(exc).__name__.encode()
        with lock:
            answers.append(outcome)

    threads = [threading.Thread(target=ask) for _ in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(90)
    assert answers == [b"HTTP/1.1 200 OK"] * 40


def test_a_204_leaves_a_kept_alive_connection_clean(local_stack: LocalStack) -> None:
    token = local_stack.sign_in_user(local_stack.create_user())
    workspace = local_stack.api("POST", "/workspaces", token=token, json={"name": "framing"}).json()["id"]
    port = int(local_stack.base_url.rsplit(":", 1)[1])
    connection = http.client.HTTPConnection("localhost", port, timeout=30)
    connection.request("DELETE", f"/api/workspaces/{workspace}", headers={"Authorization": f"Bearer {token}"})
    deleted = connection.getresponse()
    assert (deleted.status, deleted.read(), deleted.getheader("Content-Length")) == (204, b"", None)
    connection.request("GET", "/api/health")  # the same socket: nothing may be left from the 204
    health = connection.getresponse()
    assert (health.status, health.read()) == (200, b'{"status":"ok"}')
    connection.close()
