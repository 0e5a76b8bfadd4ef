"""The partner side of a link: what the page shows, and redemption (``POST .../download``).

Redemption is one conditional UpdateItem on the link item: the condition checks that the link is
not revoked, not expired, under its download limit, unlocked and (if it has a password) still has
the password hash that was just verified; the update increments ``download_count`` and sets
``last_event``, the audit event of this download. The table's stream turns ``last_event`` into an
append-only audit item (``docuserve.sharing.activity``), so count and event are one atomic write.
The updated item carries the object key and S3 version, so the presigned GET costs no further call.

Round trips: without a password exactly one (the UpdateItem); with one, two (GetItem for the hash
and lock state, then the same UpdateItem); a grant of a recipient-restricted link adds one GetItem
(its verification item), and the UpdateItem's condition then requires that the grant's address is
still a recipient (``contains(recipients, :email)``), so an edit of the list counts at once.

Lockout: ``limits.lockout_threshold`` wrong passwords lock the link for ``limits.lockout_minutes``
(429 with ``Retry-After``); while locked even the right password is refused. Failures are counted
with conditional updates (increment only below threshold - 1; the threshold-th failure sets the
lock), so concurrent guessing cannot get past the count. A successful download does *not* reset
the count: otherwise an attacker could interleave guesses with a partner's legitimate downloads
and never reach the threshold. The count restarts at 0 when a lock is set (and so after it ends)
and when a member sets, changes or removes the password.

Every attempt on a link that exists is audited. Downloads, wrong passwords and lockouts carry their
event in the write that counts them; any other refusal (locked, expired, revoked, used up, the
document unavailable, the password missing) costs one more conditional write whose only change is
``last_event = share.download_refused`` with the reason, so an attacker hammering a locked link
leaves a trace of each try. Success still costs the one write.
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from docuserve import clock, ids, keys
from docuserve.adapters.store import ConditionFailed, Store
from docuserve.custody import manifest
from docuserve.errors import Conflict, DomainError, InvalidInput, NotFound
from docuserve.observability import BusinessMetric, count
from docuserve.settings import get_settings
from docuserve.sharing.errors import (
    ArchiveTooLarge,
    GrantInvalid,
    LinkLocked,
    PasswordIncorrect,
    PasswordRequired,
    VerificationRequired,
)
from docuserve.sharing.passwords import verify_password
from docuserve.sharing.state import downloads_remaining, is_bundle, locked_for, refuse_unusable
from docuserve.sharing.tokens import is_well_formed, token_hash

USER_AGENT_MAX = 512
UNKNOWN_LINK = "no such link"  # never name the token: it is a secret and the path parameter

# Shared by every redemption: the link is live, under its limit, unlocked, its document available.
_REDEEMABLE = (
    "attribute_exists(pk) AND attribute_not_exists(revoked_at) AND expires_epoch > :now"
    " AND (attribute_not_exists(max_downloads) OR download_count < max_downloads)"
    " AND document_status = :available AND attribute_exists(object_key) AND attribute_not_exists(suspended_at)"
    " AND attribute_not_exists(held_by)"
    " AND (attribute_not_exists(locked_until_epoch) OR locked_until_epoch <= :now)"
)
_UNLOCKED = "(attribute_not_exists(locked_until_epoch) OR locked_until_epoch <= :now)"


@dataclass(frozen=True)
class PublicLink:
    name: str
    size: int
    content_type: str
    expires_at: str
    password_required: bool
    downloads_remaining: int | None
    sender: str | None  # the creator's verified e-mail, copied onto the link at creation
    message: str | None
    verification_required: bool = False  # recipients are set (never which ones)
    kind: str = "document"  # or "bundle": several files (``sharing.bundles``)
    files: list[dict[str, Any]] | None = None  # a bundle's files: id, name, size, type, SHA-256, available
    archive_available: bool = False  # a bundle whose 'download all' is within its size limit


@dataclass(frozen=True)
class Grant:
    url: str
    expires_at: str
    downloads_remaining: int | None  # after this download (from the same write's new image)


@dataclass(frozen=True)
class Visitor:
    """Who is at the other end of a public request, as API Gateway saw them."""

    ip: str | None
    user_agent: str | None


def link_key(token: str) -> dict[str, str]:
    if not is_well_formed(token):
        raise NotFound(UNKNOWN_LINK)
    return keys.link(token_hash(token))


def partner_event(action: str, visitor: Visitor, at: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    """The ``last_event`` map; the stream adds the share, workspace and document from the item."""
    actor: dict[str, Any] = {"type": "partner"}
    if visitor.ip:
        actor["ip"] = visitor.ip
    if visitor.user_agent:
        actor["user_agent"] = visitor.user_agent[:USER_AGENT_MAX]
    event: dict[str, Any] = {"id": ids.new_event_id(), "at": at, "action": action, "actor": actor}
    if details:
        event["details"] = details
    return event


def public_info(token: str, *, store: Store | None = None) -> PublicLink:
    """What the partner page shows; 404 unknown, 410 expired/revoked/used up, 429 locked."""
    key = link_key(token)
    item = (store or Store()).get(key)
    if item is None:
        raise NotFound(UNKNOWN_LINK)
    refuse_unusable(item, clock.epoch(clock.now()))
    if is_bundle(item):
        return _bundle_info(item)
    return PublicLink(
        name=item["document_name"],
        size=int(item["size"]),
        content_type=item["content_type"],
        expires_at=item["expires_at"],
        password_required=bool(item.get("password_hash")),
        downloads_remaining=downloads_remaining(item),
        sender=item.get("sender_email"),
        message=item.get("message"),
        verification_required=bool(item.get("recipients")),
    )


def public_manifest(token: str, *, store: Store | None = None) -> dict[str, Any]:
    """The link's signed manifest (``custody.manifest.view``), behind exactly the partner page's
    checks (404 unknown, 410, 429); counts nothing. 404 for a link made before manifests."""
    item = (store or Store()).get(link_key(token))
    if item is None:
        raise NotFound(UNKNOWN_LINK)
    refuse_unusable(item, clock.epoch(clock.now()))
    signed = manifest.view(item)
    if signed is None:
        raise NotFound("this link has no signed manifest")
    return signed


def _bundle_info(item: dict[str, Any]) -> PublicLink:
    from docuserve.sharing import bundles

    entries = bundles.entries_of(item)
    files: list[dict[str, Any]] = [
        {
            "document_id": e.document_id,
            "name": e.name,
            "size": e.size,
            "content_type": e.content_type,
            "sha256": e.sha256,
            "available": e.available,
        }
        for e in entries
    ]
    total = sum(e.size for e in entries if e.available)
    return PublicLink(
        name=item["document_name"],
        size=total,
        content_type="application/zip",
        expires_at=item["expires_at"],
        password_required=bool(item.get("password_hash")),
        downloads_remaining=downloads_remaining(item),
        sender=item.get("sender_email"),
        message=item.get("message"),
        verification_required=bool(item.get("recipients")),
        kind="bundle",
        files=files,
        archive_available=total <= bundles.ARCHIVE_MAX_BYTES,
    )


@dataclass(frozen=True)
class Target:
    """What a bundle's redemption serves: one file (``document_id``) or the archive."""

    document_id: str | None = None
    archive: bool = False


def redeem(
    token: str,
    password: str | None,
    visitor: Visitor,
    *,
    grant: str | None = None,
    target: Target | None = None,
    store: Store | None = None,
) -> Any:
    """Count one download atomically, record its audit event, and mint a presigned GET (≤ 60 s).

    A recipient-restricted link needs ``grant`` (``sharing.recipients``): the grant's address must
    still be a recipient at the moment of the counting write. A bundle's ``target`` names one file
    or the archive; an archive not built yet answers ``bundles.Preparing`` (202, nothing counted).
    """
    key = link_key(token)
    store = store or Store()
    moment = clock.now()
    now = clock.epoch(moment)
    verified_hash: str | None = None
    verified_email: str | None = None
    if grant is not None:
        from docuserve.sharing.recipients import check_grant  # the grant's module imports this one

        try:
            verified_email = check_grant(store, token, grant, now)
        except DomainError as refused:
            audit_refusal(store, key, visitor, moment, refused)
            raise
    if password is not None:
        item = store.get(key)
        if item is None:
            raise NotFound(UNKNOWN_LINK)
        try:
            refuse_unusable(item, now)  # no password work for a link that cannot be used anyway
        except DomainError as refused:
            audit_refusal(store, key, visitor, moment, refused)
            raise
        verified_hash = item.get("password_hash")
        if verified_hash is not None and not verify_password(password, verified_hash):
            _count_failure(store, key, visitor, moment)
    if target is not None:
        return _redeem_bundle(store, key, visitor, moment, verified_hash, verified_email, target)
    link = _consume(store, key, visitor, moment, verified_hash, verified_email)
    count(BusinessMetric.PARTNER_DOWNLOADS)
    return _grant(link, moment)


def _redeem_bundle(
    store: Store,
    key: dict[str, str],
    visitor: Visitor,
    moment: datetime,
    verified_hash: str | None,
    verified_email: str | None,
    target: Target,
) -> Any:
    from docuserve.sharing import bundles

    try:
        link = _consume(store, key, visitor, moment, verified_hash, verified_email, target=target)
    except _NotReady as waiting:
        try:
            return bundles.prepare_archive(
                store, waiting.item, moment, partner_event("share.archive_requested", visitor, clock.iso(moment))
            )
        except ArchiveTooLarge as refused:  # audited like every other refusal of a usable link
            audit_refusal(store, key, visitor, moment, refused)
            raise
    count(BusinessMetric.PARTNER_DOWNLOADS)
    ttl = get_settings().limits.download_url_ttl_seconds
    if target.archive:
        archive = link["bundle_zip"]
        name = f"{link.get('label') or link['document_name']}.zip".replace("/", "-")
        url = _presign(archive["object_key"], name, "application/zip", archive.get("s3_version_id"), ttl)
    else:
        entry = link["entries"][target.document_id]
        url = _presign(
            entry["object_key"], entry["document_name"], entry["content_type"], entry.get("s3_version_id"), ttl
        )
    return Grant(
        url=url, expires_at=clock.iso(moment + timedelta(seconds=ttl)), downloads_remaining=downloads_remaining(link)
    )


def _presign(key: str, filename: str, content_type: str, s3_version_id: str | None, ttl: int) -> str:
    from docuserve.adapters.objects import presign_get

    return presign_get(key, filename=filename, content_type=content_type, s3_version_id=s3_version_id, ttl_seconds=ttl)


class _NotReady(Exception):
    """A bundle's archive is not ready, and nothing else refuses the download."""

    def __init__(self, item: dict[str, Any]) -> None:
        super().__init__("archive not ready")
        self.item = item


def _consume(
    store: Store,
    key: dict[str, str],
    visitor: Visitor,
    moment: datetime,
    verified_hash: str | None,
    verified_email: str | None = None,
    *,
    target: Target | None = None,
) -> dict[str, Any]:
    now = clock.epoch(moment)
    details: dict[str, Any] | None = {"recipient": verified_email} if verified_email else None
    redeemable = _REDEEMABLE
    names: dict[str, str] | None = None
    values: dict[str, Any] = {
        ":now": now,
        ":available": "available",
        ":one": 1,
        ":event": partner_event("share.downloaded", visitor, clock.iso(moment), details),
        ":at": clock.iso(moment),
    }
    # An edit of the password between our read and this write makes the verified one stale.
    guard = "attribute_not_exists(password_hash)" if verified_hash is None else "password_hash = :verified"
    if verified_hash is not None:
        values[":verified"] = verified_hash
    # The recipients as they are now, not as they were when the grant was issued.
    if verified_email is None:
        guard += " AND attribute_not_exists(recipients)"
    else:
        guard += " AND (attribute_not_exists(recipients) OR contains(recipients, :email))"
        values[":email"] = verified_email
    if target is not None:  # a bundle: one file, or its archive (``sharing.bundles``)
        from docuserve.sharing import bundles

        names = {"#kind": "kind"}
        values[":bundle"] = "bundle"
        if target.archive:
            redeemable = f"{bundles.BUNDLE_REDEEMABLE} AND {bundles.ARCHIVE_READY}"
            names["#st"] = "status"
            values[":ready"] = "ready"
            values.pop(":available")
            details = {**(details or {}), "archive": True}
        else:
            redeemable = f"{bundles.BUNDLE_REDEEMABLE} AND {bundles.ENTRY_SERVES}"
            names["#d"] = str(target.document_id)
            details = {**(details or {}), "document_id": target.document_id}
        values[":event"] = partner_event("share.downloaded", visitor, clock.iso(moment), details)
    try:
        link = store.update(
            key,
            "SET download_count = download_count + :one, last_event = :event, last_downloaded_at = :at",
            condition=f"{redeemable} AND {guard}",
            names=names,
            expression_values=values,
        )
    except ConditionFailed as failed:
        try:
            _explain(failed.item, now, verified_hash, verified_email, target)
        except (NotFound, PasswordIncorrect, Conflict, InvalidInput, _NotReady):
            raise  # unknown link; a wrong password is audited where it is counted; a retryable race
        except DomainError as refused:
            audit_refusal(store, key, visitor, moment, refused)
            raise
    assert link is not None  # ALL_NEW of an update whose condition required the item
    return link


def _explain(
    old: dict[str, Any] | None,
    now: int,
    verified_hash: str | None,
    verified_email: str | None,
    target: Target | None = None,
) -> Any:
    """Turn a failed redemption condition into the partner's answer (always raises)."""
    if old is None:
        raise NotFound(UNKNOWN_LINK)
    refuse_unusable(old, now)
    if is_bundle(old) and target is None:
        raise InvalidInput(
            "document_id", "this link holds several files: name one (document_id) or ask for the archive"
        )
    if target is not None and not is_bundle(old):
        raise InvalidInput(
            "archive" if target.archive else "document_id",
            "this link holds one document: download it without naming one",
        )
    if target is not None and target.document_id is not None:
        from docuserve.sharing.bundles import explain_entry

        explain_entry(old, target.document_id)
    recipients = old.get("recipients") or []
    if recipients and verified_email is None:
        raise VerificationRequired("this link is restricted to its recipients: verify your e-mail address first")
    if recipients and verified_email not in recipients:
        raise GrantInvalid("this e-mail address is no longer a recipient of the link")
    current = old.get("password_hash")
    if current is not None and verified_hash is None:
        raise PasswordRequired("this link needs its password")
    if current != verified_hash:
        raise PasswordIncorrect("the password is not correct")
    if target is not None and target.archive:
        raise _NotReady(old)
    raise Conflict("the link changed during the request; try again")


def _count_failure(store: Store, key: dict[str, str], visitor: Visitor, moment: datetime) -> None:
    """Record one wrong password; the threshold-th locks the link. Always raises (403 or 429)."""
    limits = get_settings().limits
    now = clock.epoch(moment)
    last = limits.lockout_threshold - 1
    lock_seconds = limits.lockout_minutes * 60
    base = {":now": now, ":zero": 0, ":last": last}
    for _ in range(5):  # each pass loses only to another writer's change; a handful always settles
        try:
            store.update(
                key,
                "SET failed_attempts = if_not_exists(failed_attempts, :zero) + :one, last_event = :event",
                condition=f"attribute_exists(pk) AND {_UNLOCKED}"
                " AND (attribute_not_exists(failed_attempts) OR failed_attempts < :last)",
                expression_values={
                    **base,
                    ":one": 1,
                    ":event": partner_event("share.password_failed", visitor, clock.iso(moment)),
                },
                return_values="NONE",
            )
            raise PasswordIncorrect("the password is not correct")
        except ConditionFailed as failed:
            old = failed.item
        if old is None:
            raise NotFound(UNKNOWN_LINK)
        if wait := locked_for(old, now):
            locked = LinkLocked(f"too many wrong passwords; try again in {wait} seconds", retry_after=wait)
            audit_refusal(store, key, visitor, moment, locked)
            raise locked
        if int(old.get("failed_attempts", 0)) < last:
            continue  # the count was reset meanwhile (new password): count again
        until = moment + timedelta(seconds=lock_seconds)
        try:
            store.update(
                key,
                "SET failed_attempts = :zero, locked_until_epoch = :until, locked_until = :until_iso,"
                " lockouts = if_not_exists(lockouts, :zero) + :one, last_event = :event",
                condition=f"attribute_exists(pk) AND {_UNLOCKED} AND failed_attempts = :last",
                expression_values={
                    **base,
                    ":one": 1,
                    ":until": clock.epoch(until),
                    ":until_iso": clock.iso(until),
                    ":event": partner_event(
                        "share.locked",
                        visitor,
                        clock.iso(moment),
                        {"failed_attempts": limits.lockout_threshold, "locked_until": clock.iso(until)},
                    ),
                },
                return_values="NONE",
            )
        except ConditionFailed:
            continue  # someone else locked it or the count moved: look again
        count(BusinessMetric.LINK_LOCKOUTS)
        raise LinkLocked(f"too many wrong passwords; try again in {lock_seconds} seconds", retry_after=lock_seconds)
    raise PasswordIncorrect("the password is not correct")


def audit_refusal(store: Store, key: dict[str, str], visitor: Visitor, moment: datetime, refused: DomainError) -> None:
    """Record a refused attempt on an existing link (the stream appends it, as for downloads)."""
    event = partner_event("share.download_refused", visitor, clock.iso(moment), {"reason": refused.code})
    # A link deleted meanwhile leaves nothing to audit against.
    with suppress(ConditionFailed):
        store.update(
            key,
            "SET last_event = :event",
            condition="attribute_exists(pk)",
            expression_values={":event": event},
            return_values="NONE",
        )


def _grant(link: dict[str, Any], moment: datetime) -> Grant:
    # Imported here: presigning needs the S3 client, which only this route uses.
    from docuserve.adapters.objects import presign_get

    ttl = get_settings().limits.download_url_ttl_seconds
    url = presign_get(
        link["object_key"],
        filename=link["document_name"],
        content_type=link["content_type"],
        s3_version_id=link.get("s3_version_id"),
        ttl_seconds=ttl,
    )
    return Grant(
        url=url, expires_at=clock.iso(moment + timedelta(seconds=ttl)), downloads_remaining=downloads_remaining(link)
    )
