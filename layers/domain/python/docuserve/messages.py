"""Every e-mail DocuServe sends, rendered in-app as plain text and HTML (no template service).

One function per message of SPEC "E-mail": a share link to its recipients, "your link was
downloaded", "files arrived", "a threat was found", a recipient code and a local invitation.

Rules every message keeps (``tests/unit/test_messages.py`` attacks them):

- Subjects are fixed words: no document name, label, message or partner-supplied name ever
  reaches a header. Only the body carries them.
- In the HTML part every value is escaped (``html.escape``, quotes included), so a label like
  ``<img src=x onerror=...>`` is text; links are only the deployment's own http(s) URLs.
- In the text part a one-line value (a name, a label) has its control characters and line breaks
  turned into spaces, so it cannot fake lines of the message.
- No function takes a password, so none can put one in a mail: a password-protected link says
  that the sender gives the password separately.
"""

from __future__ import annotations

import html
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from docuserve import clock

PRODUCT = "DocuServe"
CODE_MINUTES = 10


@dataclass(frozen=True)
class Mail:
    subject: str
    text: str
    html: str


def _line(value: str | None) -> str:
    """A one-line rendering of an untrusted value: every control or separator character a space."""
    cleaned = "".join(" " if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") else ch for ch in value or "")
    return " ".join(cleaned.split())


def _paragraphs(value: str | None) -> list[str]:
    """An untrusted multi-line value (a message) as its lines, each cleaned like ``_line``."""
    text = (value or "").replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n").replace("\u2029", "\n")
    return [_line(part) for part in text.split("\n")]


def _url(value: str) -> str:
    """A link the mail may carry: an absolute http(s) URL (the deployment's own, built by the caller)."""
    parts = urlsplit(value)
    if parts.scheme not in ("https", "http") or not parts.netloc or _line(value) != value:
        raise ValueError("a mail links only to an absolute http(s) URL")
    return value


def _when(value: str | datetime) -> str:
    moment = clock.parse(value) if isinstance(value, str) else value
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _e(value: str) -> str:
    return html.escape(value, quote=True)


def _page(title: str, blocks: Sequence[str]) -> str:
    """The HTML part: a minimal, inline-styled document (mail clients drop style sheets)."""
    body = "\n".join(blocks)
    return (
        "<!doctype html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f"<title>{_e(title)}</title></head>\n"
        '<body style="font-family:system-ui,sans-serif;line-height:1.5;color:#1a1a1a">\n'
        f"{body}\n"
        f'<p style="color:#666;font-size:0.9em">{_e(PRODUCT)}: this is an automatic message.</p>\n'
        "</body></html>\n"
    )


def _p(text: str) -> str:
    return f"<p>{_e(text)}</p>"


def _button(url: str, label: str) -> str:
    return f'<p><a href="{_e(_url(url))}">{_e(label)}</a></p>'


def _quote(lines: list[str]) -> str:
    inner = "<br>".join(_e(line) for line in lines)
    return f'<blockquote style="border-left:3px solid #ccc;margin:0;padding-left:1em">{inner}</blockquote>'


def _text(lines: Sequence[str]) -> str:
    return "\n".join(lines).rstrip("\n") + f"\n\n-- \n{PRODUCT}: this is an automatic message.\n"


def share_link(
    *,
    url: str,
    sender_name: str | None,
    sender_email: str,
    document_name: str,
    expires_at: str,
    message: str | None = None,
    password_required: bool = False,
) -> Mail:
    """A link sent to its recipients: who sends it, what, their note, until when (never a password)."""
    who = _line(sender_name) or _line(sender_email)
    sender = f"{who} <{_line(sender_email)}>" if _line(sender_name) else who
    name = _line(document_name)
    expiry = _when(expires_at)
    text = [f"{sender} shared a document with you: {name}", ""]
    blocks = [_p(f"{sender} shared a document with you:"), f"<p><strong>{_e(name)}</strong></p>"]
    if message:
        lines = _paragraphs(message)
        text += ["Their message:", *(f"> {line}" for line in lines), ""]
        blocks += [_p("Their message:"), _quote(lines)]
    text += [f"Open it: {_url(url)}", f"The link works until {expiry}."]
    blocks += [_button(url, "Open the shared document"), _p(f"The link works until {expiry}.")]
    if password_required:
        note = "The link is protected by a password, which the sender gives you separately."
        text.append(note)
        blocks.append(_p(note))
    return Mail(subject="A document was shared with you", text=_text(text), html=_page("Shared document", blocks))


def link_downloaded(
    *,
    document_name: str,
    label: str | None,
    downloaded_at: str,
    download_count: int,
    downloads_remaining: int | None,
    url: str,
) -> Mail:
    """ "Your link was downloaded", to the link's creator (at most hourly per link: ``docuserve.notify``)."""
    name = _line(document_name)
    which = f"Your link to {name}" + (f" ({_line(label)})" if _line(label) else "")
    first = f"{which} was downloaded at {_when(downloaded_at)}."
    total = f"Downloads so far: {download_count}" + (
        f"; {downloads_remaining} left." if downloads_remaining is not None else "."
    )
    later = "Further downloads within the hour are not mailed; the link's activity lists every one."
    text = [first, total, "", later, f"Activity: {_url(url)}"]
    blocks = [_p(first), _p(total), _p(later), _button(url, "See the link's activity")]
    return Mail(subject="Your link was downloaded", text=_text(text), html=_page("Link downloaded", blocks))


@dataclass(frozen=True)
class ArrivedFile:
    name: str
    size: int


def _size(size: int) -> str:
    value, units = float(size), ["B", "KB", "MB", "GB", "TB"]
    unit = 0
    while value >= 1024 and unit < len(units) - 1:
        value /= 1024
        unit += 1
    return f"{int(value)} {units[unit]}" if unit == 0 else f"{value:.1f} {units[unit]}"


def files_arrived(
    *,
    request_label: str | None,
    folder: str,
    files: Sequence[ArrivedFile],
    uploader_name: str | None,
    uploader_email: str | None,
    url: str,
) -> Mail:
    """Files arrived through an upload request: which, from whom (as the partner named themselves)."""
    request = f"Your upload request ({_line(request_label)})" if _line(request_label) else "Your upload request"
    by = _line(uploader_name)
    if _line(uploader_email):
        by = f"{by} <{_line(uploader_email)}>" if by else _line(uploader_email)
    first = f"{request} received {len(files)} file{'s' if len(files) != 1 else ''} in {_line(folder)}"
    first += f", sent by {by} (as they named themselves)." if by else "."
    listing = [f"{_line(f.name)} ({_size(f.size)})" for f in files]
    scanning = "Each file is scanned for malware before anyone can download it."
    text = [first, "", *(f"- {item}" for item in listing), "", scanning, f"Open the folder: {_url(url)}"]
    items = "".join(f"<li>{_e(item)}</li>" for item in listing)
    blocks = [_p(first), f"<ul>{items}</ul>", _p(scanning), _button(url, "Open the folder")]
    return Mail(
        subject="Files arrived through your upload request", text=_text(text), html=_page("Files arrived", blocks)
    )


def threat_found(
    *, workspace_name: str | None, document_name: str, version_number: int, threats: Sequence[str], url: str
) -> Mail:
    """A threat was found in a version: it is never served; owners and admins are told."""
    where = f" in the workspace {_line(workspace_name)}" if _line(workspace_name) else ""
    first = f"Version {int(version_number)} of {_line(document_name)}{where} contains malware."
    names = [_line(t) for t in threats if _line(t)] or ["(the scanner named no threat)"]
    blocked = "Nobody can download this version, neither members nor partners; its links read unavailable."
    advice = "Delete it, or upload a clean version, and find out where the file came from."
    text = [first, "", "Threats found:", *(f"- {t}" for t in names), "", blocked, advice, f"Document: {_url(url)}"]
    items = "".join(f"<li>{_e(t)}</li>" for t in names)
    blocks = [_p(first), _p("Threats found:"), f"<ul>{items}</ul>", _p(blocked), _p(advice), _button(url, "Open it")]
    return Mail(subject="A threat was found in an upload", text=_text(text), html=_page("Threat found", blocks))


def recipient_code(
    *, code: str, document_name: str | None, sender_email: str | None, upload_request: bool = False
) -> Mail:
    """A recipient's verification code: 6 digits, valid 10 minutes; a code, not a link, on purpose.

    ``upload_request``: the code opens an upload request (sending files), not a shared document.
    """
    if len(code) != 6 or not code.isascii() or not code.isdigit():
        raise ValueError("a recipient code is 6 digits")
    what = f"the document {_line(document_name)}" if _line(document_name) else "a shared document"
    by = f" that {_line(sender_email)} shared with you" if _line(sender_email) else ""
    first = f"Your code to open {what}{by}:"
    if upload_request:
        asker = f" {_line(sender_email)}" if _line(sender_email) else ""
        first = f"Your code to send files to{asker or ' the person who asked for them'}:"
    valid = f"It is valid for {CODE_MINUTES} minutes. Enter it on the page that asked for it."
    unasked = "If you did not ask for it, ignore this mail: nobody can open the link without the code."
    text = [first, "", f"    {code}", "", valid, unasked]
    blocks = [
        _p(first),
        f'<p style="font-size:1.6em;letter-spacing:0.2em"><strong>{_e(code)}</strong></p>',
        _p(valid),
        _p(unasked),
    ]
    return Mail(subject="Your DocuServe verification code", text=_text(text), html=_page("Verification code", blocks))


def local_invite(*, email: str, sign_in_url: str) -> Mail:
    """The local stack's invitation (Cognito mails the real one in AWS): how to sign in, no password."""
    first = f"You have been invited to {PRODUCT} as {_line(email)}."
    how = (
        "Sign in with this e-mail address and the temporary password your administrator gives you "
        "(on the local stack it is printed on the console); you choose your own password at first sign-in."
    )
    text = [first, "", how, f"Sign in at {_url(sign_in_url)}"]
    blocks = [_p(first), _p(how), _button(sign_in_url, f"Sign in to {PRODUCT}")]
    return Mail(subject=f"Your {PRODUCT} account", text=_text(text), html=_page("Invitation", blocks))
