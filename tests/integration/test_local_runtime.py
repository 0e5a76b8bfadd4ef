"""The local stack runs functions like Lambda: concurrent invocations in isolated environments,
and each call to moto atomic, as each DynamoDB request is."""

from __future__ import annotations

import os
import textwrap
import threading
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from local.cloud import one_call_at_a_time
from local.invoke import Environments, FunctionError

HANDLERS = {
    # Waits (up to 10 s) for the other function to have started: it can only see that if both run at once.
    "waiter": """
        import os, time
        def handler(event, context):
            open(event["started"], "w").close()
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                if os.path.exists(event["flag"]):
                    return {"saw_the_other": True, "pid": os.getpid()}
                time.sleep(0.01)
            return {"saw_the_other": False, "pid": os.getpid()}
    """,
    "signaler": """
        import os
        def handler(event, context):
            open(event["flag"], "w").close()
            return {"pid": os.getpid()}
    """,
    # Module state, as Powertools' resolver keeps the current event: never shared between invocations.
    "stateful": """
        import os, time
        CURRENT = {}
        def handler(event, context):
            CURRENT["id"] = event["id"]
            time.sleep(0.2)
            return {"id": CURRENT["id"], "pid": os.getpid(), "stage": os.environ.get("STAGE")}
    """,
    "sleeper": """
        import time
        def handler(event, context):
            time.sleep(event["seconds"])
            return "woke"
    """,
    "failing": """
        def handler(event, context):
            raise ValueError("bad event")
    """,
    "broken": """
        import not_a_module_anywhere
    """,
}


@pytest.fixture
def environments(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Environments]:
    package = tmp_path / "fakelambdas"
    package.mkdir()
    (package / "__init__.py").write_text("")
    for name, source in HANDLERS.items():
        (package / f"{name}.py").write_text(textwrap.dedent(source))
    monkeypatch.syspath_prepend(str(tmp_path))
    pool = Environments({**os.environ, "STAGE": "local"}, timeout_s=5, package="fakelambdas", max_per_function=4)
    yield pool
    pool.close()


def test_two_requests_at_once_run_at_once(environments: Environments, tmp_path: Path) -> None:
    flag, started = tmp_path / "signalled", tmp_path / "started"
    with ThreadPoolExecutor(2) as pool:
        event = {"flag": str(flag), "started": str(started)}
        waiting = pool.submit(environments.invoke, "waiter", event, region="us-east-1")
        deadline = time.monotonic() + 30
        while not started.exists() and time.monotonic() < deadline:  # the waiter is running now
            time.sleep(0.01)
        signalled = pool.submit(environments.invoke, "signaler", {"flag": str(flag)}, region="us-east-1")
        assert waiting.result(timeout=30)["saw_the_other"] is True
        assert signalled.result(timeout=30)["pid"] != waiting.result()["pid"]


def test_concurrent_invocations_of_one_function_never_share_an_environment(environments: Environments) -> None:
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda i: environments.invoke("stateful", {"id": i}, region="us-east-1"), range(12)))
    assert [a["id"] for a in answers] == list(range(12))  # no invocation saw another's event
    assert {a["stage"] for a in answers} == {"local"}  # each environment got the stack's variables
    assert 1 < len({a["pid"] for a in answers}) <= 4  # several environments, never beyond the cap


def test_a_handler_error_fails_the_invocation_but_keeps_the_environment(environments: Environments) -> None:
    with pytest.raises(FunctionError, match="ValueError: bad event"):
        environments.invoke("failing", {}, region="us-east-1")
    first = environments.invoke("stateful", {"id": 1}, region="us-east-1")
    assert environments.invoke("stateful", {"id": 2}, region="us-east-1")["pid"] == first["pid"]  # warm


def test_a_timed_out_invocation_is_stopped_and_its_environment_replaced(environments: Environments) -> None:
    with pytest.raises(FunctionError, match="timed out"):
        environments.invoke("sleeper", {"seconds": 30}, region="us-east-1")
    assert environments.invoke("sleeper", {"seconds": 0}, region="us-east-1") == "woke"


def test_a_handler_that_does_not_import_fails_every_invocation_clearly(environments: Environments) -> None:
    for _ in range(2):
        with pytest.raises(FunctionError, match=r"fakelambdas\.broken does not import"):
            environments.invoke("broken", {}, region="us-east-1")


def test_each_dynamodb_call_to_moto_is_atomic_and_other_services_are_not_held_up() -> None:
    import io

    inside = 0
    most = 0
    guard = threading.Lock()

    def slow_backend(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        nonlocal inside, most
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if target.startswith("AmazonSQS"):
            time.sleep(3.0)  # a long poll: waits for messages
            start_response("200 OK", [])
            return [b"polled"]
        with guard:
            inside += 1
            most = max(most, inside)
        time.sleep(0.02)  # a check-then-set inside moto, with a thread switch in between
        body = environ["wsgi.input"].read()
        with guard:
            inside -= 1
        start_response("200 OK", [])
        return [body]

    app = one_call_at_a_time(slow_backend)

    def call(i: int, target: str = "DynamoDB_20120810.UpdateItem") -> bytes:
        payload = f"call {i}".encode()
        environ = {
            "CONTENT_LENGTH": str(len(payload)),
            "wsgi.input": io.BytesIO(payload),
            "HTTP_X_AMZ_TARGET": target,
        }
        return b"".join(app(environ, lambda *_: None))

    with ThreadPoolExecutor(9) as pool:
        polling = pool.submit(call, -1, "AmazonSQS.ReceiveMessage")
        started = time.monotonic()
        answers = list(pool.map(call, range(24)))
        elapsed = time.monotonic() - started
        assert polling.result() == b"polled"
    assert answers == [f"call {i}".encode() for i in range(24)]
    assert most == 1  # never two DynamoDB calls inside moto at once
    assert elapsed < 2.5  # ... and none of them waited for the long poll
