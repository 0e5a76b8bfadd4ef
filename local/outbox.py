"""The local outbox: every mail the functions sent through moto's SES, read back from its backend.

DocuServe sends MIME messages as SES ``Raw`` content (``docuserve.adapters.mail``), which moto keeps
whole; the front serves them at ``GET /_local/outbox`` (local stack only), newest first, as
``[{"to", "subject", "text", "html", "at"}]``. moto runs in this process, so its backend is read
directly: nothing here exists in AWS, where SES delivers the mail.
"""

from __future__ import annotations

from email import message_from_string
from email.message import EmailMessage
from email.policy import default
from email.utils import parsedate_to_datetime
from typing import Any

from docuserve import clock


def _part(message: EmailMessage, subtype: str) -> str:
    body = message.get_body((subtype,))
    return str(body.get_content()) if body is not None else ""


def _entry(raw: str) -> dict[str, Any]:
    message = message_from_string(raw, policy=default)
    assert isinstance(message, EmailMessage)
    date = message.get("Date")
    at = clock.iso(parsedate_to_datetime(str(date))) if date else None
    return {
        "to": str(message.get("To", "")),
        "subject": str(message.get("Subject", "")),
        "text": _part(message, "plain"),
        "html": _part(message, "html"),
        "at": at,
    }


def _simple(message: Any) -> dict[str, Any]:
    # A message some other client sent as SES "Simple" content: moto kept one body only.
    destinations = getattr(message, "destinations", {}) or {}
    to = destinations.get("ToAddresses", []) if isinstance(destinations, dict) else list(destinations)
    body = str(getattr(message, "body", ""))
    return {"to": ", ".join(to), "subject": str(getattr(message, "subject", "")), "text": body, "html": "", "at": None}


def outbox(region: str) -> list[dict[str, Any]]:
    """Every message moto's SES accepted in ``region``, newest first."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    sent = list(ses_backends[DEFAULT_ACCOUNT_ID][region].sent_messages)
    entries = []
    for message in reversed(sent):
        raw = getattr(message, "raw_data", None)
        entries.append(_entry(raw) if isinstance(raw, str) else _simple(message))
    return entries
