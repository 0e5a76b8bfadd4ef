"""The mail moto's SES accepted, read back from its backend (in-process moto, as the tests run it)."""

from __future__ import annotations

from dataclasses import dataclass
from email import message_from_string
from email.message import Message
from email.policy import default


@dataclass(frozen=True)
class SentMail:
    to: str
    sender: str
    subject: str
    text: str
    html: str
    raw: str  # the whole MIME message, headers included


def _part(message: Message, subtype: str) -> str:
    for part in message.walk():
        if part.get_content_type() == f"text/{subtype}":
            return str(part.get_content())  # type: ignore[attr-defined]
    return ""


def sent(region: str = "us-east-1") -> list[SentMail]:
    """Every message sent so far, oldest first."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    mails = []
    for message in ses_backends[DEFAULT_ACCOUNT_ID][region].sent_messages:
        raw = getattr(message, "raw_data", None)
        assert raw is not None, "DocuServe sends MIME (Raw) messages only"
        parsed = message_from_string(raw, policy=default)
        mails.append(
            SentMail(
                to=str(parsed["To"]),
                sender=str(parsed["From"]),
                subject=str(parsed["Subject"]),
                text=_part(parsed, "plain"),
                html=_part(parsed, "html"),
                raw=raw,
            )
        )
    return mails


def sent_to(address: str, region: str = "us-east-1") -> list[SentMail]:
    return [m for m in sent(region) if m.to == address]
