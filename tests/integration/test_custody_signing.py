"""The stage's signing key: KMS signs RAW messages ≤ 4 KB, and anyone verifies them offline."""

from __future__ import annotations

import boto3
import pytest

from docuserve.adapters import aws as adapters
from docuserve.custody import signing
from docuserve.settings import SIGNING_KEYS

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


def test_after_a_rotation_the_newest_key_signs_and_the_older_one_stays_listed(monkeypatch: pytest.MonkeyPatch) -> None:
    kms = boto3.client("kms")
    (old,) = [k["key_id"] for k in signing.public_keys()]
    new = kms.create_key(KeySpec=signing.KEY_SPEC, KeyUsage=signing.KEY_USAGE)["KeyMetadata"]["KeyId"]
    listed = [(old, "2026-12-01T00:00:00Z"), (new, "2027-03-01T00:00:00Z")]
    monkeypatch.setenv(SIGNING_KEYS, signing.signing_keys_setting(listed))
    adapters.reset()

    signature = signing.sign(b"after the rotation")
    keys = signing.public_keys()

    assert signature.key_id == new
    assert [(k["key_id"], k["created_at"]) for k in keys] == listed
    assert signing.verify(b"after the rotation", signature.signature_der, keys[1]["pem"])
    assert not signing.verify(b"after the rotation", signature.signature_der, keys[0]["pem"])
