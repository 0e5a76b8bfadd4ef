"""The ``docuserve`` commands (Click) and the one place failures become exit codes (``errors.py``).

Every command takes ``--url WEB_ORIGIN`` (or ``DOCUSERVE_URL``) and ``--json``; the options may
also be given before the command (``docuserve --json ls WS``). Places are written
``WORKSPACE[:/folder[/name]]`` where WORKSPACE is a workspace id or its (unique) name.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import click
import requests
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from docuserve_cli import session
from docuserve_cli.api import Api, network_error, seg
from docuserve_cli.config import Deployment, config_dir, discover
from docuserve_cli.errors import AUTH, NOT_FOUND, UNEXPECTED, USAGE, VERIFY_FAILED, CliError
from docuserve_cli.state import StateStore
from docuserve_cli.upload import LocalFile, Outcome, Uploader, hash_all, join_folder, plan
from docuserve_cli.verify import file_sha256, local_files, origin_of, token_of, verify

F = TypeVar("F", bound=Callable[..., Any])
out = Console()
err = Console(stderr=True)


class Context:
    """What the group and each command's ``--url``/``--json`` options set."""

    def __init__(self) -> None:
        self.url: str | None = None
        self.json = False
        self._deployment: Deployment | None = None
        self._api: Api | None = None

    def deployment(self) -> Deployment:
        if self._deployment is None:
            if not self.url:
                raise CliError("Say which deployment: --url WEB_ORIGIN or DOCUSERVE_URL.", USAGE, code="no_url")
            self._deployment = discover(self.url)
        return self._deployment

    def api(self) -> Api:
        if self._api is None:
            self._api = Api(self.deployment())
        return self._api

    def emit(self, data: Any, human: Callable[[], None]) -> None:
        if self.json:
            click.echo(json.dumps(data, indent=2, default=str))
        else:
            human()


def common(command: F) -> F:
    """``--url`` and ``--json`` on a command (they may also come before the command)."""

    @click.option("--url", "url", envvar="DOCUSERVE_URL", help="The web origin, e.g. https://docs.example.com.")
    @click.option("--json", "as_json", is_flag=True, default=None, help="Machine-readable output on stdout.")
    @click.pass_context
    @functools.wraps(command)
    def wrapper(ctx: click.Context, *args: Any, url: str | None, as_json: bool | None, **kwargs: Any) -> Any:
        obj: Context = ctx.ensure_object(Context)
        obj.url = url or obj.url
        obj.json = bool(as_json) or obj.json
        return ctx.invoke(command, obj, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


@click.group()
@click.option("--url", envvar="DOCUSERVE_URL", help="The web origin, e.g. https://docs.example.com.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output on stdout.")
@click.version_option(package_name="docuserve")
@click.pass_context
def cli(ctx: click.Context, url: str | None, as_json: bool) -> None:
    """DocuServe from the command line. Exit codes: 0 ok, 2 usage, 3 sign in again, 4 not found or
    not allowed, 5 conflict or refused, 6 network, 7 verification failed, 1 unexpected."""
    obj = ctx.ensure_object(Context)
    obj.url, obj.json = url, as_json


# -- places ----------------------------------------------------------------------------------------


def split_place(place: str) -> tuple[str, str]:
    """``WS:/a/b`` → (``WS``, ``/a/b``); ``WS`` → (``WS``, ``/``)."""
    workspace, _, path = place.partition(":")
    if not workspace:
        raise CliError(f"Expected WORKSPACE[:/path], got {place!r}", USAGE, code="bad_place")
    return workspace, join_folder("/", *path.split("/"))


def resolve_workspace(api: Api, ref: str) -> dict[str, Any]:
    workspaces = api.all_items("/workspaces")
    by_id = [w for w in workspaces if w.get("id") == ref]
    by_name = [w for w in workspaces if w.get("name") == ref]
    if by_id:
        return by_id[0]
    if len(by_name) == 1:
        return by_name[0]
    if by_name:
        raise CliError(f"Several workspaces are named {ref!r}: use its id (docuserve workspaces).", USAGE)
    raise CliError(f"No workspace {ref!r} among yours.", NOT_FOUND, code="not_found")


def resolve_document(api: Api, place: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(workspace, document) of ``WS:/folder/name``."""
    ref, path = split_place(place)
    workspace = resolve_workspace(api, ref)
    folder, _, name = path.rpartition("/")
    docs = api.all_items(f"/workspaces/{seg(workspace['id'])}/documents", {"folder": folder or "/"})
    found = [d for d in docs if d.get("name") == name and d.get("folder", folder or "/") == (folder or "/")]
    if not found:
        raise CliError(f"No document {path} in workspace {workspace['name']}.", NOT_FOUND, code="not_found")
    return workspace, found[0]


def columns(*names: str) -> Table:
    """A table whose cells wrap rather than cut (ids must be copyable in full)."""
    table = Table()
    for name in names:
        table.add_column(name, overflow="fold")
    return table


def size_text(size: Any) -> str:
    value = float(size or 0)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return str(size)


# -- sign-in ---------------------------------------------------------------------------------------


@cli.command()
@click.option("--email", prompt=True, help="Your e-mail (the sign-in name).")
@click.option("--password", prompt=True, hide_input=True, envvar="DOCUSERVE_PASSWORD", help="Your password.")
@common
def login(ctx: Context, email: str, password: str) -> None:
    """Sign in (password, then a new password or an authenticator code if asked)."""
    deployment = ctx.deployment()

    def prompt(text: str, hide: bool) -> str:
        return str(click.prompt(text, hide_input=hide, confirmation_prompt=hide, err=True))

    signed = session.sign_in(deployment, email, password, prompt)
    session.save_session(deployment.web_origin, signed)
    data = {
        "signed_in": True,
        "email": signed.get("email") or email,
        "web_origin": deployment.web_origin,
        "session_file": str(session.session_path()),
    }
    ctx.emit(data, lambda: out.print(f"Signed in to {deployment.web_origin} as {data['email']}."))


@cli.command()
@common
def logout(ctx: Context) -> None:
    """Forget the saved session of this deployment."""
    session.forget_session(ctx.deployment().web_origin)
    ctx.emit({"signed_in": False}, lambda: out.print("Signed out."))


# -- reading ---------------------------------------------------------------------------------------


@cli.command()
@common
def workspaces(ctx: Context) -> None:
    """The workspaces you belong to."""
    items = ctx.api().all_items("/workspaces")

    def human() -> None:
        table = columns("id", "name", "role", "used")
        for w in items:
            used = f"{size_text(w.get('used_bytes'))} of {size_text(w.get('quota_bytes'))}"
            table.add_row(str(w["id"]), str(w["name"]), str(w.get("my_role", "")), used)
        out.print(table)

    ctx.emit({"items": items}, human)


@cli.command()
@click.argument("place")
@common
def ls(ctx: Context, place: str) -> None:
    """Folders and documents in WORKSPACE[:/folder]."""
    api = ctx.api()
    ref, folder = split_place(place)
    workspace = resolve_workspace(api, ref)
    folders = [f for f in api.all_items(f"/workspaces/{seg(workspace['id'])}/folders") if f.get("parent") == folder]
    docs = api.all_items(f"/workspaces/{seg(workspace['id'])}/documents", {"folder": folder})
    docs = [d for d in docs if d.get("folder", folder) == folder]

    def human() -> None:
        table = columns("name", "size", "status", "id")
        for f in folders:
            table.add_row(f"{f['name']}/", "", "", "")
        for d in docs:
            table.add_row(str(d["name"]), size_text(d.get("size")), str(d.get("status")), str(d["id"]))
        out.print(table)

    ctx.emit({"workspace_id": workspace["id"], "folder": folder, "folders": folders, "documents": docs}, human)


# -- moving bytes ----------------------------------------------------------------------------------


def _progress(ctx: Context) -> Progress:
    return Progress(
        TextColumn("{task.description}", justify="left"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=err,
        disable=ctx.json or not err.is_terminal,
    )


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--to", "target", required=True, help="WORKSPACE[:/folder] to upload into.")
@click.option("--parallel", default=4, show_default=True, type=click.IntRange(1, 16), help="Parts sent at once.")
@click.option(
    "--files", "file_workers", default=4, show_default=True, type=click.IntRange(1, 16), help="Files at once."
)
@common
def upload(ctx: Context, paths: tuple[Path, ...], target: str, parallel: int, file_workers: int) -> None:
    """Upload files and folders (their tree kept); resumes interrupted uploads, skips unchanged files.

    A file that fails does not stop the others; the command then exits with the first failure's code.
    """
    api = ctx.api()
    ref, folder = split_place(target)
    workspace = resolve_workspace(api, ref)
    files = list(hash_all(plan(list(paths), folder)))
    store = StateStore(config_dir() / "uploads")
    failures: list[CliError] = []

    def one(uploader: Uploader, item: LocalFile) -> Outcome:
        try:
            outcome = uploader.upload(item)
        except CliError as exc:
            if exc.exit_code == AUTH:
                raise  # every other file would fail the same way
            failures.append(exc)
            outcome = Outcome(str(item.path), item.folder, item.name, item.size, "failed", message=exc.message)
        if not ctx.json:
            err.print(f"{outcome.status:9} {join_folder(outcome.folder, outcome.name)}", markup=False, highlight=False)
        return outcome

    with _progress(ctx) as progress:
        uploader = Uploader(api, str(workspace["id"]), store, progress, parallel)
        uploader.ensure_folders({f.folder for f in files})
        uploader.total = progress.add_task("total", total=sum(f.size for f in files))
        with ThreadPoolExecutor(max_workers=file_workers) as pool:
            outcomes = [future.result() for future in [pool.submit(one, uploader, item) for item in files]]
    data = {"workspace_id": workspace["id"], "files": [vars(o) for o in outcomes]}
    counts = {s: sum(o.status == s for o in outcomes) for s in ("uploaded", "skipped", "scanning", "failed")}
    ctx.emit(data, lambda: out.print(", ".join(f"{n} {s}" for s, n in counts.items())))
    if failures:
        first = failures[0]
        raise CliError(f"{len(failures)} of {len(files)} files failed; the first: {first.message}", first.exit_code)


def _fetch(api: Api, doc: dict[str, Any], target: Path, progress: Progress, version_id: str | None = None) -> int:
    """Download one document to ``target`` (through ``target.part``); check its SHA-256; its size."""
    params = {"version_id": version_id} if version_id else {}
    grant = api.get(f"/documents/{seg(doc['id'])}/download", params=params)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".part")
    size = 0
    task = progress.add_task(str(doc["name"]), total=int(doc.get("size") or 0))
    try:
        with requests.get(grant["url"], stream=True, timeout=600) as response:
            if response.status_code >= 300:
                raise CliError(f"Storage refused {doc['name']} (HTTP {response.status_code}).", NOT_FOUND)
            with partial.open("wb") as handle:
                for chunk in response.iter_content(1024 * 1024):
                    handle.write(chunk)
                    size += len(chunk)
                    progress.advance(task, len(chunk))
    except requests.RequestException as exc:
        raise network_error("storage", exc) from None
    finally:
        progress.update(task, visible=False)
    if not version_id and file_sha256(partial) != doc.get("sha256"):
        partial.unlink(missing_ok=True)
        raise CliError(f"{doc['name']} arrived altered: its SHA-256 differs.", VERIFY_FAILED, code="sha256_mismatch")
    partial.replace(target)
    return size


def _folder_documents(api: Api, workspace_id: str, folder: str) -> list[dict[str, Any]]:
    """Every document in ``folder`` and the folders below it."""
    below = [
        str(f["path"])
        for f in api.all_items(f"/workspaces/{seg(workspace_id)}/folders")
        if str(f.get("path", "")).startswith(folder.rstrip("/") + "/")
    ]
    docs: list[dict[str, Any]] = []
    for path in [folder, *sorted(below)]:
        listed = api.all_items(f"/workspaces/{seg(workspace_id)}/documents", {"folder": path})
        docs += [d for d in listed if d.get("folder", path) == path and d.get("status") == "available"]
    return docs


@cli.command()
@click.argument("place")
@click.option("-o", "--output", type=click.Path(path_type=Path), help="File or folder to write (default: here).")
@click.option("--version-id", help="An older version instead of the current one (one document only).")
@common
def download(ctx: Context, place: str, output: Path | None, version_id: str | None) -> None:
    """Download WORKSPACE:/folder/name, or a whole WORKSPACE:/folder (its tree kept); checks SHA-256s."""
    api = ctx.api()
    ref, path = split_place(place)
    workspace = resolve_workspace(api, ref)
    try:
        _, doc = resolve_document(api, place)
    except CliError as missing:
        if missing.exit_code != NOT_FOUND or version_id:
            raise
        docs = _folder_documents(api, str(workspace["id"]), path)
        if not docs:
            raise
        root = (output or Path(".")) / (path.rsplit("/", 1)[1] if path != "/" else str(workspace["name"]))
        saved = []
        with _progress(ctx) as progress:
            for item in docs:
                relative = str(item["folder"])[len(path.rstrip("/")) :].strip("/")
                target = root / relative / str(item["name"])
                saved.append(
                    {"document_id": item["id"], "path": str(target), "size": _fetch(api, item, target, progress)}
                )
        ctx.emit({"files": saved}, lambda: out.print(f"Saved {len(saved)} files under {root}."))
        return
    target = output or Path(doc["name"])
    if target.is_dir():
        target = target / str(doc["name"])
    with _progress(ctx) as progress:
        size = _fetch(api, doc, target, progress, version_id)
    data = {"document_id": doc["id"], "path": str(target), "size": size, "sha256": doc.get("sha256")}
    ctx.emit(data, lambda: out.print(f"Saved {target} ({size_text(size)})."))


# -- sharing ---------------------------------------------------------------------------------------


def link_terms(
    expires_in_days: int | None,
    expires_at: str | None,
    password: str | None,
    max_downloads: int | None,
    label: str | None,
    recipients: tuple[str, ...],
    notify: bool,
    message: str | None,
) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if expires_at:
        body["expires_at"] = expires_at
    if expires_in_days is not None:
        body["expires_in_days"] = expires_in_days
    for key, value in (
        ("password", password),
        ("max_downloads", max_downloads),
        ("label", label),
        ("message", message),
    ):
        if value is not None:
            body[key] = value
    if recipients:
        body["recipients"] = list(recipients)
    if notify:
        body["notify_recipients"] = True
    return body


def link_options(command: F) -> F:
    for option in reversed(
        [
            click.option(
                "--expires-in-days", type=int, help="Days until the link expires (default: the deployment's)."
            ),
            click.option("--expires-at", help="When the link expires (ISO 8601 with a zone)."),
            click.option("--password", help="A password the partner must enter."),
            click.option("--max-downloads", type=int, help="How many downloads the link allows."),
            click.option("--label", help="A label for your own list of links."),
            click.option("--recipient", "recipients", multiple=True, help="Restrict to this e-mail (repeatable)."),
            click.option("--notify", is_flag=True, help="Mail the link to its recipients."),
            click.option("--message", help="A note the partner page shows."),
        ]
    ):
        command = option(command)
    return command


@cli.command()
@click.argument("places", nargs=-1, required=True)
@click.option("--version-id", help="Pin the link to this version (one document only).")
@link_options
@common
def share(ctx: Context, places: tuple[str, ...], version_id: str | None, **terms: Any) -> None:
    """A link to WORKSPACE:/folder/name (several documents of one workspace: one bundle link)."""
    api = ctx.api()
    resolved = [resolve_document(api, p) for p in places]
    body = link_terms(**terms)
    if len(resolved) == 1:
        if version_id:
            body["version_id"] = version_id
        created = api.post(f"/documents/{seg(resolved[0][1]['id'])}/shares", body)
    else:
        workspace_ids = {w["id"] for w, _ in resolved}
        if len(workspace_ids) > 1 or version_id:
            raise CliError("A bundle holds documents of one workspace, without --version-id.", USAGE)
        body["document_ids"] = [d["id"] for _, d in resolved]
        created = api.post(f"/workspaces/{seg(resolved[0][0]['id'])}/shares", body)
    ctx.emit(created, lambda: out.print(f"{created['url']}\n(link id {created['id']}; the URL is shown only once)"))


@cli.command()
@click.argument("place")
@common
def links(ctx: Context, place: str) -> None:
    """The links of WORKSPACE:/folder/name, or of the whole WORKSPACE."""
    api = ctx.api()
    ref, path = split_place(place)
    if path == "/":
        workspace = resolve_workspace(api, ref)
        items = api.all_items(f"/workspaces/{seg(workspace['id'])}/links")
    else:
        _, doc = resolve_document(api, place)
        items = api.all_items(f"/documents/{seg(doc['id'])}/shares")

    def human() -> None:
        table = columns("id", "document", "state", "expires", "downloads", "label")
        for s in items:
            limit = s.get("max_downloads")
            table.add_row(
                str(s["id"]),
                str(s.get("document_name")),
                str(s.get("state")),
                str(s.get("expires_at")),
                f"{s.get('download_count', 0)}" + (f"/{limit}" if limit else ""),
                str(s.get("label") or ""),
            )
        out.print(table)

    ctx.emit({"items": items}, human)


@cli.command()
@click.argument("share_id")
@common
def revoke(ctx: Context, share_id: str) -> None:
    """Revoke a link at once (its id from `docuserve links`)."""
    ctx.api().call("DELETE", f"/shares/{seg(share_id)}")
    ctx.emit({"revoked": share_id}, lambda: out.print(f"Revoked {share_id}."))


@cli.group()
def request() -> None:
    """Upload requests: links through which partners upload into a folder."""


@request.command("create")
@click.argument("place")
@click.option("--max-files", type=int, default=10, show_default=True)
@click.option("--max-bytes", type=int, default=1024**3, show_default=True)
@click.option("--max-file-size", type=int)
@click.option("--allowed-type", "allowed_types", multiple=True, help="A media type partners may send (repeatable).")
@link_options
@common
def request_create(
    ctx: Context,
    place: str,
    max_files: int,
    max_bytes: int,
    max_file_size: int | None,
    allowed_types: tuple[str, ...],
    **terms: Any,
) -> None:
    """A link through which partners upload into WORKSPACE:/folder."""
    api = ctx.api()
    ref, folder = split_place(place)
    workspace = resolve_workspace(api, ref)
    terms.pop("max_downloads", None)
    terms.pop("notify", None)
    body = link_terms(max_downloads=None, notify=False, **terms)
    body |= {"folder": folder, "max_files": max_files, "max_bytes": max_bytes}
    if max_file_size is not None:
        body["max_file_size"] = max_file_size
    if allowed_types:
        body["allowed_types"] = list(allowed_types)
    created = api.post(f"/workspaces/{seg(workspace['id'])}/requests", body)
    ctx.emit(created, lambda: out.print(f"{created['url']}\n(request id {created['id']}; shown only once)"))


@request.command("list")
@click.argument("workspace")
@common
def request_list(ctx: Context, workspace: str) -> None:
    """The upload requests of WORKSPACE."""
    api = ctx.api()
    ws = resolve_workspace(api, split_place(workspace)[0])
    items = api.all_items(f"/workspaces/{seg(ws['id'])}/requests")

    def human() -> None:
        table = columns("id", "folder", "state", "expires", "label")
        for r in items:
            table.add_row(
                str(r["id"]),
                str(r.get("folder")),
                str(r.get("state")),
                str(r.get("expires_at")),
                str(r.get("label") or ""),
            )
        out.print(table)

    ctx.emit({"items": items}, human)


@request.command("revoke")
@click.argument("request_id")
@common
def request_revoke(ctx: Context, request_id: str) -> None:
    """Close an upload request at once."""
    ctx.api().call("DELETE", f"/requests/{seg(request_id)}")
    ctx.emit({"revoked": request_id}, lambda: out.print(f"Closed {request_id}."))


# -- chain of custody ------------------------------------------------------------------------------


@cli.command("verify")
@click.argument("link")
@click.argument("files", nargs=-1, type=click.Path(exists=True, path_type=Path))
@common
def verify_command(ctx: Context, link: str, files: tuple[Path, ...]) -> None:
    """Check a share's signed manifest and the downloaded FILES (or folders) against it."""
    if origin_of(link) and not ctx.url:
        ctx.url = origin_of(link)
    api = ctx.api()
    token = token_of(link)
    signed = api.get(f"/public/shares/{seg(token)}/manifest", public=True)
    keys = api.get("/public/keys", public=True).get("keys", [])
    report = verify(signed, keys, local_files(list(files) or [Path(".")]))

    def human() -> None:
        out.print(f"signature: {'valid' if report.signature_ok else 'INVALID'} (key {report.key_id})")
        for row in report.files:
            out.print(
                f"{'ok' if row['ok'] else 'FAILED':7} {row['name']}"
                + (f"  ({row['problem']})" if not row["ok"] else "")
            )

    ctx.emit(report.as_json(), human)
    if not report.ok:
        raise CliError("Verification failed.", VERIFY_FAILED, code="verification_failed")


@cli.group()
def audit() -> None:
    """The tamper-evident audit trail."""


@audit.command("export")
@click.argument("workspace")
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True, help="The file to write."
)
@common
def audit_export(ctx: Context, workspace: str, output: Path) -> None:
    """Save WORKSPACE's hash-chained audit export (every page) as JSON Lines, for `audit verify`."""
    api = ctx.api()
    ws = resolve_workspace(api, split_place(workspace)[0])
    lines: list[str] = []
    from_seq: int | None = 1
    while from_seq is not None:
        page = api.call("GET", f"/workspaces/{seg(ws['id'])}/audit/export", raw=True, params={"from_seq": from_seq})
        from_seq = None
        for line in str(page).splitlines():
            if '"continuation"' in line and json.loads(line).get("type") == "continuation":
                from_seq = int(json.loads(line)["from_seq"])
            elif line.strip():
                lines.append(line)
    output.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    data = {"workspace_id": ws["id"], "path": str(output), "lines": len(lines)}
    ctx.emit(data, lambda: out.print(f"Saved {len(lines)} lines to {output}."))


@audit.command("verify")
@click.argument("export", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--keys",
    "keys_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The deployment's public keys (GET /public/keys as JSON) instead of asking --url.",
)
@click.option("--from-seq", default=1, show_default=True, type=click.IntRange(1), help="Where the chain starts.")
@common
def audit_verify(ctx: Context, export: Path, keys_file: Path | None, from_seq: int) -> None:
    """Check an audit export (JSON Lines) for edited, removed, reordered or truncated events."""
    from docuserve.custody.chain import verify_export

    lines = export.read_text(encoding="utf-8").splitlines()
    keys: list[dict[str, Any]] = []
    if keys_file is not None:
        try:
            listed = json.loads(keys_file.read_text())
        except ValueError:
            raise CliError(f"{keys_file} is not JSON.", USAGE) from None
        keys = listed.get("keys", []) if isinstance(listed, dict) else listed
    elif any('"checkpoint"' in line for line in lines):  # only signed checkpoints need the public keys
        keys = ctx.api().get("/public/keys", public=True).get("keys", [])
    report = verify_export(lines, keys, from_seq=from_seq)
    data = {
        "ok": report.ok,
        "workspace_id": report.workspace_id,
        "events": report.events,
        "first_seq": report.first_seq,
        "last_seq": report.last_seq,
        "last_hash": report.last_hash,
        "checkpoints": report.checkpoints,
        "newest_checkpoint_seq": report.newest_checkpoint_seq,
        "problems": report.problems,
    }

    def human() -> None:
        if report.ok:
            out.print(
                f"ok: {report.events} events (seq {report.first_seq}..{report.last_seq}), "
                f"{report.checkpoints} signed checkpoints (newest at seq {report.newest_checkpoint_seq})"
            )
        for problem in report.problems:
            out.print(f"FAILED: {problem}", markup=False)

    ctx.emit(data, human)
    if not report.ok:
        raise CliError(
            f"The audit export does not verify: {len(report.problems)} problem(s).",
            VERIFY_FAILED,
            code="audit_tampered",
        )


# -- entry point -----------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; every failure is one line on stderr (and JSON on stdout with --json)."""
    as_json = "--json" in (argv if argv is not None else sys.argv[1:])
    try:
        cli.main(args=argv, prog_name="docuserve", standalone_mode=False)
    except CliError as exc:
        if as_json:
            click.echo(json.dumps(exc.as_json()))
        click.echo(f"docuserve: {' '.join(exc.message.split())}", err=True)  # one line, always
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("docuserve: cancelled", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(USAGE if isinstance(exc, click.UsageError) else exc.exit_code)
    except KeyboardInterrupt:
        click.echo("docuserve: interrupted (run the same command again to resume an upload)", err=True)
        sys.exit(130)
    except Exception as exc:  # an unexpected failure still gets one line, not a traceback
        click.echo(f"docuserve: unexpected error: {type(exc).__name__}: {exc}", err=True)
        sys.exit(UNEXPECTED)
    sys.exit(0)
