"""Mail adapter: the one way DocuServe sends e-mail, through SES v2 from the stage's ``mail_from``.

A message goes as a MIME ``multipart/alternative`` (plain text and HTML) that Python's ``email``
package builds and encodes, sent as SES's ``Raw`` content: the same bytes in AWS and in moto,
whose backend keeps a raw message whole (text, HTML and date), where a ``Simple`` one loses its
text part. That is what the local outbox (``GET /_local/outbox``) reads back.

Headers can never be injected: a recipient must be one plain address (no name, no list, no
control character: refused with ``MailRefused``), and the subject has every control character
(CR and LF included) replaced by a space before it reaches a header, where the ``email`` package
would refuse a line break anyway. The configuration set, when the stage has one, routes bounces
and complaints to the stage's alarms. A stage without ``mail_from`` sends nothing: ``send`` logs
and returns ``None``.
"""

from __future__ import annotations

import unicodedata
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid

from aws_lambda_powertools import Logger

from docuserve import clock, validation
from docuserve.settings import get_settings

logger = Logger()

SUBJECT_MAX = 200  # a subject line longer than this is cut (with an ellipsis), never wrapped
MAIL_FAILURES = "MailFailures"  # business metric: sends that failed where the caller carries on


class MailRefused(ValueError):
    """A recipient that is not exactly one plain e-mail address."""


def _has_control(value: str) -> bool:
    return any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in value)


def address(value: str) -> str:
    """``value`` as one lower-cased plain address; ``MailRefused`` for anything else."""
    if not isinstance(value, str) or _has_control(value):
        raise MailRefused("a recipient must be one e-mail address without control characters")
    try:
        return validation.email(value)
    except ValueError:
        raise MailRefused("a recipient must be one e-mail address") from None


def subject_line(value: str) -> str:
    """A single-line subject: control characters become spaces, runs of spaces one, at most 200."""
    cleaned = "".join(" " if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") else ch for ch in value)
    line = " ".join(cleaned.split())
    if len(line) > SUBJECT_MAX:
        line = line[: SUBJECT_MAX - 1].rstrip() + "…"
    return line or "DocuServe"


def compose(to: str, subject: str, text: str, html: str, *, sender: str) -> EmailMessage:
    """The MIME message (text first, then HTML, as mail clients prefer the last they can show)."""
    message = EmailMessage(policy=SMTP)
    message["From"] = address(sender)
    message["To"] = address(to)
    message["Subject"] = subject_line(subject)
    message["Date"] = format_datetime(clock.now())
    message["Message-ID"] = make_msgid(domain=message["From"].split("@", 1)[1])
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no out-of-office replies to this
    # Quoted-printable: 7-bit clean for any relay, and still readable in the raw message.
    message.set_content(text, subtype="plain", charset="utf-8", cte="quoted-printable")
    message.add_alternative(html, subtype="html", charset="utf-8", cte="quoted-printable")
    return message


def send(to: str, subject: str, text: str, html: str) -> str | None:
    """Send one message to one recipient; SES's message id, or ``None`` when the stage sends no mail.

    ``MailRefused`` for a bad recipient; SES errors propagate (callers that must carry on catch them).
    """
    settings = get_settings()
    recipient = address(to)
    if not settings.mail_from:
        logger.info("this stage sends no mail (no MAIL_FROM); a message was not sent", extra={"subject": subject})
        return None
    message = compose(recipient, subject, text, html, sender=settings.mail_from)
    request: dict[str, object] = {
        "FromEmailAddress": settings.mail_from,
        "Destination": {"ToAddresses": [recipient]},
        "Content": {"Raw": {"Data": message.as_bytes()}},
    }
    if settings.mail_configuration_set:
        request["ConfigurationSetName"] = settings.mail_configuration_set
    # Imported here: only the routes that mail load the SES client.
    from docuserve.adapters import aws

    answer = aws.sesv2().send_email(**request)
    return str(answer.get("MessageId", ""))


def send_quietly(to: str, subject: str, text: str, html: str, *, what: str) -> bool:
    """``send``, for a caller whose own work must not fail with the mail: logs and counts instead.

    True when SES accepted it (or the stage sends no mail), False when it failed.
    """
    try:
        send(to, subject, text, html)
    except Exception:
        logger.exception("a mail could not be sent", extra={"mail": what})
        from docuserve.observability import count

        count(MAIL_FAILURES)
        return False
    return True
