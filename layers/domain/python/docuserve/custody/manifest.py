"""Signed delivery manifests: what a share delivers, signed with the stage's KMS key.

A manifest is the RFC 8785 canonical JSON (``rfc8785``) of::

    {"share_id", "issuer": {"name", "web_origin"}, "created_at", "expires_at",
     "files": [{"name", "size", "sha256", "version_id"}]}

``sha256`` is the file's digest in lowercase hex, what ``sha256sum`` prints (the product stores
and answers base64, S3's checksum form; the manifest is for partners' tools). ``files`` lists what
the link serves now, in the link's order: a single link's document, or a bundle's entries that
serve.

A manifest of at most 4,096 bytes is signed itself (KMS RAW). A longer one (a large bundle) is
not: the signature is over a *statement*, the canonical JSON of
``{"manifest_sha256": <hex SHA-256 of the manifest>, "share_id", "type": STATEMENT_TYPE}``, which
is always small. A verifier checks the signature over the statement, then that the statement's
``manifest_sha256`` is the manifest's (``sha256sum manifest.json``) and its ``share_id`` the
manifest's.

The manifest, its signature (base64 DER), the key id and, for a large one, the statement live on the
link item (``manifest``, ``manifest_signature``, ``manifest_key_id``, ``manifest_statement``), so
the partner's manifest read is the share page's one GetItem. It is signed in the link's creation
and signed again after a refresh changes what it would say (``resign``); ``files_seq``, bumped by
every refresh, keeps a late re-sign from putting back an older manifest.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from typing import Any

from docuserve.adapters.store import ConditionFailed, Store
from docuserve.custody import signing
from docuserve.settings import get_settings
from docuserve.sharing.state import entry_serves

ISSUER_NAME = "DocuServe"
STATEMENT_TYPE = "docuserve.manifest-digest.v1"
ATTRIBUTES = ("manifest", "manifest_signature", "manifest_key_id", "manifest_statement")


def canonical(value: dict[str, Any]) -> str:
    """RFC 8785 canonical JSON (UTF-8 text; no whitespace, keys sorted by UTF-16 code units)."""
    import rfc8785  # vendored layer: only the signing functions carry it (infra/functions.py)

    return rfc8785.dumps(value).decode("utf-8")


def hex_sha256(stored: str) -> str:
    """The stored base64 SHA-256 as ``sha256sum`` prints it ("" when there is none, or not a digest)."""
    try:
        raw = base64.b64decode(stored, validate=True)
    except (binascii.Error, ValueError):
        return ""
    return raw.hex() if len(raw) == 32 else ""


def _file(copy: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": str(copy.get("document_name", "")),
        "size": int(copy.get("size") or 0),
        "sha256": hex_sha256(str(copy.get("sha256") or "")),
        "version_id": str(copy.get("version_id") or ""),
    }


def files_of(link: dict[str, Any]) -> list[dict[str, Any]]:
    """The files a link item delivers now, in its order."""
    if link.get("kind") == "bundle":
        entries = link.get("entries") or {}
        order = link.get("document_ids") or sorted(entries)
        return [_file(entries[d]) for d in order if d in entries and entry_serves(entries[d])]
    return [_file(link)]


def manifest_of(link: dict[str, Any]) -> str:
    """The canonical manifest of a link item."""
    return canonical(
        {
            "share_id": link["share_id"],
            "issuer": {"name": ISSUER_NAME, "web_origin": get_settings().web_origin},
            "created_at": link["created_at"],
            "expires_at": link["expires_at"],
            "files": files_of(link),
        }
    )


def statement_of(manifest: str, share_id: str) -> str:
    """The small statement signed in place of a manifest longer than a RAW message may be."""
    digest = hashlib.sha256(manifest.encode("utf-8")).hexdigest()
    return canonical({"manifest_sha256": digest, "share_id": share_id, "type": STATEMENT_TYPE})


def signed(link: dict[str, Any]) -> dict[str, Any]:
    """The manifest attributes of a link item: its manifest, signed (one KMS Sign)."""
    manifest = manifest_of(link)
    attributes: dict[str, Any] = {"manifest": manifest}
    message = manifest.encode("utf-8")
    if len(message) > signing.MAX_RAW_MESSAGE_BYTES:
        statement = statement_of(manifest, link["share_id"])
        attributes["manifest_statement"] = statement
        message = statement.encode("utf-8")
    signature = signing.sign(message)
    attributes["manifest_signature"] = base64.b64encode(signature.signature_der).decode("ascii")
    attributes["manifest_key_id"] = signature.key_id
    return attributes


def resign(link: dict[str, Any], store: Store) -> bool:
    """Sign the manifest of a refreshed link item again if what it says changed; True if written.

    ``link`` is the item as the refresh left it. The write is conditioned on ``files_seq`` being
    still that image's: a later refresh has its own re-sign, and this one must not undo it.
    A link that no longer serves keeps its manifest (its manifest route answers as its page).
    """
    if link.get("kind") != "bundle" and not entry_serves(link):
        return False
    manifest = manifest_of(link)
    if manifest == link.get("manifest"):
        return False
    attributes = signed(link)
    names = {f"#m{i}": name for i, name in enumerate(attributes)}
    values = {f":m{i}": value for i, value in enumerate(attributes.values())}
    update = "SET " + ", ".join(f"#m{i} = :m{i}" for i in range(len(attributes)))
    removals = [name for name in ATTRIBUTES if name not in attributes]
    # Drop the last access event so the stream does not see it again with this image.
    update += " REMOVE last_event" + "".join(f", {name}" for name in removals)
    seq = link.get("files_seq")
    same = "files_seq = :seq" if seq is not None else "attribute_not_exists(files_seq)"
    condition = f"attribute_exists(pk) AND {same}"
    if seq is not None:
        values[":seq"] = seq
    try:
        store.update(
            {"pk": link["pk"], "sk": link["sk"]},
            update,
            condition=condition,
            names=names,
            expression_values=values,
            return_values="NONE",
        )
    except ConditionFailed:
        return False  # deleted, or refreshed again since: that refresh signs its own
    return True


def view(link: dict[str, Any]) -> dict[str, Any] | None:
    """``{"manifest", "signature" (base64 DER), "key_id"}`` (+ ``statement``) of a link item, if signed."""
    if not link.get("manifest") or not link.get("manifest_signature"):
        return None
    answer: dict[str, Any] = {
        "manifest": link["manifest"],
        "signature": link["manifest_signature"],
        "key_id": link["manifest_key_id"],
    }
    if link.get("manifest_statement"):
        answer["statement"] = link["manifest_statement"]
    return answer
