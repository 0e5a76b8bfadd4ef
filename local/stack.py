"""Start the local stack: moto, the provisioned resources, the functions' environment, the HTTP front,
the S3 event poller and the demo data; stop it all on Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import errno
import os
import signal
import sys
import threading
import time
import traceback
import warnings
from collections.abc import Callable
from pathlib import Path
from types import FrameType

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_PORT = 8000

# The functions' code and the domain layer, as Lambda puts them on the path (function + layer).
for _path in (ROOT / "functions", ROOT / "layers" / "domain" / "python"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from local.cloud import MotoServer  # noqa: E402  (first: it configures moto before anything imports it)
from local.front import Front, Site  # noqa: E402
from local.provision import Resources  # noqa: E402

# Powertools warns on every invocation that publishes no metric; Lambda would not show it either.
warnings.filterwarnings("ignore", "No application metrics to publish", UserWarning)


def say(message: str) -> None:
    print(message, flush=True)


def _fail(message: str, code: int = 2) -> int:
    print(f"error: {message}", file=sys.stderr, flush=True)
    return code


def port_from_env() -> int:
    raw = os.environ.get("PORT", "").strip() or str(DEFAULT_PORT)
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise ValueError(f"PORT must be a TCP port number (1-65535), not {raw!r}")
    return int(raw)


def function_environment(resources: Resources, *, web_origin: str, moto_url: str) -> dict[str, str]:
    """What each function sees: the stack's variables, pointed at moto through standard SDK settings."""
    return {
        **resources.function_environment(web_origin=web_origin),
        "AWS_ENDPOINT_URL": moto_url,
        "S3_ADDRESSING_STYLE": "path",
        "POWERTOOLS_TRACE_DISABLED": "true",
        # One process serves every function, so one service name (AWS: docuserve-<function>).
        "POWERTOOLS_SERVICE_NAME": "docuserve",
        "POWERTOOLS_LOG_LEVEL": "INFO",
        # moto accepts any credentials; these never leave the machine.
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_SESSION_TOKEN": "local",
    }


class Running:
    """What has to be stopped, stopped in reverse order of start."""

    def __init__(self) -> None:
        self.steps: list[Callable[[], None]] = []

    def add(self, step: Callable[[], None]) -> None:
        self.steps.append(step)

    def stop(self) -> None:
        for step in reversed(self.steps):
            try:
                step()
            except Exception as exc:  # keep stopping the rest
                print(f"warning: while stopping: {exc}", file=sys.stderr, flush=True)


def main(started: float | None = None) -> int:
    """``python -m local``: run until Ctrl-C or SIGTERM; 2 when the port is unusable."""
    started = time.monotonic() if started is None else started
    try:
        port = port_from_env()
    except ValueError as exc:
        return _fail(str(exc))

    try:
        front = Front(port, say)
    except OSError as exc:
        if exc.errno in (errno.EADDRINUSE, errno.EACCES):
            reason = "is already in use" if exc.errno == errno.EADDRINUSE else "may not be used by this user"
            return _fail(f"port {port} {reason}. Stop whatever holds it, or pick another: PORT=8001 make run")
        raise

    stop_requested = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        if stop_requested.is_set():  # a second Ctrl-C: do not wait for a clean stop
            os._exit(128 + signum)
        stop_requested.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    running = Running()
    running.add(front.server_close)
    try:
        _start(front, port, running, started)
        while not stop_requested.wait(0.5):
            pass
        say("\nstopping the local stack ...")
    finally:
        stopping = time.monotonic()
        running.stop()
        say(f"stopped in {time.monotonic() - stopping:.1f} s")
    say("stopped; all local state (users, documents, audit) is gone.")
    return 0


def _start(front: Front, port: int, running: Running, started: float) -> None:
    say("==> starting moto (S3, KMS, DynamoDB, SQS, Cognito, SES) in-process")
    moto = MotoServer().start()
    running.add(moto.stop)

    from docuserve.adapters import aws as adapters
    from docuserve.routes import Function
    from local import demo
    from local.authorizer import CognitoAuthorizer
    from local.invoke import configure
    from local.provision import provision
    from local.s3_events import S3EventPoller

    web_origin = f"http://localhost:{port}"
    web_origins = (web_origin, f"http://127.0.0.1:{port}")
    say("==> creating the stack's resources in moto (table, bucket, key, user pool, event queue)")
    os.environ.update({"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local", "AWS_SESSION_TOKEN": "local"})
    resources = provision(endpoint_url=moto.url, web_origins=list(web_origins))
    os.environ.update(function_environment(resources, web_origin=web_origin, moto_url=moto.url))
    adapters.reset()

    say("==> starting one execution environment per function (more start on demand, as in Lambda)")
    environments = configure(dict(os.environ))
    running.add(environments.close)

    def warm(function: str) -> None:
        try:
            environments.warm(function)  # as a warm Lambda would be, so the first request is quick
        except Exception:
            traceback.print_exc()
            say(f"warning: handlers.{function} does not import; its routes will answer 502")

    warming = [
        threading.Thread(target=warm, args=(function,), name=f"warm-{function}")
        for function in (*(f.value for f in Function), "upload_events", "upload_jobs", "audit_stream")
    ]
    for thread in warming:
        thread.start()
    for thread in warming:
        thread.join()

    authorizer = CognitoAuthorizer(
        jwks_url=f"{moto.url}/{resources.user_pool_id}/.well-known/jwks.json",
        region=resources.region,
        user_pool_id=resources.user_pool_id,
        app_client_id=resources.user_pool_client_id,
    )
    authorizer.load_keys()
    front.configure(
        Site(
            port=port,
            web_root=ROOT / "web",
            web_origins=web_origins,
            region=resources.region,
            user_pool_id=resources.user_pool_id,
            user_pool_client_id=resources.user_pool_client_id,
            cognito_endpoint=moto.url,
            authorizer=authorizer,
            storage_origin=moto.url,
        )
    )
    poller = S3EventPoller(
        queue_url=resources.events_queue_url, endpoint_url=moto.url, region=resources.region, log=say
    ).start()
    running.add(poller.stop)
    jobs = S3EventPoller(
        queue_url=resources.jobs_queue_url,
        endpoint_url=moto.url,
        region=resources.region,
        log=say,
        function="upload_jobs",
    ).start()
    running.add(jobs.stop)
    # Malware scanning: the stand-in scanner on the object-created feed (GuardDuty's, in AWS), and
    # the scan-result queue (filled by the EventBridge rule) → the upload-processing function.
    from local.scanner import ScannerPoller

    scanner = ScannerPoller(
        queue_url=resources.scanner_queue_url,
        bucket=resources.bucket_name,
        endpoint_url=moto.url,
        region=resources.region,
        log=say,
    ).start()
    running.add(scanner.stop)
    results = S3EventPoller(
        queue_url=resources.scan_results_queue_url, endpoint_url=moto.url, region=resources.region, log=say
    ).start()
    running.add(results.stop)
    # sharing issue: the table stream → the audit-stream function (partner download audit events)
    from local.audit_stream import StreamPoller

    stream = StreamPoller(
        table_name=resources.table_name, endpoint_url=moto.url, region=resources.region, log=say
    ).start()
    running.add(stream.stop)
    # issue 18: the schedule that signs the audit chains' heads (EventBridge in AWS)
    from local.checkpoints import CheckpointSchedule

    checkpoints = CheckpointSchedule(region=resources.region, log=say).start()
    running.add(checkpoints.stop)
    # upload requests: the schedule that sends the "files arrived" mails that came due (EventBridge in AWS)
    from local.schedules import files_arrived_due

    due_mails = files_arrived_due(region=resources.region, log=say).start()
    running.add(due_mails.stop)

    serving = threading.Thread(target=front.serve_forever, name="front", daemon=True)
    serving.start()
    running.add(front.shutdown)

    say("==> demo data")
    cognito = demo.cognito_client(moto.url, resources.region)
    for user in demo.DEMO_USERS:
        demo.create_user(cognito, resources.user_pool_id, user)
    member_token = demo.sign_in(cognito, resources.user_pool_client_id, demo.DEMO_MEMBER)
    outcome, detail = demo.create_workspace(f"{web_origin}/api", member_token)

    front.ready.set()
    ready = time.monotonic() - started
    web_note = "" if (ROOT / "web" / "index.html").is_file() else "  (web/index.html is missing: a placeholder page)"
    say(
        "\n".join(
            [
                "",
                f"DocuServe local stack is ready in {ready:.1f} s",
                f"  web app      {web_origin}/{web_note}",
                f"  API          {web_origin}/api   (config: {web_origin}/config.json)",
                f"  moto         {moto.url}",
                f"  sign in      {demo.DEMO_ADMIN.email} / {demo.DEMO_ADMIN.password}   (admin)",
                f"               {demo.DEMO_MEMBER.email} / {demo.DEMO_MEMBER.password}   (member)",
                f"  workspace    {outcome}: {detail}",
                "  All state lives in memory and is gone when this process stops. Ctrl-C stops it.",
                "",
            ]
        )
    )
