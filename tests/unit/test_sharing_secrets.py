"""Share tokens and link passwords: what is generated, what is stored, how it is checked."""

from __future__ import annotations

import hashlib
import re

import pytest

from docuserve.sharing import passwords, tokens

CHEAP = passwords.ScryptParams(n=2**10)


def test_tokens_carry_256_random_bits_in_43_url_safe_characters() -> None:
    issued = {tokens.new_token() for _ in range(200)}
    assert len(issued) == 200
    for token in issued:
        assert re.fullmatch(r"[A-Za-z0-9_-]{43}", token)
        assert tokens.is_well_formed(token)


def test_only_the_sha256_of_a_token_is_its_key() -> None:
    token = tokens.new_token()
    assert tokens.token_hash(token) == hashlib.sha256(token.encode()).hexdigest()
    assert token not in tokens.token_hash(token)


@pytest.mark.parametrize("bad", ["", "a" * 42, "a" * 44, "a" * 42 + "=", "a" * 42 + "/", "a" * 42 + "\n", "ä" * 43])
def test_anything_that_was_never_issued_is_not_well_formed(bad: str) -> None:
    assert not tokens.is_well_formed(bad)


def test_the_default_password_hash_uses_owasp_scrypt_parameters() -> None:
    assert (passwords.PARAMS.n, passwords.PARAMS.r, passwords.PARAMS.p) == (2**17, 8, 1)
    assert passwords.PARAMS.maxmem > 128 * passwords.PARAMS.r * passwords.PARAMS.n


@pytest.mark.slow
def test_a_hash_at_the_real_parameters_verifies() -> None:
    stored = passwords.hash_password("correct horse")
    assert stored.startswith("scrypt$131072$8$1$")
    assert passwords.verify_password("correct horse", stored)


def test_the_stored_hash_is_self_describing_salted_and_never_the_password() -> None:
    first, second = passwords.hash_password("correct horse", CHEAP), passwords.hash_password("correct horse", CHEAP)
    assert first != second  # a fresh salt each time
    scheme, n, r, p, salt, _key = first.split("$")
    assert (scheme, n, r, p) == ("scrypt", "1024", "8", "1")
    assert len(salt) >= 21  # 16 bytes
    assert "correct horse" not in first


def test_verification_accepts_the_password_and_nothing_else() -> None:
    stored = passwords.hash_password("correct horse", CHEAP)
    assert passwords.verify_password("correct horse", stored)
    for wrong in ("correct hors", "Correct horse", "correct horse ", ""):
        assert not passwords.verify_password(wrong, stored)


@pytest.mark.parametrize(
    "stored",
    [
        "",
        "plain",
        "bcrypt$1024$8$1$c2FsdA$a2V5",
        "scrypt$1000$8$1$c2FsdHNhbHRzYWx0c2FsdA$" + "A" * 43,  # N not a power of two
        "scrypt$2147483648$8$1$c2FsdHNhbHRzYWx0c2FsdA$" + "A" * 43,  # N beyond any sane cost
        "scrypt$1024$8$1$c2FsdHNhbHRzYWx0c2FsdA$",  # no key
        "scrypt$x$8$1$c2FsdA$a2V5",
    ],
)
def test_a_malformed_stored_value_never_verifies_and_never_raises(stored: str) -> None:
    assert not passwords.verify_password("anything", stored)
