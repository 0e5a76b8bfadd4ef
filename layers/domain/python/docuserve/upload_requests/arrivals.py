"""A partner's file landed: the request's ``request.upload_landed`` event and the batched
"files arrived" mail to the member who asked (sent from the table's stream, by the audit-stream
function, so processing never waits for it and the public function never holds SES).

The trigger is the upload session of a partner's upload becoming ``completed`` (processing sets
it once the version is available, i.e. verified and clean). The event is appended with a key made
from the session (``attribute_not_exists``), so a replayed or duplicated stream record does
nothing twice; only the first delivery goes on to the mail.

Batching: the landed file is appended to the request item's ``arrived`` list; a conditional write
then claims the mail (``last_files_mail_at`` absent or an hour old, and something arrived) and
empties the list in the same write, whose old image lists the files the mail names. So a request
mails its requester at most once an hour, each mail lists every file that arrived since the last
one, and concurrent arrivals never mail twice. Files that arrive within the hour after a mail wait
in the list for the next arrival after that hour (there is no timer). The requester's
``files_arrived`` preference is honoured; nothing here ever raises.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import quote

from docuserve import audit, clock, keys
from docuserve.adapters.store import ConditionFailed, Store
from docuserve.audit import Actor, AuditEvent
from docuserve.observability import logger
from docuserve.settings import get_settings

MAIL_INTERVAL = timedelta(hours=1)


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
        _mail(image, store)
    except Exception:
        logger.exception("the files-arrived mail failed; the file has landed all the same")
    return True


def _mail(image: dict[str, Any], store: Store) -> None:
    key = {"pk": str(image["request_token_hash"]), "sk": keys.REQUEST_SK}
    arrived = {"name": str(image.get("name") or ""), "size": int(image.get("size") or 0)}
    store.update(
        key,
        "SET arrived = list_append(if_not_exists(arrived, :empty), :one)",
        condition="attribute_exists(pk)",
        expression_values={":empty": [], ":one": [arrived]},
        return_values="NONE",
    )
    now = clock.now()
    try:
        old = store.update(
            key,
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
    except ConditionFailed:
        return  # mailed within the hour: this file waits in the list for the next mail
    if not old or not old.get("requester_email"):
        return
    from docuserve import messages, notify
    from docuserve.adapters import mail

    if not notify.preferences(str(old["created_by"]), store).files_arrived:
        return
    files = [messages.ArrivedFile(str(f.get("name", "")), int(f.get("size", 0))) for f in old.get("arrived") or []]
    folder = str(old.get("folder") or "/")
    workspace = quote(str(old.get("workspace_id", "")), safe="")
    url = f"{get_settings().web_origin}/w/{workspace}?folder={quote(folder, safe='')}"
    partner = image.get("partner_contact") or {}
    rendered = messages.files_arrived(
        request_label=old.get("label"),
        folder=folder,
        files=files,
        uploader_name=partner.get("name") if isinstance(partner, dict) else None,
        uploader_email=partner.get("email") if isinstance(partner, dict) else None,
        url=url,
    )
    mail.send_quietly(str(old["requester_email"]), rendered.subject, rendered.text, rendered.html, what="files_arrived")
