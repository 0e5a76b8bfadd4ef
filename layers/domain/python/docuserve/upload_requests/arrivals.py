"""A partner's file landed: the request's ``request.upload_landed`` event and the batched
"files arrived" mail to the member who asked (sent by the audit-stream function, from the table's
stream and from a schedule, so processing never waits for it and the public function never holds
SES).

The trigger is the upload session of a partner's upload becoming ``completed`` (processing sets
it once the version is available, i.e. verified and clean). The event is appended with a key made
from the session (``attribute_not_exists``), so a replayed or duplicated stream record does
nothing twice; only the first delivery goes on to the mail.

Batching: the landed file (name, size, the partner's contact) is appended to the request item's
``arrived`` list; a conditional write then claims the mail (``last_files_mail_at`` absent or an
hour old, and something arrived) and empties the list in the same write, whose old image lists
the files the mail names. So a request mails its requester at most once an hour, each mail lists
every file that arrived since the last one, and concurrent claims never mail twice.

Files that arrive within the hour after a mail are owed a mail when the hour is over: the failed
claim's old image says when (``last_files_mail_at`` + 1 hour), and the arrival writes a marker
item in the request's partition (``keys.arrivals_due``) carrying the sparse gsi4 keys
``ARRIVALS_DUE`` / ``{due_at}#{request_id}``. The request item cannot carry them (its gsi4 is the
admins' inventory of open requests), and a closed request still owes its mail. A schedule (every
15 minutes in AWS, every minute locally) runs ``send_due``: one Query on gsi4 for the markers due
by now (never a Scan), and for each the same claim as an arrival's, then the marker's gsi4 keys
are removed (nothing owed any more) or moved to the new due time (a mail went out meanwhile and
more files came), on the condition that its ``gsi4sk`` is still the one read: a marker an arrival
re-wrote meanwhile is never lost. A stale marker (its mail already claimed by a later arrival) is
harmless: its claim fails and it is cleared. Markers are cleared with an update, not deleted, so
the function needs no ``DeleteItem`` (nor ``PutItem``) on ``LINK#`` items, which are share links
too; a cleared marker is a few bytes that expire with the request (the request's ``ttl``).

The mail names the partner (as they named themselves) only when every file it lists came from the
same contact. The requester's ``files_arrived`` preference is honoured (a claim with the
preference off sends nothing, so the files are not owed again). Nothing here ever raises to the
stream; the sweep logs a request it cannot handle and goes on with the next.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import quote

from docuserve import audit, clock, keys
from docuserve.adapters.store import ConditionFailed, Store
from docuserve.audit import Actor, AuditEvent
from docuserve.observability import logger
from docuserve.settings import get_settings

MAIL_INTERVAL = timedelta(hours=1)
SWEEP_TASK = "files_arrived_due"  # the scheduled input of the audit-stream function ({"task": ...})
STOP_WITH_MS_LEFT = 10_000  # one request is a claim, a preferences read, a send and a marker update
PAGE_SIZE = 100


@dataclass(frozen=True)
class Owed:
    """A mail is owed but the hour since the last one is not over: due at ``due_at``."""

    due_at: str
    request_id: str
    ttl: int | None


@dataclass
class Sweep:
    claimed: int = 0  # mails claimed (sent, or not wanted by the requester)
    waiting: int = 0  # still within the hour of a newer mail: the marker moved to the new time
    cleared: int = 0  # nothing owed any more (mailed by an arrival meanwhile, or the request is gone)
    failed: int = 0  # logged; the marker stays for the next run


def landed(image: dict[str, Any], store: Store | None = None) -> bool:
    """Handle one stream image; True when it was a partner's newly landed file (event appended)."""
    if not str(image.get("pk", "")).startswith(keys.UPLOAD_PREFIX) or image.get("type") != "upload":
        return False
    if not image.get("request_id") or image.get("status") != "completed" or not image.get("request_token_hash"):
        return False
    store = store or Store()
    event = AuditEvent(
        "request.upload_landed",
        Actor.system(),
        workspace_id=image.get("workspace_id"),
        document_id=image.get("document_id"),
        request_id=str(image["request_id"]),
        details={"name": image.get("name"), "size": image.get("size"), "upload_id": image.get("id")},
        id=f"landed-{image.get('id')}",
        at=str(image.get("finished_at") or image.get("created_at")),
    )
    try:
        audit.record(event, store)
    except ConditionFailed:
        return False  # a replay of a record already handled
    try:
        _arrived(image, store)
    except Exception:
        logger.exception("the files-arrived mail failed; the file has landed all the same")
    return True


def send_due(*, remaining_ms: Callable[[], int], store: Store | None = None) -> Sweep:
    """Mail every request whose mail came due by now (scheduled), stopping while 10 s are left."""
    store = store or Store()
    run = Sweep()
    # gsi4sk is ``{due_at}#{request_id}``: every due time up to now sorts between these two.
    due = ("0", f"{clock.iso(clock.now())}#~")
    cursor: str | None = None
    while True:
        page = store.query(keys.ARRIVALS_DUE_PK, index="gsi4", sk_between=due, limit=PAGE_SIZE, cursor=cursor)
        for marker in page.items:
            if remaining_ms() < STOP_WITH_MS_LEFT:
                return run  # the rest stay listed for the next run
            try:
                claimed, owed = _send_one_due(marker, store)
            except Exception:
                logger.exception(
                    "a due files-arrived mail failed; the next run retries",
                    extra={"request_id": marker.get("request_id")},
                )
                run.failed += 1
                continue
            if claimed:
                run.claimed += 1
            elif owed is not None:
                run.waiting += 1
            else:
                run.cleared += 1
        if not page.next_cursor:
            return run
        cursor = page.next_cursor


def _arrived(image: dict[str, Any], store: Store) -> None:
    request_pk = str(image["request_token_hash"])
    partner = image.get("partner_contact")
    entry = {
        "name": str(image.get("name") or ""),
        "size": int(image.get("size") or 0),
        "partner": partner if isinstance(partner, dict) else {},
    }
    store.update(
        {"pk": request_pk, "sk": keys.REQUEST_SK},
        "SET arrived = list_append(if_not_exists(arrived, :empty), :one)",
        condition="attribute_exists(pk)",
        expression_values={":empty": [], ":one": [entry]},
        return_values="NONE",
    )
    _, owed = _claim_and_send(request_pk, store)
    if owed is not None:  # mailed within the hour: this file is owed a mail when the hour is over
        index = keys.arrivals_due_index_keys(owed.due_at, owed.request_id)
        extra = ", #ttl = :ttl" if owed.ttl is not None else ""
        store.update(
            keys.arrivals_due(request_pk),
            "SET #type = :type, request_id = :id, due_at = :due, gsi4pk = :gpk, gsi4sk = :gsk" + extra,
            names={"#type": "type", **({"#ttl": "ttl"} if extra else {})},
            expression_values={
                ":type": "arrivals_due",
                ":id": owed.request_id,
                ":due": owed.due_at,
                ":gpk": index["gsi4pk"],
                ":gsk": index["gsi4sk"],
                **({":ttl": owed.ttl} if extra else {}),
            },
            return_values="NONE",
        )


def _send_one_due(marker: dict[str, Any], store: Store) -> tuple[bool, Owed | None]:
    """Claim and send one marker's mail, then clear the marker or move it to when the mail is owed."""
    request_pk, read = str(marker["pk"]), str(marker["gsi4sk"])
    claimed, owed = _claim_and_send(request_pk, store)
    values: dict[str, Any] = {":read": read}
    if owed is None:
        update = "REMOVE gsi4pk, gsi4sk"
    else:
        update = "SET gsi4sk = :sk, due_at = :due"
        values |= {":sk": keys.arrivals_due_index_keys(owed.due_at, owed.request_id)["gsi4sk"], ":due": owed.due_at}
    # An arrival that re-wrote the marker meanwhile (a newer due time) wins: its keys stay.
    with contextlib.suppress(ConditionFailed):
        store.update(
            keys.arrivals_due(request_pk),
            update,
            condition="gsi4sk = :read",
            expression_values=values,
            return_values="NONE",
        )
    return claimed, owed


def _claim_and_send(request_pk: str, store: Store) -> tuple[bool, Owed | None]:
    """Claim the request's mail and send it: (claimed, what is owed later if the hour is not over)."""
    now = clock.now()
    try:
        old = store.update(
            {"pk": request_pk, "sk": keys.REQUEST_SK},
            "SET last_files_mail_at = :now, arrived = :empty",
            condition="attribute_exists(pk) AND size(arrived) > :zero AND "
            "(attribute_not_exists(last_files_mail_at) OR last_files_mail_at <= :cutoff)",
            expression_values={
                ":now": clock.iso(now),
                ":empty": [],
                ":zero": 0,
                ":cutoff": clock.iso(now - MAIL_INTERVAL),
            },
            return_values="ALL_OLD",
        )
    except ConditionFailed as refused:
        return False, _owed(refused.item)
    if old:
        _send(old, store)
    return True, None


def _owed(item: dict[str, Any] | None) -> Owed | None:
    """What a refused claim's old image owes: files listed and a mail within the hour."""
    if not item or not item.get("arrived") or not item.get("last_files_mail_at"):
        return None  # gone, or nothing waiting (another claim took the files)
    due = clock.parse(str(item["last_files_mail_at"])) + MAIL_INTERVAL
    ttl = item.get("ttl")
    return Owed(clock.iso(due), str(item.get("request_id", "")), int(ttl) if ttl is not None else None)


def _send(old: dict[str, Any], store: Store) -> None:
    if not old.get("requester_email"):
        return
    from docuserve import messages, notify
    from docuserve.adapters import mail

    if not notify.preferences(str(old["created_by"]), store).files_arrived:
        return
    arrived = [f for f in old.get("arrived") or [] if isinstance(f, dict)]
    files = [messages.ArrivedFile(str(f.get("name", "")), int(f.get("size", 0))) for f in arrived]
    folder = str(old.get("folder") or "/")
    workspace = quote(str(old.get("workspace_id", "")), safe="")
    url = f"{get_settings().web_origin}/w/{workspace}?folder={quote(folder, safe='')}"
    # Name the partner only when every listed file came from the same contact (an entry from
    # before contacts were recorded has none, so it names nobody).
    contacts = [f.get("partner") for f in arrived]
    partner = contacts[0] if contacts and all(c == contacts[0] for c in contacts) else None
    partner = partner if isinstance(partner, dict) else {}
    rendered = messages.files_arrived(
        request_label=old.get("label"),
        folder=folder,
        files=files,
        uploader_name=partner.get("name"),
        uploader_email=partner.get("email"),
        url=url,
    )
    mail.send_quietly(str(old["requester_email"]), rendered.subject, rendered.text, rendered.html, what="files_arrived")
