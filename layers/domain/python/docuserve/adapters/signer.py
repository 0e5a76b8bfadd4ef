"""KMS adapter for the manifest-signing keys: ECDSA P-256 signatures and public keys.

Public keys never change for a key id, so each is fetched once per process.
"""

from __future__ import annotations

from functools import cache

from docuserve.adapters import aws

ALGORITHM = "ECDSA_SHA_256"


def sign_raw(key_id: str, message: bytes) -> bytes:
    """KMS ``Sign`` of ``message`` itself (MessageType RAW: KMS hashes it); the DER signature."""
    answer = aws.kms().sign(KeyId=key_id, Message=message, MessageType="RAW", SigningAlgorithm=ALGORITHM)
    signature: bytes = answer["Signature"]
    return signature


@cache
def public_key_der(key_id: str) -> bytes:
    """The key's DER SubjectPublicKeyInfo (KMS ``GetPublicKey``), cached for the process."""
    der: bytes = aws.kms().get_public_key(KeyId=key_id)["PublicKey"]
    return der
