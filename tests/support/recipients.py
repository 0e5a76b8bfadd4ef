"""Recipient verification in tests: the codes DocuServe mailed, read back from moto's SES backend."""

from __future__ import annotations

import re

from tests.support.outbox import sent_to

CODE_SUBJECT = "Your DocuServe verification code"
_CODE_LINE = re.compile(r"^\s+([0-9]{6})\s*$", re.MULTILINE)


def mailed_codes(address: str) -> list[str]:
    """Every verification code mailed to ``address`` so far, oldest first."""
    found = []
    for mail in sent_to(address):
        if mail.subject != CODE_SUBJECT:
            continue
        match = _CODE_LINE.search(mail.text)
        assert match, mail.text
        found.append(match[1])
    return found


def last_code(address: str) -> str:
    codes = mailed_codes(address)
    assert codes, f"no code was mailed to {address}"
    return codes[-1]
