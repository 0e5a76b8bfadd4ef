"""The stage's signing key: KMS signs RAW messages ≤ 4 KB, and anyone verifies them offline."""

from __future__ import annotations

import pytest

from docuserve.custody import signing

pytestmark = pytest.mark.usefixtures("aws")


def test_a_signature_verifies_under_the_listed_public_key_of_the_key_that_made_it() -> None:
    signature = signing.sign(b"delivered: one file")
    (key,) = signing.public_keys()
    assert key["key_id"] == signature.key_id
    assert key["created_at"] == "2026-12-01T00:00:00Z"
    assert key["pem"].startswith("-----BEGIN PUBLIC KEY-----\n")
    assert signing.verify(b"delivered: one file", signature.signature_der, key["pem"])


def test_a_changed_message_or_signature_does_not_verify() -> None:
    signature = signing.sign(b"delivered: one file")
    pem = signing.public_keys()[0]["pem"]
    assert not signing.verify(b"delivered: two files", signature.signature_der, pem)
    assert not signing.verify(b"delivered: one file", signature.signature_der[:-1] + b"\x00", pem)
    assert not signing.verify(b"delivered: one file", b"not DER", pem)
    assert not signing.verify(b"delivered: one file", signature.signature_der, "not a key")


def test_a_raw_message_is_at_most_4096_bytes() -> None:
    assert signing.sign(b"x" * 4096).signature_der
    with pytest.raises(ValueError, match="4096"):
        signing.sign(b"x" * 4097)
