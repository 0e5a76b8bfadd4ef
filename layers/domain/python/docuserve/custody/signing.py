"""Signatures with the stage's KMS asymmetric key (ECC_NIST_P256, ECDSA_SHA_256).

The stage lists its signing keys, oldest first, in the ``SIGNING_KEYS`` setting; the last one
signs. Rotation adds a key and keeps the older ones listed (``GET /public/keys``) while anything
they signed is alive (docs/share-links.md#signed-delivery-manifests).

Messages are signed RAW (KMS hashes them with SHA-256), which KMS allows up to 4,096 bytes; a
larger document is signed through a small statement carrying its SHA-256 (``custody.manifest``).
``verify`` is pure and offline: it is what a partner's ``openssl dgst -sha256 -verify`` does.
"""

from __future__ import annotations

import base64
import json
import textwrap
from dataclasses import dataclass

from docuserve.adapters import signer
from docuserve.settings import get_settings

MAX_RAW_MESSAGE_BYTES = 4096  # KMS Sign's limit for MessageType RAW
# The key's definition, shared by the CDK stack (infra) and the local stack (local/provision.py).
KEY_SPEC = "ECC_NIST_P256"
KEY_USAGE = "SIGN_VERIFY"
ALGORITHM = signer.ALGORITHM  # ECDSA_SHA_256
# A stage's keys by creation date, oldest first (cdk.json ``signing_keys``; the local stack uses
# this default). Rotating adds a date; a date is removed once every manifest its key signed has
# expired (links live at most ``max_expiry_days``).
DEFAULT_SIGNING_KEYS = ("2026-12-01",)


def signing_keys_setting(keys: list[tuple[str, str]]) -> str:
    """The ``SIGNING_KEYS`` value for ``[(key_id, created_at), ...]``, oldest first (CDK tokens allowed)."""
    return json.dumps([{"key_id": key_id, "created_at": created_at} for key_id, created_at in keys])


@dataclass(frozen=True)
class Signature:
    """An ECDSA signature (DER, as KMS and openssl give it) and the id of the key that made it."""

    key_id: str
    signature_der: bytes


class SigningUnavailable(RuntimeError):
    """The function was not given the stage's signing keys (``SIGNING_KEYS``)."""


def current_key_id() -> str:
    """The key that signs now: the newest of the stage's signing keys."""
    keys = get_settings().signing_keys
    if not keys:
        raise SigningUnavailable("this function has no signing key (SIGNING_KEYS)")
    return keys[-1][0]


def sign(message: bytes) -> Signature:
    """Sign ``message`` (≤ 4,096 bytes) with the current key; ValueError for a longer one."""
    if len(message) > MAX_RAW_MESSAGE_BYTES:
        raise ValueError(f"a RAW message is at most {MAX_RAW_MESSAGE_BYTES} bytes, not {len(message)}")
    key_id = current_key_id()
    return Signature(key_id=key_id, signature_der=signer.sign_raw(key_id, message))


def pem_from_der(der: bytes) -> str:
    """PEM ("PUBLIC KEY") of a DER SubjectPublicKeyInfo, as ``openssl`` reads it."""
    body = "\n".join(textwrap.wrap(base64.b64encode(der).decode("ascii"), 64))
    return f"-----BEGIN PUBLIC KEY-----\n{body}\n-----END PUBLIC KEY-----\n"


def public_keys() -> list[dict[str, str]]:
    """Every listed signing key: ``{key_id, pem, created_at}``, oldest first."""
    return [
        {"key_id": key_id, "pem": pem_from_der(signer.public_key_der(key_id)), "created_at": created_at}
        for key_id, created_at in get_settings().signing_keys
    ]


def verify(message: bytes, signature_der: bytes, pem: str) -> bool:
    """True when ``signature_der`` is an ECDSA P-256/SHA-256 signature of ``message`` under ``pem``.

    Pure and offline. ``cryptography`` is imported here, not at module level: Lambda only signs
    and lists keys, so the functions never import it (it is installed with Powertools[all] and the dev tools).
    """
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    try:
        key = load_pem_public_key(pem.encode("ascii"))
    except ValueError:
        return False
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        return False
    try:
        key.verify(signature_der, message, ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, ValueError):
        return False
    return True
