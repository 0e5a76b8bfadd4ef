"""``docuserve upload``: files and folder trees to a workspace folder, skipping unchanged files.

A folder keeps its tree (``upload ./site --to WS:/x`` puts ``site/a/b.txt`` at ``/x/site/a/b.txt``,
as ``cp -r`` would), and its folders are created as needed. A file whose name is taken gets a new
version, unless its size and SHA-256 equal the current version's: then it is skipped. A multipart
upload sends its parts in parallel, each with its SHA-256 signed into its URL (S3 refuses other
bytes), records each landed part in a resume state file (``state.py``), and after an interruption
continues from the parts S3 holds. Progress: a Rich bar per file and one in total.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import mimetypes
import os
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import requests
from rich.progress import Progress, TaskID

from docuserve_cli.api import Api, network_error, seg
from docuserve_cli.errors import CONFLICT, NETWORK, NOT_FOUND, USAGE, CliError
from docuserve_cli.state import StateStore, UploadState, state_key

PART_ATTEMPTS = 3
GRANT_BATCH = 32
LAND_TIMEOUT_S = 180
POLL_S = 0.5
CHUNK = 1024 * 1024


@dataclass
class LocalFile:
    path: Path
    folder: str  # the remote folder it goes to
    name: str
    size: int = 0
    sha256: str = ""  # base64


@dataclass
class Outcome:
    """What happened to one file (the ``--json`` answer lists these)."""

    path: str
    folder: str
    name: str
    size: int
    status: str  # uploaded | skipped | scanning | failed
    document_id: str | None = None
    parts_sent: int = 0
    parts_resumed: int = 0
    message: str | None = None


def join_folder(folder: str, *names: str) -> str:
    parts = [p for p in folder.split("/") if p] + [n for n in names if n]
    return "/" + "/".join(parts)


def plan(paths: list[Path], folder: str) -> list[LocalFile]:
    """Every file to send and its remote folder; a directory keeps its tree under ``folder``."""
    files: list[LocalFile] = []
    for path in paths:
        if path.is_file():
            files.append(LocalFile(path, folder, path.name))
        elif path.is_dir():
            root = path.resolve()
            for directory, subdirs, names in os.walk(root):
                subdirs.sort()
                relative = Path(directory).relative_to(root.parent)
                for name in sorted(names):
                    files.append(LocalFile(Path(directory) / name, join_folder(folder, *relative.parts), name))
        else:
            raise CliError(f"No such file or folder: {path}", USAGE, code="not_found")
    return files


def sha256_b64(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return base64.b64encode(digest.digest()).decode()


def part_range(size: int, part_size: int, number: int) -> tuple[int, int]:
    """(offset, length) of part ``number`` (1-based)."""
    offset = (number - 1) * part_size
    return offset, max(0, min(part_size, size - offset))


def read_part(path: Path, offset: int, length: int) -> bytes:
    with path.open("rb") as handle:
        handle.seek(offset)
        return handle.read(length)


class _Reader:
    """A file body for ``requests`` that reports bytes read (and has a length: no chunked encoding)."""

    def __init__(self, handle: BinaryIO, size: int, advance: Any) -> None:
        self.handle, self.size, self.advance = handle, size, advance

    def __len__(self) -> int:
        return self.size

    def read(self, amount: int = -1) -> bytes:
        data = self.handle.read(amount)
        self.advance(len(data))
        return data


class Uploader:
    """Uploads ``LocalFile``s to one workspace, with ``parallel`` parts at a time."""

    def __init__(self, api: Api, workspace_id: str, store: StateStore, progress: Progress, parallel: int = 4) -> None:
        self.api = api
        self.workspace_id = workspace_id
        self.store = store
        self.progress = progress
        self.parallel = max(1, parallel)
        self.http = requests.Session()
        self._listings: dict[str, dict[str, dict[str, Any]]] = {}
        self._folders: set[str] = {"/"}
        self._listing_lock = threading.Lock()
        self.total: TaskID | None = None

    # -- the remote side -------------------------------------------------------------------------

    def ensure_folders(self, folders: set[str]) -> None:
        """Create every folder (and its parents) that does not exist yet."""
        known = {str(f.get("path")) for f in self.api.all_items(f"/workspaces/{seg(self.workspace_id)}/folders")}
        self._folders |= known
        wanted: set[str] = set()
        for folder in folders:
            names = [p for p in folder.split("/") if p]
            wanted |= {join_folder("/", *names[:i]) for i in range(1, len(names) + 1)}
        for path in sorted(wanted - self._folders, key=lambda p: (p.count("/"), p)):
            try:
                self.api.post(f"/workspaces/{seg(self.workspace_id)}/folders", {"path": path})
            except CliError as exc:
                if exc.exit_code != CONFLICT:  # 409: someone else made it meanwhile
                    raise
            self._folders.add(path)

    def existing(self, folder: str, name: str) -> dict[str, Any] | None:
        with self._listing_lock:  # files upload on several threads; each folder is listed once
            if folder not in self._listings:
                docs = self.api.all_items(f"/workspaces/{seg(self.workspace_id)}/documents", {"folder": folder})
                self._listings[folder] = {str(d["name"]): d for d in docs if d.get("folder", folder) == folder}
            return self._listings[folder].get(name)

    # -- one file --------------------------------------------------------------------------------

    def upload(self, item: LocalFile) -> Outcome:
        outcome = Outcome(str(item.path), item.folder, item.name, item.size, "uploaded")
        remote = self.existing(item.folder, item.name)
        if (
            remote
            and remote.get("status") not in ("pending", "deleted")
            and int(remote.get("size", -1)) == item.size
            and remote.get("sha256") == item.sha256
        ):
            outcome.status, outcome.document_id = "skipped", str(remote["id"])
            self._advance_total(item.size)
            return outcome
        key = state_key(self.api.deployment.web_origin, self.workspace_id, item.folder, item.name, str(item.path))
        state = self._resumable(key, item)
        if state is not None and state.completed:
            # Completion was sent before the interruption: that upload is this file; nothing to send.
            outcome.document_id, outcome.parts_resumed = state.document_id, len(state.parts)
            self._advance_total(item.size)
            return self._landed(outcome, state.upload_id)
        task = self.progress.add_task(item.name, total=item.size)
        try:
            if state is None:
                instructions, document_id = self._start(item, remote)
                outcome.document_id = document_id
                if instructions["method"] == "PUT":
                    self._put_whole(item, instructions, task)
                    return self._landed(outcome, str(instructions["upload_id"]))
                state = UploadState(
                    web_origin=self.api.deployment.web_origin,
                    workspace_id=self.workspace_id,
                    folder=item.folder,
                    name=item.name,
                    local_path=str(item.path.resolve()),
                    size=item.size,
                    sha256=item.sha256,
                    upload_id=str(instructions["upload_id"]),
                    document_id=document_id,
                    part_size=int(instructions["part_size"]),
                )
                self.store.save(key, state)
            outcome.document_id = state.document_id
            outcome.parts_resumed = len(state.parts)
            done_bytes = sum(part_range(item.size, state.part_size, n)[1] for n in state.parts)
            self.progress.update(task, completed=done_bytes)
            self._advance_total(done_bytes)
            outcome.parts_sent = self._send_parts(key, state, item, task)
            parts = [
                {"part_number": n, "etag": p["etag"], "sha256": p["sha256"]} for n, p in sorted(state.parts.items())
            ]
            try:
                self.api.post(f"/uploads/{seg(state.upload_id)}/complete", {"parts": parts})
            except CliError as exc:
                if exc.exit_code in (CONFLICT, NOT_FOUND):
                    # The remote changed under the upload (aborted, expired, the document trashed or
                    # changed): it cannot be completed any more, so the next run starts over.
                    self.store.delete(key)
                    raise CliError(
                        f"The remote changed while {item.name} was uploading; run the command again to start it"
                        f" over. {exc.message}",
                        exc.exit_code,
                        code=exc.code,
                    ) from None
                raise
            self._landed(outcome, state.upload_id)
            self.store.delete(key)
            return outcome
        finally:
            self.progress.update(task, visible=False)

    def _resumable(self, key: str, item: LocalFile) -> UploadState | None:
        """The saved state of this file's upload if it can continue; S3's held parts win over ours."""
        state = self.store.load(key)
        if state is None:
            return None
        if (state.size, state.sha256) != (item.size, item.sha256):
            self._abort(state.upload_id)  # the local file changed: its old upload is of no use
            self.store.delete(key)
            return None
        try:
            status = self.api.get(f"/uploads/{seg(state.upload_id)}")
        except CliError as exc:
            if exc.exit_code in (CONFLICT, NOT_FOUND):
                self.store.delete(key)
                return None
            raise
        if status.get("status") != "pending":
            self.store.delete(key)
            if status.get("status") in ("completing", "scanning", "completed"):
                state.completed = True
                return state
            return None  # failed or expired meanwhile: it cannot be continued; start over
        held = {int(p["part_number"]): p for p in status.get("parts") or []}
        kept: dict[int, dict[str, str]] = {}
        for number, part in state.parts.items():
            s3 = held.get(number)
            if s3 and (not s3.get("sha256") or s3.get("sha256") == part["sha256"]):
                kept[number] = {"etag": str(s3["etag"]), "sha256": part["sha256"]}
        state.parts = kept
        if status.get("part_size"):
            state.part_size = int(status["part_size"])
        self.store.save(key, state)
        return state

    def _abort(self, upload_id: str) -> None:
        with contextlib.suppress(CliError):  # already gone or finished: nothing to abort
            self.api.call("DELETE", f"/uploads/{seg(upload_id)}")

    def _start(self, item: LocalFile, remote: dict[str, Any] | None) -> tuple[dict[str, Any], str]:
        content_type = mimetypes.guess_type(item.name)[0] or "application/octet-stream"
        if remote is not None and remote.get("status") != "deleted":
            answer = self.api.post(
                f"/documents/{seg(str(remote['id']))}/versions",
                {"size": item.size, "sha256": item.sha256, "content_type": content_type},
            )
            return dict(answer.get("upload", answer)), str(remote["id"])
        answer = self.api.post(
            f"/workspaces/{seg(self.workspace_id)}/documents",
            {
                "name": item.name,
                "folder": item.folder,
                "content_type": content_type,
                "size": item.size,
                "sha256": item.sha256,
            },
        )
        return dict(answer["upload"]), str(answer["document"]["id"])

    def _put_whole(self, item: LocalFile, instructions: dict[str, Any], task: TaskID) -> None:
        def advance(count: int) -> None:
            self.progress.advance(task, count)
            self._advance_total(count)

        with item.path.open("rb") as handle:
            try:
                response = self.http.put(
                    instructions["url"],
                    data=_Reader(handle, item.size, advance),
                    headers=instructions.get("headers") or {},
                    timeout=600,
                )
            except requests.RequestException as exc:
                raise network_error("storage", exc) from None
        if response.status_code >= 300:
            raise CliError(f"Storage refused {item.name} (HTTP {response.status_code}).", NETWORK, code="storage")

    def _send_parts(self, key: str, state: UploadState, item: LocalFile, task: TaskID) -> int:
        count = max(1, -(-item.size // state.part_size))
        missing = [n for n in range(1, count + 1) if n not in state.parts]
        sent = 0
        counter = threading.Lock()

        def send(batch: list[int]) -> None:
            nonlocal sent
            bodies = {n: read_part(item.path, *part_range(item.size, state.part_size, n)) for n in batch}
            sums = {n: base64.b64encode(hashlib.sha256(b).digest()).decode() for n, b in bodies.items()}
            for number in batch:
                for attempt in range(1, PART_ATTEMPTS + 1):
                    grant = self.api.post(
                        f"/uploads/{seg(state.upload_id)}/parts",
                        {"parts": [{"part_number": number, "sha256": sums[number]}]},
                    )
                    part = next(p for p in grant["parts"] if int(p["part_number"]) == number)
                    try:
                        response = self.http.put(
                            part["url"], data=bodies[number], headers=part.get("headers") or {}, timeout=600
                        )
                    except requests.RequestException as exc:
                        if attempt == PART_ATTEMPTS:
                            raise network_error("storage", exc) from None
                        time.sleep(0.5 * 2**attempt)
                        continue
                    if response.status_code < 300:
                        break
                    if attempt == PART_ATTEMPTS:
                        raise CliError(
                            f"Storage refused part {number} of {item.name} (HTTP {response.status_code}).", NETWORK
                        )
                    time.sleep(0.5 * 2**attempt)
                self.store.record_part(key, state, number, str(response.headers["ETag"]), sums[number])
                with counter:
                    sent += 1
                self.progress.advance(task, len(bodies[number]))
                self._advance_total(len(bodies[number]))

        # One part per job: a part is hashed and granted right before it is sent, so a URL never
        # waits long enough to expire, and a kill loses at most the parts in flight.
        with ThreadPoolExecutor(max_workers=self.parallel) as pool:
            for future in [pool.submit(send, [n]) for n in missing]:
                future.result()
        return sent

    def _landed(self, outcome: Outcome, upload_id: str) -> Outcome:
        """Wait until the API has verified the upload (and its scan, within the time limit)."""
        deadline = time.monotonic() + LAND_TIMEOUT_S
        while True:
            status = self.api.get(f"/uploads/{seg(upload_id)}")
            state = status.get("status")
            if state == "completed":
                return outcome
            if state in ("failed", "aborted"):
                reason = status.get("reason") or status.get("failure_reason") or "it did not match what was declared"
                raise CliError(f"The upload of {outcome.name} failed: {reason}.", CONFLICT, code="upload_failed")
            if time.monotonic() > deadline:
                outcome.status = "scanning"
                outcome.message = "sent; still being verified or scanned"
                return outcome
            time.sleep(POLL_S)

    def _advance_total(self, count: int) -> None:
        if self.total is not None:
            self.progress.advance(self.total, count)


def hash_all(files: list[LocalFile]) -> Iterator[LocalFile]:
    for item in files:
        item.size = item.path.stat().st_size
        item.sha256 = sha256_b64(item.path)
        yield item
