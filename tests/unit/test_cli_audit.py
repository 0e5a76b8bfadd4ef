"""``docuserve audit verify``: an export passes as exported and fails, exit code 7, on each tampering."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from docuserve.custody.chain import GENESIS, checkpoint_statement, event_content, link_hash
from docuserve_cli.errors import VERIFY_FAILED
from docuserve_cli.main import main

WORKSPACE = "ws1"


def _export(key: ec.EllipticCurvePrivateKey, count: int = 5, checkpoint_at: int = 5) -> list[dict[str, Any]]:
    lines: list[dict[str, Any]] = []
    prev = GENESIS
    for seq in range(1, count + 1):
        event = {"id": f"e{seq}", "at": f"2026-12-03T10:00:0{seq}Z", "action": "document.created",
                 "actor": {"user_id": "u1"}, "workspace_id": WORKSPACE, "details": {"n": seq}}  # fmt: skip
        hashed = link_hash(seq, prev, event_content(event))
        lines.append({"type": "event", "seq": seq, "prev_hash": prev, "hash": hashed, "event": event})
        prev = hashed
    signed_hash = lines[checkpoint_at - 1]["hash"]
    statement = checkpoint_statement(WORKSPACE, checkpoint_at, signed_hash, "2026-12-03T11:00:00Z")
    signature = base64.b64encode(key.sign(statement, ec.ECDSA(hashes.SHA256()))).decode()
    lines.append({"type": "checkpoint", "seq": checkpoint_at, "hash": signed_hash, "key_id": "k1",
                  "statement": statement.decode(), "signature": signature})  # fmt: skip
    return lines


def _edit(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    lines[1]["event"]["action"] = "document.purged"
    return lines


def _remove(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return lines[:1] + lines[2:]


def _reorder(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [lines[1], lines[0], *lines[2:]]


def _truncate(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [*lines[:3], lines[-1]]  # the newest events gone; the signed checkpoint still names seq 5


@pytest.fixture
def key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture
def keys_file(tmp_path: Path, key: ec.EllipticCurvePrivateKey) -> Path:
    pem = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    path = tmp_path / "keys.json"
    path.write_text(json.dumps({"keys": [{"key_id": "k1", "pem": pem.decode(), "created_at": "2026-12-01"}]}))
    return path


def _run(tmp_path: Path, keys_file: Path, lines: list[dict[str, Any]], capsys: Any) -> tuple[int, dict[str, Any]]:
    """Exit code and the JSON report of ``docuserve audit verify EXPORT --keys KEYS --json``."""
    export = tmp_path / "audit.jsonl"
    export.write_text("".join(json.dumps(line) + "\n" for line in lines))
    with pytest.raises(SystemExit) as exited:
        main(["audit", "verify", str(export), "--keys", str(keys_file), "--json"])
    report = json.loads(capsys.readouterr().out.split("\n}\n")[0] + "\n}")
    return int(exited.value.code or 0), report


def test_an_untouched_export_verifies(
    tmp_path: Path, keys_file: Path, key: ec.EllipticCurvePrivateKey, capsys: Any
) -> None:
    code, report = _run(tmp_path, keys_file, _export(key), capsys)
    assert code == 0, report
    assert (report["ok"], report["events"], report["checkpoints"]) == (True, 5, 1)


@pytest.mark.parametrize(
    "tamper", [_edit, _remove, _reorder, _truncate], ids=["edited", "removed", "reordered", "truncated"]
)
def test_each_kind_of_tampering_fails_with_exit_code_7(
    tmp_path: Path,
    keys_file: Path,
    key: ec.EllipticCurvePrivateKey,
    tamper: Callable[[list[dict[str, Any]]], list[dict[str, Any]]],
    capsys: Any,
) -> None:
    code, report = _run(tmp_path, keys_file, tamper(_export(key)), capsys)
    assert code == VERIFY_FAILED
    assert report["ok"] is False
    assert report["problems"]
