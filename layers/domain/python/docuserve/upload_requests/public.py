"""The partner's side of an upload request: what the page shows, and uploads into the request.

Every call starts with one BatchGetItem of the request item (by its token's hash) and the
deployment's settings item, so the admins' switch stops every request on its next call.

Budgets are reserved atomically: the transaction that starts a partner's upload (document,
version, upload session, the workspace's quota reservation and document count, and the budget
update of the request) updates the request with ``ADD files_used :1, bytes_used :n`` conditioned
on ``status = open AND expires_epoch > :now AND files_used <= max_files - 1 AND bytes_used <=
max_bytes - n`` (a condition cannot add: the right-hand sides come from the request read, and
the condition also requires ``max_files``/``max_bytes`` to be the ones read, so an edit in between
fails the write instead of being passed). Concurrent uploads each see the others' reservations in
their condition, so the budgets are never exceeded. The session records what it reserved
(``reservations``): a failure, abort or expiry gives it back in the same write that ends the
upload (``uploads.release_actions``), with no code of this feature on those paths.

A partner's file is a document like any other: the same document, version and session items as
``documents.create``, so ``processing`` verifies and malware-scans it exactly like a member's and
nothing is served before its scan is clean. Its version and session are ``created_by`` the member
who asked (processing re-checks that they still hold editor+ when the bytes land), and the
document carries ``request_id`` and ``uploaded_by_partner`` (the name or e-mail the partner typed;
unverified). The partner can never list, read or download anything: the routes answer about the
request and about the partner's own uploads (``request_token_hash`` on the session must be this
request's), nothing else.

Passwords and lockout are the share links' (scrypt; ``limits.lockout_threshold`` wrong passwords
lock the request for ``limits.lockout_minutes``; a success does not reset the count). Refusals and
password failures ride on the request item as ``last_event`` (the audit stream appends them to the
request's activity); a started upload's event rides in its own transaction the same way.
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from docuserve import clock, ids, keys, quota, uploads, validation
from docuserve.access import holds_role
from docuserve.adapters import objects
from docuserve.adapters.store import ConditionFailed, Store, TransactionCancelled
from docuserve.audit import Actor
from docuserve.documents.items import document_item
from docuserve.errors import Conflict, DomainError, InvalidInput, NotFound, PayloadTooLarge
from docuserve.identity import Caller
from docuserve.records import Document
from docuserve.roles import Role
from docuserve.settings import get_settings
from docuserve.sharing import recipients
from docuserve.sharing.errors import (
    GrantInvalid,
    LinkLocked,
    PasswordIncorrect,
    PasswordRequired,
    VerificationRequired,
)
from docuserve.sharing.passwords import verify_password
from docuserve.sharing.redeem import Visitor, partner_event
from docuserve.sharing.state import locked_for
from docuserve.sharing.tokens import is_well_formed, token_hash
from docuserve.upload_requests import switch
from docuserve.upload_requests.errors import (
    RequestBytesExceeded,
    RequestClosed,
    RequesterUnavailable,
    RequestExpired,
    RequestFull,
    UploadRequestsDisabled,
)
from docuserve.upload_requests.items import CLOSED, OPEN, remaining, type_allowed

UNKNOWN = "no such upload request"  # never name the token
UNKNOWN_UPLOAD = "upload not found"
_UNLOCKED = "(attribute_not_exists(locked_until_epoch) OR locked_until_epoch <= :now)"
PARTNER_NAME_MAX = 200


@dataclass(frozen=True)
class PublicRequest:
    message: str | None
    expires_at: str
    files_remaining: int
    bytes_remaining: int
    allowed_types: tuple[str, ...]
    max_file_size: int | None
    password_required: bool
    recipients_required: bool
    sender: str | None


@dataclass(frozen=True)
class PartnerFile:
    """What the partner declares for one file."""

    name: str
    content_type: str
    size: int
    sha256: str


@dataclass(frozen=True)
class PartnerUpload:
    """A partner's upload as the partner may see it: no document, version or workspace ids."""

    upload_id: str
    name: str
    status: str  # pending | completing | scanning | completed | failed | aborted
    method: str
    size: int
    created_at: str
    failure_reason: str | None = None
    part_size: int | None = None
    part_count: int | None = None
    parts: list[uploads.HeldPart] | None = None


def _request_key(token: str) -> dict[str, str]:
    if not is_well_formed(token):
        raise NotFound(UNKNOWN)
    return keys.upload_request(token_hash(token))


def _request_mail(code: str, item: dict[str, Any]) -> Any:
    from docuserve import messages

    return messages.recipient_code(
        code=code, document_name=None, sender_email=item.get("requester_email"), upload_request=True
    )


@dataclass(frozen=True)
class Started:
    instructions: uploads.Instructions
    files_remaining: int
    bytes_remaining: int


def _refuse_unusable(item: dict[str, Any], now_epoch: int) -> None:
    if item.get("status") == CLOSED:
        raise RequestClosed("this upload request was closed")
    if int(item["expires_epoch"]) <= now_epoch:
        raise RequestExpired("this upload request has expired")
    if wait := locked_for(item, now_epoch):
        raise LinkLocked(f"too many wrong passwords; try again in {wait} seconds", retry_after=wait)


def _load(token: str, store: Store, *extra: dict[str, str]) -> tuple[dict[str, Any], list[dict[str, Any] | None]]:
    """The request item (404 unknown; 403 when the switch is off), and ``extra`` items, one round trip."""
    if not is_well_formed(token):
        raise NotFound(UNKNOWN)
    found = store.get_many([keys.upload_request(token_hash(token)), keys.deployment_settings(), *extra])
    if not switch.of_item(found[1]).upload_requests:
        raise UploadRequestsDisabled("upload requests are turned off for this service")
    item = found[0]
    if item is None:
        raise NotFound(UNKNOWN)
    return item, found[2:]


# Recipient verification: the share links' codes and grants (``sharing.recipients``), aimed at
# the request item (in the same ``LINK#`` partition), its refusals and its activity.
REQUESTS = recipients.Target(
    key=_request_key,
    unknown=UNKNOWN,
    refuse_unusable=_refuse_unusable,
    action="request",
    copies=("request_id", "workspace_id", "label"),
    mail=_request_mail,
)


def request_code(token: str, email: str, visitor: Visitor, *, store: Store | None = None) -> None:
    """Mail a code to ``email`` if it is a recipient of the request (the same answer for anyone)."""
    store = store or Store()
    _load(token, store)  # the switch first: off means off for codes too
    recipients.request_code(token, email, visitor, store=store, target=REQUESTS)


def confirm(token: str, email: str, code: str, visitor: Visitor, *, store: Store | None = None) -> recipients.Verified:
    store = store or Store()
    _load(token, store)
    return recipients.confirm(token, email, code, visitor, store=store, target=REQUESTS)


def public_info(token: str, *, store: Store | None = None) -> PublicRequest:
    """What the partner page shows; 404 unknown, 410 expired or closed, 429 locked, 403 switched off."""
    item, _ = _load(token, store or Store())
    _refuse_unusable(item, clock.epoch(clock.now()))
    files, size = remaining(item)
    return PublicRequest(
        message=item.get("message"),
        expires_at=item["expires_at"],
        files_remaining=files,
        bytes_remaining=size,
        allowed_types=tuple(item.get("allowed_types") or ()),
        max_file_size=int(item["max_file_size"]) if item.get("max_file_size") is not None else None,
        password_required=bool(item.get("password_hash")),
        recipients_required=bool(item.get("recipients")),
        sender=item.get("requester_email"),
    )


def _audit_refusal(store: Store, item: dict[str, Any], visitor: Visitor, refused: DomainError, name: str) -> None:
    event = partner_event(
        "request.upload_refused", visitor, clock.iso(clock.now()), {"reason": refused.code, "name": name[:255]}
    )
    with suppress(ConditionFailed):
        store.update(
            {"pk": item["pk"], "sk": item["sk"]},
            "SET last_event = :event",
            condition="attribute_exists(pk)",
            expression_values={":event": event},
            return_values="NONE",
        )


def _count_failure(store: Store, item: dict[str, Any], visitor: Visitor, moment: datetime) -> None:
    """One wrong password; the threshold-th locks the request (as share links). Always raises."""
    limits = get_settings().limits
    key = {"pk": item["pk"], "sk": item["sk"]}
    now, last, lock_seconds = clock.epoch(moment), limits.lockout_threshold - 1, limits.lockout_minutes * 60
    base = {":now": now, ":zero": 0, ":last": last}
    for _ in range(5):
        try:
            store.update(
                key,
                "SET failed_attempts = if_not_exists(failed_attempts, :zero) + :one, last_event = :event",
                condition=f"attribute_exists(pk) AND {_UNLOCKED}"
                " AND (attribute_not_exists(failed_attempts) OR failed_attempts < :last)",
                expression_values=base
                | {":one": 1, ":event": partner_event("request.password_failed", visitor, clock.iso(moment))},
                return_values="NONE",
            )
            raise PasswordIncorrect("the password is not correct")
        except ConditionFailed as failed:
            old = failed.item
        if old is None:
            raise NotFound(UNKNOWN)
        if wait := locked_for(old, now):
            raise LinkLocked(f"too many wrong passwords; try again in {wait} seconds", retry_after=wait)
        if int(old.get("failed_attempts", 0)) < last:
            continue
        until = moment + timedelta(seconds=lock_seconds)
        event = partner_event("request.locked", visitor, clock.iso(moment), {"locked_until": clock.iso(until)})
        try:
            store.update(
                key,
                "SET failed_attempts = :zero, locked_until_epoch = :until, locked_until = :until_iso,"
                " last_event = :event",
                condition=f"attribute_exists(pk) AND {_UNLOCKED} AND failed_attempts = :last",
                expression_values=base
                | {":until": clock.epoch(until), ":until_iso": clock.iso(until), ":event": event},
                return_values="NONE",
            )
        except ConditionFailed:
            continue
        raise LinkLocked(f"too many wrong passwords; try again in {lock_seconds} seconds", retry_after=lock_seconds)
    raise PasswordIncorrect("the password is not correct")


def _check_password(store: Store, item: dict[str, Any], password: str | None, visitor: Visitor) -> None:
    stored = item.get("password_hash")
    if not stored:
        return
    if password is None:
        raise PasswordRequired("this upload request needs its password")
    if not verify_password(password, str(stored)):
        _count_failure(store, item, visitor, clock.now())


def _check_recipient(store: Store, token: str, item: dict[str, Any], grant: str | None, now: int) -> str | None:
    """A restricted request needs a grant of a current recipient; the verified address (else None).

    The budget update's condition then requires the address to still be a recipient, so removing
    it ends its uploads at the next request.
    """
    listed = item.get("recipients") or []
    if not listed:
        return None
    if grant is None:
        raise VerificationRequired("this request is for its recipients: verify your e-mail address first")
    email = recipients.check_grant(store, token, grant, now)
    if email not in listed:
        raise GrantInvalid("this e-mail address is no longer a recipient of the request")
    return email


def _check_file(item: dict[str, Any], file: PartnerFile) -> None:
    """The per-file rules: name, type, size (422/413 naming the field)."""
    try:
        validation.name(file.name)
    except ValueError as bad:
        raise InvalidInput("name", str(bad)) from None
    essence = file.content_type.split(";", 1)[0].strip().lower()
    allowed = list(item.get("allowed_types") or [])
    if not type_allowed(essence, allowed):
        raise InvalidInput("content_type", "this request accepts only " + ", ".join(allowed))
    largest = item.get("max_file_size")
    if largest is not None and file.size > int(largest):
        raise PayloadTooLarge(
            f"this request accepts files of at most {int(largest)} bytes", fields={"size": "too large"}
        )
    uploads.check_size(file.size)
    files, size = remaining(item)
    if files < 1:
        raise RequestFull("this request accepts no more files")
    if file.size > size:
        raise RequestBytesExceeded(
            f"this request accepts {size} more bytes; the file has {file.size}", fields={"size": "too large"}
        )


def _partner(name: str | None, email: str | None) -> dict[str, str] | None:
    given = {k: v for k, v in (("name", name), ("email", email)) if v}
    return given or None


def _budget_update(
    item: dict[str, Any], size: int, event: dict[str, Any], now: int, recipient: str | None = None
) -> dict[str, Any]:
    update: dict[str, dict[str, Any]] = {
        "Update": {
            "Key": {"pk": item["pk"], "sk": item["sk"]},
            "UpdateExpression": "ADD files_used :one, bytes_used :n SET last_event = :event",
            "ConditionExpression": "#st = :open AND expires_epoch > :now AND max_files = :mf AND max_bytes = :mb"
            f" AND files_used <= :files_room AND bytes_used <= :bytes_room AND {_UNLOCKED}",
            "ExpressionAttributeNames": {"#st": "status"},
            "ExpressionAttributeValues": {
                ":one": 1,
                ":n": size,
                ":event": event,
                ":open": OPEN,
                ":now": now,
                ":mf": item["max_files"],
                ":mb": item["max_bytes"],
                ":files_room": int(item["max_files"]) - 1,
                ":bytes_room": int(item["max_bytes"]) - size,
            },
        }
    }
    if recipient is not None:  # a removed address loses its uploads at once
        update["Update"]["ConditionExpression"] += " AND contains(recipients, :email)"
        update["Update"]["ExpressionAttributeValues"][":email"] = recipient
    return update


REQUEST_ACTION = 4  # the index of the request's budget update in the start transaction
ATTEMPTS = 3


def start_upload(
    token: str,
    file: PartnerFile,
    visitor: Visitor,
    *,
    password: str | None = None,
    grant: str | None = None,
    uploader_name: str | None = None,
    uploader_email: str | None = None,
    store: Store | None = None,
) -> Started:
    """Reserve a file and its bytes on the request and answer the usual upload instructions."""
    store = store or Store()
    for attempt in range(1, ATTEMPTS + 1):
        item, _ = _load(token, store)
        now = clock.now()
        _refuse_unusable(item, clock.epoch(now))
        verified = _check_recipient(store, token, item, grant, clock.epoch(now))
        if verified is not None:
            uploader_email = verified  # the verified address, not what was typed
        _check_password(store, item, password, visitor)
        try:
            _check_file(item, file)
        except DomainError as refused:
            _audit_refusal(store, item, visitor, refused, file.name)
            raise
        try:
            return _start(store, item, file, visitor, _partner(uploader_name, uploader_email), now, verified)
        except _Retry:
            if attempt == ATTEMPTS:
                break
    raise RequestFull("the request is busy; try again")


class _Retry(Exception):
    """The request or workspace changed between the read and the write in a way that may still fit."""


def _start(
    store: Store,
    item: dict[str, Any],
    file: PartnerFile,
    visitor: Visitor,
    partner: dict[str, str] | None,
    now: Any,
    recipient: str | None = None,
) -> Started:
    workspace_id, requester = str(item["workspace_id"]), str(item["created_by"])
    at = clock.iso(now)
    doc = Document(
        id=ids.new_child_id(workspace_id),
        workspace_id=workspace_id,
        name=file.name,
        folder=str(item["folder"]),
        content_type=file.content_type,
        size=file.size,
        sha256=file.sha256,
        status="pending",
        created_at=at,
        created_by=requester,
        updated_at=at,
        updated_by=requester,
        version_count=1,
        link_refs=True,
        request_id=str(item["request_id"]),
        uploaded_by_partner=partner,
    )
    reserve = quota.workspace_update(workspace_id, add_bytes=file.size, add_documents=1, store=store)
    request_entry = {"pk": item["pk"], "sk": item["sk"], "add": {"files_used": 1, "bytes_used": file.size}}
    reservations = [quota.reservation_entry(workspace_id, file.size), request_entry]
    # The version and session are the requester's: processing re-checks their role when the bytes land.
    as_requester = Caller(user_id=requester, email="", groups=())
    planned = uploads.plan(
        as_requester, document_id=doc.id, number=1, declared=_declared(file), reservations=reservations
    )
    planned.upload_item |= {
        "request_id": item["request_id"],
        "request_token_hash": item["pk"],
        "partner": True,
        "name": file.name,  # the "files arrived" mail names it (docuserve.upload_requests.arrivals)
    }
    if partner:
        planned.upload_item["partner_contact"] = partner
    details: dict[str, Any] = {"name": file.name, "size": file.size, "document_id": doc.id,
                               "upload_id": planned.upload_item["id"]}  # fmt: skip
    if partner:
        details["uploaded_by"] = partner
    event = partner_event("request.upload_started", visitor, at, details)
    actions: list[dict[str, Any]] = [
        {"Put": {"Item": document_item(doc, 1), "ConditionExpression": "attribute_not_exists(pk)"}},
        reserve,
        {"Put": {"Item": planned.version_item}},
        {"Put": {"Item": planned.upload_item}},
        _budget_update(item, file.size, event, clock.epoch(now), recipient),
        holds_role(workspace_id, requester, Role.EDITOR),
    ]
    try:
        store.transact(actions)
    except TransactionCancelled as cancelled:
        _abandon(planned)
        reasons = cancelled.reasons
        if reasons[-1] == "ConditionalCheckFailed":
            raise RequesterUnavailable("this upload request is no longer available") from None
        if reasons[1] == "ConditionalCheckFailed" and not quota.explain(workspace_id, file.size, store):
            raise RequesterUnavailable("this upload request is no longer available") from None
        raise _Retry from None  # the request changed (budget taken, closed, edited): read and judge again
    except BaseException:
        _abandon(planned)
        raise
    files, size = remaining(
        item
        | {"files_used": int(item.get("files_used", 0)) + 1, "bytes_used": int(item.get("bytes_used", 0)) + file.size}
    )
    return Started(instructions=planned.instructions, files_remaining=files, bytes_remaining=size)


def _abandon(planned: uploads.Planned) -> None:
    if planned.upload_item.get("s3_upload_id"):
        objects.abort_multipart(planned.upload_item["object_key"], s3_upload_id=planned.upload_item["s3_upload_id"])


def _declared(file: PartnerFile) -> uploads.Declared:
    return uploads.Declared(size=file.size, sha256=file.sha256, content_type=file.content_type)


# --- the partner's own uploads ---


def _own_upload(token: str, upload_id: str, store: Store, *, usable: bool) -> tuple[dict[str, Any], dict[str, Any]]:
    """The request and one of its uploads (404 for any other upload, also another request's)."""
    if ids.workspace_of(upload_id) is None:
        raise NotFound(UNKNOWN_UPLOAD)
    item, (upload,) = _load(token, store, keys.upload(upload_id))
    if upload is None or upload.get("request_token_hash") != item["pk"] or upload.get("type") != "upload":
        raise NotFound(UNKNOWN_UPLOAD)
    if usable:
        _refuse_unusable(item, clock.epoch(clock.now()))
    return item, upload


def _view(upload: dict[str, Any], name: str, parts: list[uploads.HeldPart] | None = None) -> PartnerUpload:
    multipart = upload["method"] == "MULTIPART"
    return PartnerUpload(
        upload_id=upload["id"],
        name=name,
        status=upload["status"],
        method=upload["method"],
        size=int(upload["size"]),
        created_at=upload["created_at"],
        failure_reason=upload.get("failure_reason"),
        part_size=int(upload["part_size"]) if multipart else None,
        part_count=int(upload["part_count"]) if multipart else None,
        parts=parts,
    )


def upload_status(token: str, upload_id: str, *, store: Store | None = None) -> PartnerUpload:
    """One of the partner's uploads: its status only (a pending multipart one: the parts S3 holds)."""
    store = store or Store()
    _, upload = _own_upload(token, upload_id, store, usable=False)
    if upload["status"] == "pending" and clock.now() >= uploads.resumable_until(upload):
        uploads.expire(upload, store=store)
        upload = store.get(keys.upload(upload_id)) or upload
    name = str((store.get(keys.document(upload["document_id"])) or {}).get("name", ""))
    if upload["status"] != "pending" or upload["method"] != "MULTIPART":
        return _view(upload, name)
    held = objects.list_parts(upload["object_key"], s3_upload_id=upload["s3_upload_id"]) or []
    return _view(upload, name, [uploads.HeldPart(p.number, p.etag, p.sha256 or None) for p in held])


def grant_parts(
    token: str, upload_id: str, parts: list[tuple[int, str]], *, store: Store | None = None
) -> uploads.PartGrants:
    _, upload = _own_upload(token, upload_id, store or Store(), usable=True)
    return uploads.grant_parts_of(upload, parts)


def complete(
    token: str, upload_id: str, parts: list[uploads.Completed], *, store: Store | None = None
) -> PartnerUpload:
    store = store or Store()
    _, upload = _own_upload(token, upload_id, store, usable=False)
    status = uploads.complete_of(upload, parts)
    return _view(upload | {"status": status.status}, "")


def cancel(token: str, upload_id: str, visitor: Visitor, *, store: Store | None = None) -> None:
    """The partner cancels one of their pending uploads: its reservation goes back to the request."""
    store = store or Store()
    _, upload = _own_upload(token, upload_id, store, usable=False)
    if upload["status"] != "pending":
        raise Conflict(f"this upload is {upload['status']}")
    actor = Actor(type="partner", id=str(upload.get("request_id")), ip=visitor.ip, user_agent=visitor.user_agent)
    uploads.cancel(upload, actor, store=store)
