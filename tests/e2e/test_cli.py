"""The ``docuserve`` command-line client against the running local stack, run as a subprocess.

Each test signs in a fresh user through ``docuserve login`` into a config directory of its own
(``XDG_CONFIG_HOME``), so sessions and resume states never mix between tests.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests

from docuserve.limits import Limits
from tests.e2e.client import ROOT, LocalStack, User

pytestmark = pytest.mark.e2e

Run = Callable[..., subprocess.CompletedProcess[str]]


def _env(stack: LocalStack, home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "DOCUSERVE_"))}
    return env | {"XDG_CONFIG_HOME": str(home), "DOCUSERVE_URL": stack.base_url, "COLUMNS": "200"}


def _command(*args: str) -> list[str]:
    return [sys.executable, "-m", "docuserve_cli", *args]


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "config"


@pytest.fixture
def run(local_stack: LocalStack, home: Path) -> Run:
    """``run("ls", "WS")``: the CLI with its output captured (``check`` asserts exit code 0)."""

    def runner(*args: str, check: bool = True, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            _command(*args), env=_env(local_stack, home), cwd=cwd or ROOT, capture_output=True, text=True, timeout=300
        )
        if check:
            assert done.returncode == 0, f"{args}: exit {done.returncode}\n{done.stdout}\n{done.stderr}"
        return done

    return runner


@pytest.fixture
def signed_in(local_stack: LocalStack, run: Run) -> tuple[User, str]:
    """A fresh user signed in through the CLI, and a workspace of theirs (its id)."""
    user = local_stack.create_user()
    run("login", "--email", user.email, "--password", user.password)
    token = local_stack.sign_in_user(user)
    workspace = local_stack.api("POST", "/workspaces", token=token, json={"name": "cli"}).json()
    return user, str(workspace["id"])


def _json(done: subprocess.CompletedProcess[str]) -> Any:
    return json.loads(done.stdout)


def _tree(root: Path) -> dict[str, bytes]:
    files = {"tree/a.txt": b"alpha\n", "tree/docs/b.md": b"# beta\n", "tree/docs/deep/c.bin": os.urandom(3000)}
    for name, body in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(body)
    return files


def test_login_keeps_the_session_in_a_0600_file_and_lists_my_workspaces(
    run: Run, home: Path, signed_in: tuple[User, str]
) -> None:
    _, workspace_id = signed_in
    session_file = home / "docuserve" / "session.json"
    assert stat.S_IMODE(session_file.stat().st_mode) == 0o600
    assert "RefreshToken" not in session_file.read_text()  # our own field names, not Cognito's answer
    assert json.loads(session_file.read_text())  # keyed by web origin

    listed = _json(run("workspaces", "--json"))
    assert [w["id"] for w in listed["items"]] == [workspace_id]


def test_the_console_script_is_installed_with_the_project() -> None:
    script = Path(sys.executable).parent / "docuserve"
    assert script.exists(), "pip install -e . installs the docuserve console script"
    done = subprocess.run([str(script), "--help"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0
    assert "upload" in done.stdout


def test_a_folder_keeps_its_tree_downloads_match_and_a_rerun_skips_unchanged_files(
    run: Run, tmp_path: Path, signed_in: tuple[User, str]
) -> None:
    _, ws = signed_in
    files = _tree(tmp_path)

    first = _json(run("upload", str(tmp_path / "tree"), "--to", f"{ws}:/x", "--json"))
    assert sorted((f["folder"], f["name"], f["status"]) for f in first["files"]) == [
        ("/x/tree", "a.txt", "uploaded"),
        ("/x/tree/docs", "b.md", "uploaded"),
        ("/x/tree/docs/deep", "c.bin", "uploaded"),
    ]

    listing = _json(run("ls", f"{ws}:/x/tree/docs", "--json"))
    assert [f["name"] for f in listing["folders"]] == ["deep"]
    assert [d["name"] for d in listing["documents"]] == ["b.md"]

    for name, body in files.items():
        out = tmp_path / "out" / name.replace("/", "_")
        out.parent.mkdir(exist_ok=True)
        run("download", f"{ws}:/x/{name}", "-o", str(out))
        assert out.read_bytes() == body

    # A whole folder comes down with its tree
    fetched = _json(run("download", f"{ws}:/x/tree", "-o", str(tmp_path / "whole"), "--json"))
    assert len(fetched["files"]) == 3
    for name, body in files.items():
        assert (tmp_path / "whole" / name).read_bytes() == body

    (tmp_path / "tree/a.txt").write_bytes(b"alpha, changed\n")
    again = _json(run("upload", str(tmp_path / "tree"), "--to", f"{ws}:/x", "--json"))
    statuses = {f["name"]: f["status"] for f in again["files"]}
    assert statuses == {"a.txt": "uploaded", "b.md": "skipped", "c.bin": "skipped"}
    changed = next(f for f in again["files"] if f["name"] == "a.txt")
    assert changed["document_id"] == next(f for f in first["files"] if f["name"] == "a.txt")["document_id"]


def test_share_lists_and_revokes_a_link_with_all_its_options(
    local_stack: LocalStack, run: Run, tmp_path: Path, signed_in: tuple[User, str]
) -> None:
    _, ws = signed_in
    (tmp_path / "deal.txt").write_bytes(b"the deal")
    run("upload", str(tmp_path / "deal.txt"), "--to", f"{ws}:/")

    created = _json(
        run(
            "share", f"{ws}:/deal.txt", "--expires-in-days", "3", "--password", "partner-pass-1",
            "--max-downloads", "2", "--label", "for acme", "--recipient", "buyer@example.com", "--json",
        )
    )  # fmt: skip
    assert created["url"].startswith(f"{local_stack.base_url}/s/")
    assert created["password_required"] is True
    assert created["max_downloads"] == 2
    assert created["recipients"] == ["buyer@example.com"]

    links = _json(run("links", f"{ws}:/deal.txt", "--json"))["items"]
    assert [(link["id"], link["state"], link["label"]) for link in links] == [(created["id"], "active", "for acme")]
    assert _json(run("links", ws, "--json"))["items"][0]["id"] == created["id"]

    run("revoke", created["id"])
    assert _json(run("links", f"{ws}:/deal.txt", "--json"))["items"][0]["state"] == "revoked"
    public = local_stack.api("GET", f"/public/shares/{created['token']}")
    assert public.status_code == 410


def test_request_creates_and_lists_upload_requests(run: Run, signed_in: tuple[User, str]) -> None:
    _, ws = signed_in
    created = _json(run("request", "create", f"{ws}:/inbox", "--max-files", "3", "--expires-in-days", "2", "--json"))
    assert "/r/" in created["url"]
    listed = _json(run("request", "list", ws, "--json"))["items"]
    assert [(r["id"], r["folder"]) for r in listed] == [(created["id"], "/inbox")]


def test_failures_are_one_line_with_documented_exit_codes(
    local_stack: LocalStack, run: Run, home: Path, tmp_path: Path, signed_in: tuple[User, str]
) -> None:
    _, ws = signed_in
    missing = run("ls", "no-such-workspace", check=False)
    assert missing.returncode == 4
    assert missing.stderr.strip().count("\n") == 0

    (tmp_path / "f.txt").write_bytes(b"x")
    run("upload", str(tmp_path / "f.txt"), "--to", f"{ws}:/")
    refused = run("share", f"{ws}:/f.txt", "--max-downloads", "0", check=False)
    assert refused.returncode == 5
    assert "422 validation_error" in refused.stderr
    assert "max_downloads" in refused.stderr

    offline = subprocess.run(
        _command("workspaces", "--url", "http://127.0.0.1:9"), env=_env(local_stack, home),
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert offline.returncode == 6
    assert "Cannot reach" in offline.stderr

    # The saved session no longer works (a refresh token Cognito does not know): sign in again.
    session_file = home / "docuserve" / "session.json"
    sessions = json.loads(session_file.read_text())
    sessions[local_stack.base_url] |= {"expires_at": 0, "refresh_token": "not-a-refresh-token"}
    session_file.write_text(json.dumps(sessions))
    expired = run("workspaces", check=False)
    assert expired.returncode == 3
    assert "docuserve login" in expired.stderr

    session_file.unlink()
    assert run("workspaces", "--json", check=False).returncode == 3


def _state_files(home: Path) -> list[Path]:
    return sorted((home / "docuserve" / "uploads").glob("*.json")) if (home / "docuserve" / "uploads").exists() else []


def test_an_upload_killed_halfway_finishes_on_the_rerun_without_resending_finished_parts(
    local_stack: LocalStack, run: Run, home: Path, tmp_path: Path, signed_in: tuple[User, str]
) -> None:
    user, ws = signed_in
    limits = Limits()
    size = limits.single_put_threshold + 5  # multipart: ceil(size / part_size) parts
    part_count = -(-size // limits.part_size)
    folder = tmp_path / "folder"
    folder.mkdir()
    big = folder / "big.bin"
    with big.open("wb") as handle:
        seed = hashlib.sha256(b"cli").digest() * 32768  # 1 MiB
        for _ in range(size // len(seed)):
            handle.write(seed)
        handle.write(b"!" * (size % len(seed)))
    (folder / "small.txt").write_bytes(b"small")

    # Given an upload running one part at a time, killed (SIGKILL: no clean-up at all) once its
    # state file records two landed parts.
    process = subprocess.Popen(
        _command("upload", str(folder), "--to", f"{ws}:/x", "--parallel", "1", "--json"),
        env=_env(local_stack, home), cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 240
    recorded: dict[str, Any] = {}
    try:
        while time.monotonic() < deadline and process.poll() is None:
            states = _state_files(home)
            if states:
                try:
                    recorded = json.loads(states[0].read_text())
                except ValueError:
                    recorded = {}
                if len(recorded.get("parts", {})) >= 2:
                    break
            time.sleep(0.05)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    assert len(recorded.get("parts", {})) >= 2, f"no parts recorded before the kill:\n{local_stack.log()[-2000:]}"
    assert len(recorded["parts"]) < part_count
    # What the state held at the moment of the kill (a part in flight may have landed since).
    at_kill = json.loads(_state_files(home)[0].read_text())
    finished = sorted(int(n) for n in at_kill["parts"])

    # When the same command runs again
    rerun = _json(run("upload", str(folder), "--to", f"{ws}:/x", "--json"))

    # Then only the missing parts are sent, the upload completes, and the bytes are the file's.
    outcome = next(f for f in rerun["files"] if f["name"] == "big.bin")
    assert outcome["status"] == "uploaded"
    assert outcome["parts_resumed"] == len(finished)
    assert outcome["parts_sent"] == part_count - len(finished)
    assert _state_files(home) == []  # a finished upload leaves no state behind
    token = local_stack.sign_in_user(user)
    document = local_stack.api("GET", f"/documents/{outcome['document_id']}", token=token).json()
    assert document["size"] == size
    expected = base64.b64encode(hashlib.sha256(big.read_bytes()).digest()).decode()
    assert document["sha256"] == expected
    assert document["version_count"] == 1  # the resumed upload, not a second one
    url = local_stack.api("GET", f"/documents/{outcome['document_id']}/download", token=token).json()["url"]
    fetched = requests.get(url, timeout=120)
    assert hashlib.sha256(fetched.content).digest() == hashlib.sha256(big.read_bytes()).digest()


def test_an_expired_id_token_is_refreshed_with_the_saved_refresh_token(
    local_stack: LocalStack, run: Run, home: Path, signed_in: tuple[User, str]
) -> None:
    _, ws = signed_in
    session_file = home / "docuserve" / "session.json"
    sessions = json.loads(session_file.read_text())
    old = sessions[local_stack.base_url]
    sessions[local_stack.base_url] = old | {"expires_at": 0}
    session_file.write_text(json.dumps(sessions))

    assert [w["id"] for w in _json(run("workspaces", "--json"))["items"]] == [ws]
    renewed = json.loads(session_file.read_text())[local_stack.base_url]
    assert renewed["expires_at"] > time.time()
    assert renewed["refresh_token"] == old["refresh_token"]
    assert stat.S_IMODE(session_file.stat().st_mode) == 0o600


def test_login_answers_the_new_password_challenge_by_prompting(local_stack: LocalStack, run: Run, home: Path) -> None:
    # Given an invited user who still has the temporary password
    email = f"invited-{os.urandom(4).hex()}@example.com"
    local_stack.cognito.admin_create_user(
        UserPoolId=local_stack.config["user_pool_id"],
        Username=email,
        TemporaryPassword="Temp-Passw0rd!x",
        UserAttributes=[{"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "true"}],
        MessageAction="SUPPRESS",
    )
    # When they sign in and type a new password twice at the prompt
    done = subprocess.run(
        _command("login", "--email", email, "--password", "Temp-Passw0rd!x", "--json"),
        env=_env(local_stack, home), cwd=ROOT, input="New-Passw0rd!yz\nNew-Passw0rd!yz\n",
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    # Then they are signed in, and the new password is the one that works
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["signed_in"] is True
    assert local_stack.sign_in(email, "New-Passw0rd!yz")


def test_audit_export_verifies_and_an_edited_event_fails(run: Run, tmp_path: Path, signed_in: tuple[User, str]) -> None:
    _, ws = signed_in
    (tmp_path / "f.txt").write_bytes(b"audited")
    run("upload", str(tmp_path / "f.txt"), "--to", f"{ws}:/")
    export = tmp_path / "audit.jsonl"
    deadline = time.monotonic() + 60  # the audit stream chains events shortly after they happen
    while True:
        saved = _json(run("audit", "export", ws, "-o", str(export), "--json"))
        if saved["lines"] >= 2 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert saved["lines"] >= 2, export.read_text()

    report = _json(run("audit", "verify", str(export), "--json"))
    assert report["ok"] is True
    assert report["events"] >= 2

    lines = [json.loads(line) for line in export.read_text().splitlines()]
    first = next(line for line in lines if line["type"] == "event")
    first["event"]["action"] = "workspace.renamed"
    export.write_text("".join(json.dumps(line) + "\n" for line in lines))
    tampered = run("audit", "verify", str(export), check=False)
    assert tampered.returncode == 7
    assert "hash does not match" in tampered.stdout


def test_login_answers_the_totp_challenge_by_prompting(local_stack: LocalStack, home: Path) -> None:
    # Given a user with an authenticator app (moto accepts any six-digit code)
    user = local_stack.create_user()
    access = local_stack.tokens(user.email, user.password)["AccessToken"]
    local_stack.cognito.associate_software_token(AccessToken=access)
    local_stack.cognito.verify_software_token(AccessToken=access, UserCode="123456")
    local_stack.cognito.set_user_mfa_preference(
        AccessToken=access, SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": True}
    )
    # When they sign in and type the code at the prompt
    done = subprocess.run(
        _command("login", "--email", user.email, "--password", user.password, "--json"),
        env=_env(local_stack, home), cwd=ROOT, input="123456\n", capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    # Then the CLI asked for it and they are signed in
    assert done.returncode == 0, done.stderr
    assert "Authenticator code" in done.stderr
    assert json.loads(done.stdout)["signed_in"] is True


def test_verify_checks_a_shares_signed_manifest_against_the_downloaded_files(
    local_stack: LocalStack, run: Run, tmp_path: Path, signed_in: tuple[User, str]
) -> None:
    _, ws = signed_in
    (tmp_path / "up").mkdir()
    (tmp_path / "up" / "terms.pdf").write_bytes(b"%PDF-1.7 the terms")
    (tmp_path / "up" / "price.txt").write_bytes(b"42")
    run("upload", str(tmp_path / "up" / "terms.pdf"), str(tmp_path / "up" / "price.txt"), "--to", f"{ws}:/")
    link = _json(run("share", f"{ws}:/terms.pdf", f"{ws}:/price.txt", "--json"))

    # A partner downloads both files through the link
    got = tmp_path / "got"
    got.mkdir()
    for item in link["files"]:
        grant = local_stack.api(
            "POST", f"/public/shares/{link['token']}/download", json={"document_id": item["document_id"]}
        )
        assert grant.status_code == 200, grant.text
        (got / item["name"]).write_bytes(requests.get(grant.json()["url"], timeout=30).content)

    report = _json(run("verify", link["url"], str(got), "--json"))
    assert report["ok"] is True
    assert report["signature_ok"] is True
    assert sorted(f["name"] for f in report["files"]) == ["price.txt", "terms.pdf"]

    # A file swapped after the delivery fails, exit code 7, and names the file
    (got / "price.txt").write_bytes(b"41")
    swapped = run("verify", link["url"], str(got), check=False)
    assert swapped.returncode == 7
    assert "price.txt" in swapped.stdout
