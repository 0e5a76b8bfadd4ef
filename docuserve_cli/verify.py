"""``docuserve verify``: a share's signed manifest against the files a partner downloaded.

Fetches ``GET /public/shares/{token}/manifest`` (the RFC 8785 canonical JSON, a base64 DER
ECDSA-P256/SHA-256 signature, the key id) and ``GET /public/keys``, checks the signature with the
listed public key, and then every file's size and SHA-256. The same check as
``openssl dgst -sha256 -verify key.pem -signature sig.der manifest.json`` plus ``sha256sum``.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from docuserve.custody.signing import verify as signature_valid
from docuserve_cli.errors import VERIFY_FAILED, CliError

# The statement signed in place of a manifest longer than KMS's 4 KB RAW limit
# (docuserve.custody.manifest.statement_of): {"manifest_sha256": hex, "share_id", "type": this}.
STATEMENT_TYPE = "docuserve.manifest-digest.v1"


@dataclass
class Report:
    """The outcome: ``ok`` only if the signature and every file check out."""

    share_id: str | None
    key_id: str
    signature_ok: bool
    files: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.signature_ok and all(f["ok"] for f in self.files)

    def as_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "share_id": self.share_id,
            "key_id": self.key_id,
            "signature_ok": self.signature_ok,
            "files": self.files,
        }


def token_of(link: str) -> str:
    """The token of a share link (``https://host/s/{token}``) or a bare token."""
    link = link.strip().rstrip("/")
    if "/s/" in link:
        link = link.rsplit("/s/", 1)[1]
    return link.split("?", 1)[0].split("#", 1)[0]


def origin_of(link: str) -> str | None:
    """The web origin of a full share link, ``None`` for a bare token."""
    if "/s/" in link and link.startswith(("http://", "https://")):
        return link.split("/s/", 1)[0]
    return None


def _digest(path: Path) -> bytes:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1024 * 1024):
            digest.update(chunk)
    return digest.digest()


def file_sha256(path: Path) -> str:
    """The file's SHA-256 in base64 (the API's form of a document's ``sha256``)."""
    return base64.b64encode(_digest(path)).decode()


def _statement_ok(statement: str, manifest_text: str, share_id: Any) -> bool:
    """The statement names this manifest's SHA-256 (hex, as ``sha256sum`` prints it) and share."""
    try:
        stated = json.loads(statement)
    except ValueError:
        return False
    return (
        isinstance(stated, dict)
        and stated.get("type") == STATEMENT_TYPE
        and stated.get("manifest_sha256") == hashlib.sha256(manifest_text.encode("utf-8")).hexdigest()
        and stated.get("share_id") == share_id
    )


def verify(signed: dict[str, Any], keys: list[dict[str, Any]], files: dict[str, Path]) -> Report:
    """Check ``signed`` (the manifest answer) with ``keys`` and the local ``files`` (name → path)."""
    try:
        manifest_text = str(signed["manifest"])
        signature = base64.b64decode(str(signed["signature"]), validate=True)
        key_id = str(signed["key_id"])
        manifest = json.loads(manifest_text)
    except (KeyError, ValueError):
        raise CliError("The manifest answer is malformed.", VERIFY_FAILED, code="bad_manifest") from None
    pem = next((str(k["pem"]) for k in keys if str(k.get("key_id")) == key_id), None)
    if pem is None:
        raise CliError(f"The manifest's key {key_id} is not among the published keys.", VERIFY_FAILED)
    if not isinstance(manifest, dict):
        raise CliError("The manifest is not a JSON object.", VERIFY_FAILED, code="bad_manifest")
    # A large bundle's manifest is signed through a small statement carrying its SHA-256.
    statement = signed.get("statement")
    if statement is not None:
        signature_ok = _statement_ok(str(statement), manifest_text, manifest.get("share_id")) and signature_valid(
            str(statement).encode("utf-8"), signature, pem
        )
    else:
        signature_ok = signature_valid(manifest_text.encode("utf-8"), signature, pem)
    report = Report(share_id=manifest.get("share_id"), key_id=key_id, signature_ok=signature_ok)
    for entry in manifest.get("files", []):
        name = str(entry.get("name"))
        path = files.get(name)
        row: dict[str, Any] = {"name": name, "size": entry.get("size"), "sha256": entry.get("sha256")}
        if path is None:
            row |= {"ok": False, "problem": "missing"}
        elif path.stat().st_size != int(entry.get("size", -1)):
            row |= {"ok": False, "problem": "size differs", "path": str(path)}
        elif str(entry.get("sha256")) not in (_digest(path).hex(), file_sha256(path)):
            row |= {"ok": False, "problem": "sha256 differs", "path": str(path)}
        else:
            row |= {"ok": True, "path": str(path)}
        report.files.append(row)
    return report


def local_files(paths: list[Path]) -> dict[str, Path]:
    """Name → path of the given files and of the files directly in the given folders."""
    found: dict[str, Path] = {}
    for path in paths:
        if path.is_dir():
            for child in sorted(path.iterdir()):
                if child.is_file():
                    found.setdefault(child.name, child)
        elif path.is_file():
            found[path.name] = path
    return found
