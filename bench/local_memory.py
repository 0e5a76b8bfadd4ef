"""The local stack's memory as its state grows: ``make run`` and the e2e tier run one stack for hours.

Starts ``python -m local`` as the e2e tier does, then builds ``BENCH_WORLDS`` (default 8) worlds
as the OpenAPI fuzz test builds one per route: a workspace, a member, ``BENCH_WORLD_DOCS`` (default
3) documents uploaded and verified (each creation is a transaction) and a share of each. It
reads the stack process's resident memory (``VmRSS``) after each world and reports the growth per
world in the first and the second half of the run. What a world stores is a few kilobytes; a
growth that rises with the number of worlds is moto keeping copies (it kept every table copy that
TransactWriteItems makes until ``local.cloud`` held its instance records weakly: about 300 MB per
fuzz world by the end of the e2e tier). ``python -m bench.local_memory`` runs it alone.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.e2e.client import LocalStack, available_document, free_port, launch, stop, wait_ready  # noqa: E402

TARGET_MIB_PER_WORLD = 10.0  # a world stores kilobytes; allow the allocator its slack


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    raise RuntimeError("no VmRSS")


def _world(stack: LocalStack, token: str, member_email: str, docs: int) -> None:
    ws = stack.api("POST", "/workspaces", token=token, json={"name": "memory"}).json()["id"]
    stack.api("POST", f"/workspaces/{ws}/members", token=token, json={"email": member_email, "role": "viewer"})
    for n in range(docs):
        document = available_document(stack, token, b"%%PDF-1.7 memory %d" % n, f"m{n}.pdf", workspace_id=ws)
        assert stack.api("POST", f"/documents/{document['id']}/shares", token=token, json={}).status_code == 201


def measure(worlds: int | None = None, docs: int | None = None) -> dict[str, Any]:
    worlds = worlds or int(os.environ.get("BENCH_WORLDS", "8"))
    docs = docs or int(os.environ.get("BENCH_WORLD_DOCS", "3"))
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "stack.log"
        port = free_port()
        process = launch(port, log)
        try:
            base = f"http://localhost:{port}"
            stack = LocalStack(base_url=base, config=wait_ready(process, base, log), log_path=log, process=process)
            owner, member = stack.create_user(), stack.create_user()
            token = stack.sign_in_user(owner)
            requests.get(f"{stack.api_url}/workspaces", headers={"Authorization": f"Bearer {token}"}, timeout=30)
            samples = [_rss_mib(process.pid)]
            started = time.monotonic()
            for _ in range(worlds):
                _world(stack, token, member.email, docs)
                samples.append(_rss_mib(process.pid))
            seconds = round(time.monotonic() - started, 1)
        finally:
            stop(process)
    half = worlds // 2
    first = round((samples[half] - samples[0]) / half, 1)
    second = round((samples[-1] - samples[half]) / (worlds - half), 1)
    return {
        "worlds": worlds,
        "documents_per_world": docs,
        "rss_mib": samples,
        "first_half_mib_per_world": first,
        "second_half_mib_per_world": second,
        "target_mib_per_world": TARGET_MIB_PER_WORLD,
        "met": second <= TARGET_MIB_PER_WORLD,
        "seconds": seconds,
    }


def main() -> None:
    print(measure())


if __name__ == "__main__":
    main()
