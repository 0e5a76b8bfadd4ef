"""Recipient-restricted links: a mailed code proves the partner reads a recipient's mailbox.

A link with ``recipients`` (≤ 50 addresses, on the link item) is downloaded only with a grant:

1. ``request_code`` (``POST .../verify {"email"}``) always answers the same (202), and does the
   same work for any address: one GetItem of the link and one conditional UpdateItem of the
   address's verification item (``keys.link_verification``), which stores a fresh code's hash.
   Only a recipient's code is mailed (the one difference: the SES call). So the answer never says
   whether an address is a recipient, and the flood limit applies to every address alike.
2. ``confirm`` (``POST .../verify/confirm {"email","code"}``) spends one of the code's 5 tries
   (a conditional increment: concurrent guesses never get more than 5 in total, the right one
   included), then compares; the right code of a *current* recipient is consumed and a grant is
   issued. Each refused try carries its audit event in the write that counts it.
3. ``check_grant`` (the download, ``sharing.redeem``) finds the grant's item, and the download's
   own conditional write requires ``contains(recipients, :email)``: removing an address ends its
   grant at the next request, with no cache in between.

Secrets and their storage:

- A code is 6 digits (``secrets.randbelow``), a code and not a link because corporate mail
  scanners open links. Its stored form is HMAC-SHA256 keyed with the link's *token* over
  (address, code). The token is never stored (only its SHA-256), so a copy of the table cannot
  test the million codes offline, and a code mailed for one link is worthless on any other (a
  different key and a different partition).
- The item's sort key is ``VERIFY#`` + a 128-bit HMAC of the address under the same token: the
  table names no address that merely asked for a code.
- A grant is ``{address id}.{256 random bits}``; only the SHA-256 of the random part is stored,
  with its expiry and the verified address. A newer grant for the same address replaces it.

Limits: a code lives 10 minutes and allows 5 tries; at most 3 codes per address and link per
15-minute window and 10 per day (then 429 ``code_rate_limited`` with Retry-After); a grant
lives 15 minutes.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from docuserve import clock, keys
from docuserve.adapters.store import ConditionFailed, Store
from docuserve.errors import DomainError, NotFound
from docuserve.sharing.errors import (
    CodeAttemptsExhausted,
    CodeExpired,
    CodeIncorrect,
    CodeRateLimited,
    GrantExpired,
    GrantInvalid,
    VerificationNotRequired,
)
from docuserve.sharing.redeem import UNKNOWN_LINK, Visitor, link_key, partner_event
from docuserve.sharing.state import refuse_unusable
from docuserve.sharing.tokens import token_hash

MAX_RECIPIENTS = 50
CODE_TTL = timedelta(minutes=10)
CODE_TRIES = 5
CODES_PER_WINDOW = 3
CODE_WINDOW = timedelta(minutes=15)
CODES_PER_DAY = 10  # bounds a patient guesser: 50 tries a day, not 480 (see docs/share-links.md)
CODE_DAY = timedelta(days=1)
GRANT_TTL = timedelta(minutes=15)
_KEEP = timedelta(days=2)  # DynamoDB TTL tidies a verification item after its day window has passed
_CLAIM_ATTEMPTS = 5
# Copied from the link onto the verification item, so the audit stream names the link's event.
_AUDIT_COPIES = ("share_id", "workspace_id", "document_id", "document_name", "label")
_GRANT_RE = re.compile(r"^([0-9a-f]{32})\.([A-Za-z0-9_-]{43})$")
_CODE_RE = re.compile(r"^[0-9]{6}$")


@dataclass(frozen=True)
class Verified:
    grant: str
    expires_at: str


def _mac(token: str, purpose: str, *parts: str) -> str:
    message = "\x00".join((purpose, *parts)).encode("utf-8")
    return hmac.new(token.encode("ascii"), message, hashlib.sha256).hexdigest()


def address_id(token: str, email: str) -> str:
    """The verification item's name for ``email`` on this link (128 bits of an HMAC under the token)."""
    return _mac(token, "address", email)[:32]


def code_hash(token: str, email: str, code: str) -> str:
    """The stored form of a code: HMAC-SHA256 under the (never stored) link token."""
    return _mac(token, "code", email, code)


def _grant_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("ascii")).hexdigest()


@dataclass(frozen=True)
class Target:
    """What a code opens: a share link, or an upload request (``docuserve.upload_requests``).

    Both live in their token hash's ``LINK#`` partition, so the verification items, the codes'
    HMAC under the token and the grants are the same machinery; only the item, its refusals, the
    events' names, what the events copy and the mail differ.
    """

    key: Callable[[str], dict[str, str]]  # the item of a token (404 for a malformed one)
    unknown: str  # the 404's message (never the token)
    refuse_unusable: Callable[[dict[str, Any], int], None]
    action: str  # the events' prefix: "share" -> share.code_requested, ...
    copies: tuple[str, ...]  # copied onto the verification item, so the audit stream names the event
    mail: Callable[[str, dict[str, Any]], Any]  # (code, item) -> the rendered ``messages.Mail``


def _link_mail(code: str, link: dict[str, Any]) -> Any:
    from docuserve import messages

    return messages.recipient_code(
        code=code, document_name=link.get("document_name"), sender_email=link.get("sender_email")
    )


LINKS = Target(
    key=link_key,
    unknown=UNKNOWN_LINK,
    refuse_unusable=refuse_unusable,
    action="share",
    copies=_AUDIT_COPIES,
    mail=_link_mail,
)


def _restricted_link(store: Store, token: str, target: Target = LINKS) -> tuple[dict[str, str], dict[str, Any]]:
    key = target.key(token)
    item = store.get(key)
    if item is None:
        raise NotFound(target.unknown)
    return key, item


def _copies(link: dict[str, Any], names: tuple[str, ...] = _AUDIT_COPIES) -> dict[str, Any]:
    return {name: link[name] for name in names if link.get(name) is not None}


def _audit(store: Store, key: dict[str, str], event: dict[str, Any]) -> None:
    """Record a refused request on an existing item (the table's stream appends the event)."""
    with suppress(ConditionFailed):  # an item tidied away meanwhile leaves nothing to audit against
        store.update(
            key,
            "SET last_event = :event",
            condition="attribute_exists(pk)",
            expression_values={":event": event},
            return_values="NONE",
        )


def request_code(
    token: str, email: str, visitor: Visitor, *, store: Store | None = None, target: Target = LINKS
) -> None:
    """Store a fresh code's hash for ``email`` on this link and mail the code if it is a recipient.

    Returns normally for any address (the route answers 202); 404/410/429 as the link's state says;
    409 when the link has no recipients; 429 ``code_rate_limited`` past the flood limit.
    """
    store = store or Store()
    _, link = _restricted_link(store, token, target)
    moment = clock.now()
    target.refuse_unusable(link, clock.epoch(moment))
    recipients = link.get("recipients") or []
    if not recipients:
        raise VerificationNotRequired("this link is not restricted to recipients; no code is needed")
    recipient = email in recipients
    code = f"{secrets.randbelow(10**6):06d}"
    key = keys.link_verification(token_hash(token), address_id(token, email))
    details = {"email": email, "is_recipient": recipient}
    _claim_code(store, key, link, code_hash(token, email, code), moment, visitor, details, target)
    # Imported here: only this route renders and sends mail.
    from docuserve.adapters import aws, mail

    # Rendered and the SES client made for any address; only a recipient's is sent. A stranger's
    # request then waits about as long as a send takes, so the answer's timing says little more
    # than its body (see docs/share-links.md for what remains).
    rendered = target.mail(code, link)
    aws.sesv2()
    if recipient:
        began = time.monotonic()
        mail.send_quietly(email, rendered.subject, rendered.text, rendered.html, what="recipient_code")
        _send_time.observe(time.monotonic() - began)
    else:
        time.sleep(_send_time.sample())


class _SendTime:
    """A running estimate of how long one code mail takes to send, in this process."""

    def __init__(self, initial: float) -> None:
        self.estimate = initial

    def observe(self, seconds: float) -> None:
        self.estimate = 0.8 * self.estimate + 0.2 * min(seconds, _SEND_TIME_CAP)

    def sample(self) -> float:
        # Jittered like a real send, so a stranger's answers do not all take the same time.
        return self.estimate * (0.75 + secrets.randbelow(501) / 1000)


_SEND_TIME_CAP = 2.0  # a slow SES moment must not make strangers wait seconds
_send_time = _SendTime(initial=0.08)  # SES SendEmail within a region: tens of milliseconds


# The flood windows: (name, length, codes allowed). Each opens at its first code and is counted
# by conditional writes; a request over either limit is 429 until that window ends.
_WINDOWS = (("window", CODE_WINDOW, CODES_PER_WINDOW), ("day", CODE_DAY, CODES_PER_DAY))


def _claim_code(
    store: Store,
    key: dict[str, str],
    link: dict[str, Any],
    digest: str,
    moment: datetime,
    visitor: Visitor,
    details: dict[str, Any],
    target: Target = LINKS,
) -> None:
    """One conditional write: count the code in the address's windows and store its hash, or 429.

    The common case (both windows open and under their limits) is one increment conditioned on
    exactly that; otherwise the new counts are computed from the item the failed write returned
    and written on condition that nobody changed them meanwhile (retried a few times).
    """
    now = clock.epoch(moment)
    copies = _copies(link, target.copies)
    names = {"#ttl": "ttl", "#type": "type", **{f"#c{i}": name for i, name in enumerate(copies)}}
    values: dict[str, Any] = {
        ":code": digest,
        ":exp": clock.epoch(moment + CODE_TTL),
        ":zero": 0,
        ":ttl": clock.epoch(moment + _KEEP),
        ":type": "link_verification",
        ":event": partner_event(f"{target.action}.code_requested", visitor, clock.iso(moment), details),
        **{f":c{i}": value for i, value in enumerate(copies.values())},
    }
    common = (
        "code_hash = :code, code_expires_epoch = :exp, code_tries = :zero, last_event = :event,"
        " #ttl = :ttl, #type = :type" + "".join(f", #c{i} = :c{i}" for i in range(len(copies)))
    )
    cutoffs = {name: now - int(length.total_seconds()) for name, length, _ in _WINDOWS}
    fast = " AND ".join(
        f"{name}_start_epoch > :{name}_cutoff AND {name}_codes < :{name}_max" for name, _, _ in _WINDOWS
    )
    limits = {f":{name}_max": allowed for name, _, allowed in _WINDOWS}
    try:
        store.update(
            key,
            f"SET {', '.join(f'{name}_codes = {name}_codes + :one' for name, _, _ in _WINDOWS)}, {common}",
            condition=f"attribute_exists(pk) AND {fast}",
            names=names,
            expression_values={
                **values,
                **limits,
                **{f":{n}_cutoff": c for n, c in cutoffs.items()},
                ":one": 1,
            },
            return_values="NONE",
        )
        return
    except ConditionFailed as failed:
        old = failed.item
    for _ in range(_CLAIM_ATTEMPTS):
        sets: dict[str, Any] = {}
        same: list[str] = []
        for name, length, allowed in _WINDOWS:
            start, codes = f"{name}_start_epoch", f"{name}_codes"
            opened = int((old or {}).get(start, 0))
            counted = int((old or {}).get(codes, 0))
            if opened > cutoffs[name]:
                if counted >= allowed:
                    wait = max(1, opened + int(length.total_seconds()) - now)
                    refused = {**details, "reason": CodeRateLimited.code}
                    event = partner_event(f"{target.action}.code_refused", visitor, clock.iso(moment), refused)
                    _audit(store, key, event)
                    raise CodeRateLimited(
                        f"too many codes were asked for this address; try again in {wait} seconds", retry_after=wait
                    )
                sets[start], sets[codes] = opened, counted + 1
            else:
                sets[start], sets[codes] = now, 1
            for attribute in (start, codes):
                if old is not None and attribute in old:
                    same.append(f"{attribute} = :old_{attribute}")
                else:
                    same.append(f"attribute_not_exists({attribute})")
        condition = "attribute_not_exists(pk)" if old is None else "attribute_exists(pk) AND " + " AND ".join(same)
        olds = {f":old_{a}": old[a] for a in sets if old is not None and a in old}
        try:
            store.update(
                key,
                "SET " + ", ".join(f"{a} = :new_{a}" for a in sets) + f", {common}",
                condition=condition,
                names=names,
                expression_values={**values, **{f":new_{a}": v for a, v in sets.items()}, **olds},
                return_values="NONE",
            )
            return
        except ConditionFailed as failed:
            old = failed.item  # another request counted meanwhile: count again from what it left
    raise CodeRateLimited("too many codes are being asked for at once; try again", retry_after=1)


def confirm(
    token: str, email: str, code: str, visitor: Visitor, *, store: Store | None = None, target: Target = LINKS
) -> Verified:
    """Spend one try of the address's code; the right code of a current recipient gives a grant."""
    store = store or Store()
    link_item_key, link = _restricted_link(store, token, target)
    failed_action = f"{target.action}.code_failed"
    moment = clock.now()
    now = clock.epoch(moment)
    at = clock.iso(moment)
    try:
        target.refuse_unusable(link, now)
    except DomainError as refused:
        details = {"email": email, "reason": refused.code}
        _audit(store, link_item_key, partner_event(failed_action, visitor, at, details))
        raise
    recipients = link.get("recipients") or []
    if not recipients:
        raise VerificationNotRequired("this link is not restricted to recipients; no code is needed")
    key = keys.link_verification(token_hash(token), address_id(token, email))

    def refuse(refused: DomainError, where: dict[str, str]) -> DomainError:
        details = {"email": email, "reason": refused.code}
        _audit(store, where, partner_event(failed_action, visitor, at, details))
        return refused

    state = store.get(key)
    stored = state.get("code_hash") if state else None
    if state is None or not stored or int(state.get("code_expires_epoch", 0)) <= now:
        raise refuse(CodeExpired("no valid code for this address; ask for a new code"), key if state else link_item_key)
    if int(state.get("code_tries", 0)) >= CODE_TRIES:
        raise refuse(CodeAttemptsExhausted("too many wrong codes; ask for a new code"), key)
    right = bool(_CODE_RE.fullmatch(code)) and hmac.compare_digest(code_hash(token, email, code), str(stored))
    right = right and email in recipients  # a code of an address removed meanwhile opens nothing
    values: dict[str, Any] = {":stored": stored, ":max": CODE_TRIES, ":now": now, ":one": 1}
    # Every try, right or wrong, is first counted: concurrent guesses share the 5 tries.
    if right:
        update = "SET code_tries = code_tries + :one REMOVE last_event"
    else:
        update = "SET code_tries = code_tries + :one, last_event = :event"
        values[":event"] = partner_event(failed_action, visitor, at, {"email": email, "reason": CodeIncorrect.code})
    try:
        counted = store.update(
            key,
            update,
            condition="code_hash = :stored AND code_tries < :max AND code_expires_epoch > :now",
            expression_values=values,
        )
    except ConditionFailed as failed:
        old = failed.item or {}
        if old.get("code_hash") == stored and int(old.get("code_tries", 0)) >= CODE_TRIES:
            raise refuse(CodeAttemptsExhausted("too many wrong codes; ask for a new code"), key) from None
        raise refuse(CodeExpired("this code is no longer valid; ask for a new code"), key) from None
    assert counted is not None
    if not right:
        left = CODE_TRIES - int(counted.get("code_tries", CODE_TRIES))
        if left <= 0:
            raise CodeAttemptsExhausted("the code is not correct, and that was the last try; ask for a new code")
        raise CodeIncorrect(f"the code is not correct; {left} {'try' if left == 1 else 'tries'} left")
    secret = secrets.token_urlsafe(32)
    expires = moment + GRANT_TTL
    try:
        store.update(
            key,
            "SET grant_hash = :grant, grant_expires_epoch = :until, email = :email, last_event = :event,"
            " #ttl = :ttl REMOVE code_hash, code_expires_epoch",
            condition="code_hash = :stored",
            names={"#ttl": "ttl"},
            expression_values={
                ":stored": stored,
                ":grant": _grant_hash(secret),
                ":until": clock.epoch(expires),
                ":email": email,
                ":ttl": clock.epoch(expires + _KEEP),
                ":event": partner_event(f"{target.action}.recipient_verified", visitor, at, {"email": email}),
            },
            return_values="NONE",
        )
    except ConditionFailed:
        raise refuse(CodeExpired("this code was used meanwhile; ask for a new code"), key) from None
    return Verified(grant=f"{address_id(token, email)}.{secret}", expires_at=clock.iso(expires))


def check_grant(store: Store, token: str, grant: str, now: int) -> str:
    """The verified address a grant stands for on this link; 403 for any grant it did not issue or that expired.

    Whether the address is still a recipient is checked by the download's own conditional write.
    """
    match = _GRANT_RE.fullmatch(grant)
    if match is None:
        raise GrantInvalid("this grant is not valid for this link; verify your e-mail address again")
    state = store.get(keys.link_verification(token_hash(token), match[1]))
    stored = state.get("grant_hash") if state else None
    if state is None or not stored or not state.get("email"):
        raise GrantInvalid("this grant is not valid for this link; verify your e-mail address again")
    if not hmac.compare_digest(_grant_hash(match[2]), str(stored)):
        raise GrantInvalid("this grant is not valid for this link; verify your e-mail address again")
    if int(state.get("grant_expires_epoch", 0)) <= now:
        raise GrantExpired("this verification has expired; verify your e-mail address again")
    return str(state["email"])
