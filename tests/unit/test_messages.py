"""Mail rendering and the adapter's headers: untrusted text is escaped and never reaches a header,
and no message can carry a password."""

from __future__ import annotations

import inspect
from email import message_from_bytes
from email.policy import default

import pytest

from docuserve import messages
from docuserve.adapters import mail

HOSTILE = '<script>alert(1)</script> "quoted" & <img src=x onerror=alert(2)>\r\nBcc: victim@example.com'
URL = "https://docs.example.com/s/abc"


def _all_messages(value: str) -> list[messages.Mail]:
    """Every message, with ``value`` in every untrusted field it has."""
    return [
        messages.share_link(
            url=URL,
            sender_name=value,
            sender_email="alice@example.com",
            document_name=value,
            expires_at="2026-12-24T10:00:00.000Z",
            message=value,
            password_required=True,
        ),
        messages.link_downloaded(
            document_name=value,
            label=value,
            downloaded_at="2026-12-03T10:00:00.000Z",
            download_count=2,
            downloads_remaining=None,
            url=URL,
        ),
        messages.files_arrived(
            request_label=value,
            folder=value,
            files=[messages.ArrivedFile(name=value, size=2048)],
            uploader_name=value,
            uploader_email=value,
            url=URL,
        ),
        messages.threat_found(workspace_name=value, document_name=value, version_number=3, threats=[value], url=URL),
        messages.recipient_code(code="042917", document_name=value, sender_email=value),
        messages.local_invite(email="new@example.com", sign_in_url="http://localhost:8000/"),
    ]


@pytest.mark.parametrize("rendered", _all_messages(HOSTILE), ids=lambda m: m.subject)
def test_untrusted_text_is_escaped_in_html_and_cannot_fake_lines_in_text(rendered: messages.Mail) -> None:
    assert "<script>" not in rendered.html
    assert "<img" not in rendered.html
    assert "onerror=alert(2)>" not in rendered.html
    # The only tags are the layout's own.
    assert "Bcc:" not in rendered.subject
    for line in rendered.text.splitlines():
        assert not line.startswith("Bcc:"), "a line break in a value became a line of the mail"


@pytest.mark.parametrize("rendered", _all_messages(HOSTILE), ids=lambda m: m.subject)
def test_subjects_are_fixed_words_without_untrusted_text(rendered: messages.Mail) -> None:
    assert "script" not in rendered.subject
    assert "quoted" not in rendered.subject
    assert "\n" not in rendered.subject
    assert "\r" not in rendered.subject


def test_the_escaped_values_are_still_there_for_the_reader() -> None:
    shared = _all_messages("Q3 <plan> & budget")[0]
    assert "Q3 &lt;plan&gt; &amp; budget" in shared.html
    assert "Q3 <plan> & budget" in shared.text


def test_a_share_mail_names_sender_document_message_expiry_and_url() -> None:
    shared = messages.share_link(
        url=URL,
        sender_name="Alice Example",
        sender_email="alice@example.com",
        document_name="Launch plan.pdf",
        expires_at="2026-12-24T10:00:00.000Z",
        message="Hi Bob,\nhere is the plan.",
    )
    for part in (shared.text, shared.html):
        assert "Alice Example" in part
        assert "alice@example.com" in part
        assert "Launch plan.pdf" in part
        assert "2026-12-24 10:00 UTC" in part
        assert URL in part
    assert "> Hi Bob," in shared.text
    assert "> here is the plan." in shared.text
    assert "password" not in shared.text.lower()  # not protected: nothing to say about one


def test_no_message_function_accepts_a_password() -> None:
    for name, function in inspect.getmembers(messages, inspect.isfunction):
        if function.__module__ == messages.__name__ and not name.startswith("_"):
            parameters = inspect.signature(function).parameters
            # ``password_required`` is a flag: the mail says a password exists, never what it is.
            assert not any(p in ("password", "secret") or p.endswith("_password") for p in parameters), name


def test_a_protected_link_says_the_password_comes_separately() -> None:
    shared = _all_messages("x")[0]
    assert "gives you separately" in shared.text
    assert "gives you separately" in shared.html


def test_a_link_in_a_mail_must_be_an_absolute_http_url() -> None:
    for bad in ("javascript:alert(1)", "/s/abc", "https://ok.example/\r\nX: y", "data:text/html,hi"):
        with pytest.raises(ValueError, match="absolute http"):
            messages.link_downloaded(
                document_name="a", label=None, downloaded_at="2026-12-03T10:00:00.000Z",
                download_count=1, downloads_remaining=1, url=bad,
            )  # fmt: skip


def test_a_recipient_code_is_six_digits() -> None:
    rendered = messages.recipient_code(code="004211", document_name="a.pdf", sender_email="alice@example.com")
    assert "004211" in rendered.text
    assert "004211" in rendered.html
    assert "10 minutes" in rendered.text
    assert "004211" not in rendered.subject
    for bad in ("12345", "1234567", "12345a", "١٢٣٤٥٦"):
        with pytest.raises(ValueError, match="6 digits"):
            messages.recipient_code(code=bad, document_name=None, sender_email=None)


@pytest.mark.parametrize(
    "to",
    [
        "victim@example.com\r\nBcc: all@example.com",
        "victim@example.com\nBcc: all@example.com",
        "a@example.com, b@example.com",
        "Eve <eve@example.com>",
        "not an address",
        "a@example.com\x00",
        "a@example.com\u2028",
        "",
    ],
)
def test_a_recipient_must_be_exactly_one_plain_address(to: str) -> None:
    with pytest.raises(mail.MailRefused):
        mail.address(to)


def test_control_characters_in_a_subject_become_spaces_and_it_stays_one_header() -> None:
    built = mail.compose(
        "bob@example.com", "Hello\r\nBcc: all@example.com\x00\u2028there", "text", "<p>html</p>",
        sender="no-reply@docuserve.local",
    )  # fmt: skip
    parsed = message_from_bytes(built.as_bytes(), policy=default)
    assert parsed["Bcc"] is None
    assert parsed["Subject"] == "Hello Bcc: all@example.com there"
    assert parsed["To"] == "bob@example.com"
    assert [p.get_content_type() for p in parsed.walk()] == ["multipart/alternative", "text/plain", "text/html"]


def test_a_long_subject_is_cut_not_wrapped_into_headers() -> None:
    assert len(mail.subject_line("x" * 5000)) == mail.SUBJECT_MAX
    assert mail.subject_line("\r\n\t") == "DocuServe"


def test_non_ascii_text_survives_encoding() -> None:
    built = mail.compose("bob@example.com", "Grüße", "Ünïcödé ✓", "<p>Ünïcödé ✓</p>", sender="no-reply@docuserve.local")
    raw = built.as_bytes()
    assert raw.isascii()  # encoded for any mail server (RFC 2047 subject, encoded bodies)
    parsed = message_from_bytes(raw, policy=default)
    assert parsed["Subject"] == "Grüße"
    assert parsed.get_body(("plain",)).get_content().strip() == "Ünïcödé ✓"  # type: ignore[union-attr]
