"""Request and response models of the sharing routes: explicit allow-lists at the edges.

No response model has a field for the token hash, the password hash or the object key, so a raw
link item can never leak through one (SPEC security promise 8). The token itself appears only in
``CreatedShare``, the one answer that hands it out. Member-set passwords arrive as ``Masked``
strings, so no repr of a request (Powertools logs route arguments at DEBUG) can ever show one.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, Field, StrictBool, StrictInt

from docuserve import validation
from docuserve.models.base import Body, Model

PASSWORD_MAX = 256  # scrypt hashes any length; this bounds the work a request can ask for
LABEL_MAX = 200
RECIPIENTS_MAX = 50  # = docuserve.sharing.recipients.MAX_RECIPIENTS
EMAIL_MAX = 254
GRANT_MAX = 200  # a grant is 76 characters; anything much longer is not one
CODE_PATTERN = "^[0-9]{6}$"


class Masked(str):
    """A string whose repr never shows it: it is still the plain value for hashing."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "'**********'"


def _in_utc(moment: datetime) -> datetime:
    """The moment in UTC; one that has no UTC form (``0001-01-01T00:30:00+01:00``) is invalid."""
    try:
        return moment.astimezone(UTC)
    except (OverflowError, ValueError):
        raise ValueError("must be a moment between years 1 and 9999 in UTC") from None


def _password(value: str) -> Masked:
    # Compared exactly as typed (never stripped), but a password of nothing but spaces is no secret.
    if not value.strip():
        raise ValueError("must not be blank")
    return Masked(value)


def _email(value: str) -> str:
    try:
        return validation.email(value)
    except ValueError:
        raise ValueError("must be an e-mail address") from None


def _unique(values: list[str]) -> list[str]:
    # Normalised (trimmed, lower-cased) by each item's validator; the first spelling's order kept.
    return list(dict.fromkeys(values))


Password = Annotated[str, Field(max_length=PASSWORD_MAX), AfterValidator(_password)]
Email = Annotated[str, Field(max_length=EMAIL_MAX), AfterValidator(_email)]
# Who may open a recipient-restricted link; an empty list lifts the restriction.
Recipients = Annotated[list[Email], Field(max_length=RECIPIENTS_MAX), AfterValidator(_unique)]
Moment = Annotated[AwareDatetime, AfterValidator(_in_utc)]
# A label follows the rules of names (no control, format or bidi characters) but may hold "/";
# blank or all-space clears it.
Label = Annotated[str, Field(max_length=LABEL_MAX), AfterValidator(validation.label)]
# The member's note to the partner: the label rules, but line breaks are kept; blank means none.
Message = Annotated[str, Field(max_length=validation.MESSAGE_MAX + 100), AfterValidator(validation.message)]


class _LinkTerms(Body):
    """The terms a member sets on a link, at creation and when editing it."""

    expires_at: Moment | None = None
    expires_in_days: StrictInt | None = None
    password: Password | None = None
    max_downloads: StrictInt | None = None
    label: Label | None = None
    recipients: Recipients | None = None
    notify_recipients: StrictBool = False  # mail the link to its recipients (never the password)


class CreateShare(_LinkTerms):
    """``POST /documents/{document_id}/shares``; ``expires_at`` or ``expires_in_days`` (neither: the default)."""

    version_id: str | None = Field(default=None, max_length=64)
    message: Message | None = None


class EditShare(_LinkTerms):
    """``PATCH /shares/{share_id}``: only the fields present change; ``null`` removes password, limit or label.

    ``notify_recipients: true`` re-sends the link to its (new) recipients; only the token's hash is
    stored, so the member gives the ``token`` they were shown, which must be this link's.
    """

    token: str | None = Field(default=None, max_length=64)


class BundleFile(Model):
    """One file of a bundle: what members and the partner page list."""

    document_id: str
    name: str
    size: int
    content_type: str
    sha256: str  # base64, as the document's
    available: bool  # false once its document is trashed, purged or otherwise out of service


class CreateBundle(_LinkTerms):
    """``POST /workspaces/{workspace_id}/shares``: one link for up to 100 documents of the workspace."""

    document_ids: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(min_length=1, max_length=100)
    message: Message | None = None


class ShareView(Model):
    """A link as its document's editors see it."""

    id: str
    document_id: str | None  # null for a bundle: ``files`` names its documents
    workspace_id: str
    document_name: str
    state: str  # active | expired | revoked | used_up | locked | unavailable
    expires_at: str
    password_required: bool
    download_count: int
    max_downloads: int | None
    downloads_remaining: int | None  # null: unlimited
    label: str | None
    version_id: str | None  # the pinned version; null follows the document's current version
    locked_until: str | None
    created_at: str
    created_by: str
    updated_at: str
    updated_by: str
    revoked_at: str | None
    message: str | None = None  # the note the partner page shows (set at creation)
    sender: str | None = None  # what the partner page names as the sender: the creator's verified e-mail
    last_used_at: str | None = None  # the latest partner download
    recipients: list[str] = []  # empty: anyone holding the link (and its password) may download
    kind: str = "document"  # document | bundle
    files: list[BundleFile] = []  # a bundle's files, in the order they were shared


class CreatedShare(ShareView):
    """The creation answer: the only time the token and the full URL are shown."""

    token: str
    url: str


class ShareList(Model):
    items: list[ShareView]
    next_cursor: str | None


class PublicShare(Model):
    """What the partner page shows before a download."""

    name: str
    size: int
    content_type: str
    expires_at: str
    password_required: bool
    downloads_remaining: int | None
    sender: str | None  # the link creator's verified e-mail, frozen at creation (null: none was verified)
    message: str | None  # the creator's note; plain text, shown as text, never as HTML
    verification_required: bool  # recipients are set: verify an e-mail address first (never says which)
    kind: str = "document"  # document | bundle
    files: list[BundleFile] | None = None  # a bundle's files (name, size, SHA-256, availability)
    archive_available: bool = False  # a bundle whose 'download all' is within its size limit


class PublicManifest(Model):
    """A share's signed delivery manifest (docs/share-links.md#signed-delivery-manifests)."""

    manifest: str  # RFC 8785 canonical JSON: verify these exact UTF-8 bytes
    signature: str  # base64 DER ECDSA P-256 / SHA-256, by the key ``key_id`` (GET /public/keys)
    key_id: str
    # Only for a manifest over 4,096 bytes: the canonical statement the signature is over, which
    # carries the manifest's SHA-256 (hex) and share id.
    statement: str | None = None


class SigningKey(Model):
    key_id: str
    pem: str  # SubjectPublicKeyInfo PEM, as ``openssl dgst -verify`` reads it
    created_at: str


class PublicKeys(Model):
    """The stage's manifest-signing public keys, oldest first; the newest signs new manifests."""

    keys: list[SigningKey]


class DownloadRequest(Body):
    password: str | None = Field(default=None, max_length=PASSWORD_MAX)
    grant: str | None = Field(default=None, max_length=GRANT_MAX)  # from verify/confirm, for a restricted link
    document_id: str | None = Field(default=None, max_length=64)  # a bundle: this one file
    archive: StrictBool | None = None  # a bundle: all its files as one ZIP (202 until it is built)


class ArchivePreparing(Model):
    """202: the bundle's ZIP is being built; ask again (the same call) after ``Retry-After``."""

    status: str  # "preparing"
    retry_after: int


class VerifyRequest(Body):
    """``POST /public/shares/{token}/verify``: mail a code to this address if it is a recipient."""

    email: Email


class VerificationStarted(Model):
    """The 202 answer, the same for every address."""

    message: str
    code_valid_minutes: int


class ConfirmRequest(Body):
    """``POST /public/shares/{token}/verify/confirm``: the address and the code mailed to it."""

    email: Email
    code: str = Field(pattern=CODE_PATTERN)


class VerificationGrant(Model):
    grant: str  # opaque; give it to the download within 15 minutes
    expires_at: str


class DownloadGrant(Model):
    url: str  # the presigned GET: valid until expires_at (60 s); the link itself keeps its own expiry
    expires_at: str
    downloads_remaining: int | None  # after this download; null: unlimited
