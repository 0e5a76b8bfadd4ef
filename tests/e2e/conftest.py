"""End-to-end tier: the real local stack (``python -m local``) driven over HTTP, as a client would.

One stack per test session (per xdist worker), started on a free port; tests get it as the
``local_stack`` fixture (a ``tests.e2e.client.LocalStack``)::

    import pytest
    from tests.e2e.client import LocalStack

    pytestmark = pytest.mark.e2e

    def test_member_sees_themself(local_stack: LocalStack) -> None:
        token = local_stack.member_token()                 # Cognito sign-in at moto → ID token
        reply = local_stack.api("GET", "/me", token=token)  # GET {api_url}/me with Bearer token
        assert reply.status_code == 200

    def test_with_a_fresh_user(local_stack: LocalStack) -> None:
        alice = local_stack.create_user(groups=("admins",))
        reply = local_stack.api("POST", "/workspaces", token=local_stack.sign_in_user(alice), json={"name": "x"})

The session's state is shared: create your own users and workspaces rather than assuming an
empty stack. ``local_stack.log()`` has everything the stack printed (useful in assertion messages);
``local_stack.aws("s3")`` is a boto3 client at the stack's moto.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.client import LocalStack, free_port, launch, stop, wait_ready


@pytest.fixture(scope="session")
def local_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    """The local stack on a free port, ready (``/config.json`` answers); stopped after the session."""
    port = free_port()
    log_path: Path = tmp_path_factory.mktemp("local-stack") / "stack.log"
    process = launch(port, log_path)
    base_url = f"http://localhost:{port}"
    try:
        config = wait_ready(process, base_url, log_path)
        yield LocalStack(base_url=base_url, config=config, log_path=log_path, process=process)
    finally:
        stop(process)
