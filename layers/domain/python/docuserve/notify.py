"""Who is mailed about what, and each user's choice (``GET/PUT /me/notifications``).

Preferences: one item per user (``keys.notification_preferences``), every mail on until the user
turns it off; a PUT changes only the fields it names.

"Your link was downloaded" (``link_downloaded``) is sent from the table's stream, by the function
that already turns the partner's ``share.downloaded`` event into its audit item
(``handlers.audit_stream``), not from the partner's request: the download stays one write, the
public function never holds SES or reads anything but links, and a slow or failing SES can never
touch a download. At most one mail per link per hour: a conditional write of
``last_download_mail_at`` (absent or an hour old) and ``last_download_mail_event`` (not this
event) on the link item claims it, so concurrent downloads, a duplicated or replayed stream record
and the claim's own stream record mail once. An event more than an hour old (a replay long after)
is not mailed. The claim comes before the preference read and the send: a creator who turned the
mail off costs a read an hour, and a mail that fails is not tried again within the hour. It never
touches the download count, and it never raises.

"A threat was found" (``threat_found``): the workspace's owners and the deployment's admins, each
address once, each as their preference says.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import quote

from aws_lambda_powertools import Logger

from docuserve import clock, keys
from docuserve.adapters.store import ConditionFailed, Store
from docuserve.settings import get_settings

logger = Logger()

DOWNLOAD_MAIL_INTERVAL = timedelta(hours=1)
KINDS = ("link_downloaded", "threat_found", "files_arrived")


@dataclass(frozen=True)
class Preferences:
    link_downloaded: bool = True
    threat_found: bool = True
    files_arrived: bool = True

    def wants(self, kind: str) -> bool:
        return bool(getattr(self, kind))


def _preferences(item: dict[str, Any] | None) -> Preferences:
    item = item or {}
    return Preferences(**{kind: item.get(kind) is not False for kind in KINDS})


def preferences(user_id: str, store: Store | None = None) -> Preferences:
    """The user's choices (every mail on when they never chose)."""
    return _preferences((store or Store()).get(keys.notification_preferences(user_id)))


def set_preferences(user_id: str, changes: dict[str, bool], store: Store | None = None) -> Preferences:
    """Change the named choices only (``changes``: known kinds, validated at the edge); the new whole."""
    unknown = sorted(set(changes) - set(KINDS))
    if unknown:
        raise ValueError(f"unknown preference {unknown[0]}")
    if not changes:
        return preferences(user_id, store)
    names = {f"#k{i}": kind for i, kind in enumerate(changes)}
    values: dict[str, Any] = {f":v{i}": bool(value) for i, value in enumerate(changes.values())}
    values |= {":type": "notification_preferences", ":user": user_id, ":at": clock.iso(clock.now())}
    sets = ", ".join(f"#k{i} = :v{i}" for i in range(len(changes)))
    item = (store or Store()).update(
        keys.notification_preferences(user_id),
        f"SET {sets}, #type = :type, user_id = :user, updated_at = :at",
        names={**names, "#type": "type"},
        expression_values=values,
    )
    return _preferences(item)


def _web(path: str) -> str:
    return f"{get_settings().web_origin}{path}"


def link_downloaded(image: dict[str, Any], store: Store | None = None) -> bool:
    """Mail the creator of the link whose stream image ``image`` carries a new download event.

    True when a mail went out. Never raises: a failure is logged and counted (``MailFailures``).
    """
    event = image.get("last_event")
    if not str(image.get("pk", "")).startswith(keys.LINK_PREFIX) or not isinstance(event, dict):
        return False
    if event.get("action") != "share.downloaded" or not event.get("id") or not event.get("at"):
        return False
    try:
        return _link_downloaded(image, event, store or Store())
    except Exception:
        logger.exception("the download mail failed; the download is not affected")
        from docuserve.adapters.mail import MAIL_FAILURES
        from docuserve.observability import count

        count(MAIL_FAILURES)
        return False


def _link_downloaded(link: dict[str, Any], event: dict[str, Any], store: Store) -> bool:
    now = clock.now()
    cutoff = clock.iso(now - DOWNLOAD_MAIL_INTERVAL)
    if str(event["at"]) <= cutoff:
        return False  # a record replayed long after the download: too late to be news
    last = link.get("last_download_mail_at")
    if (isinstance(last, str) and last > cutoff) or link.get("last_download_mail_event") == event["id"]:
        return False  # mailed within the hour, or this very download: no call at all
    creator, recipient = link.get("created_by"), link.get("sender_email")
    if not creator or not recipient:
        return False  # a creator without a verified address cannot be mailed
    try:
        store.update(
            {"pk": link["pk"], "sk": link["sk"]},
            "SET last_download_mail_at = :at, last_download_mail_event = :event",
            condition="attribute_exists(pk) AND (attribute_not_exists(last_download_mail_at)"
            " OR last_download_mail_at <= :cutoff)",
            expression_values={":at": clock.iso(now), ":event": str(event["id"]), ":cutoff": cutoff},
            return_values="NONE",
        )
    except ConditionFailed:
        return False  # another download of this hour claimed the mail
    if not preferences(str(creator), store).link_downloaded:
        return False
    from docuserve import messages
    from docuserve.adapters import mail
    from docuserve.sharing.state import downloads_remaining

    rendered = messages.link_downloaded(
        document_name=str(link.get("document_name", "")),
        label=link.get("label"),
        downloaded_at=str(event["at"]),
        download_count=int(link.get("download_count", 0)),
        downloads_remaining=downloads_remaining(link),
        url=_web(f"/d/{quote(str(link.get('document_id', '')), safe='')}"),
    )
    return mail.send_quietly(str(recipient), rendered.subject, rendered.text, rendered.html, what="link_downloaded")


def _owners(workspace_id: str, store: Store) -> list[tuple[str, str]]:
    """(user id, e-mail) of the workspace's owners."""
    owners: list[tuple[str, str]] = []
    cursor: str | None = None
    while True:
        page = store.query(
            keys.workspace_pk(workspace_id),
            sk_prefix=keys.member_prefix(),
            filter_expression="#role = :owner",
            names={"#role": "role"},
            expression_values={":owner": "owner"},
            limit=200,
            cursor=cursor,
            consistent=True,
        )
        owners += [(str(m["user_id"]), str(m.get("email") or "")) for m in page.items]
        if not page.next_cursor:
            return owners
        cursor = page.next_cursor


def _admins() -> list[tuple[str, str]]:
    from docuserve.adapters import users as directory
    from docuserve.schema import ADMINS_GROUP

    return [(u.id, u.email) for u in directory.group_members(ADMINS_GROUP) if u.enabled and u.email_verified]


def threat_found(
    workspace_id: str, document_id: str, document_name: str, version_number: int, threats: list[str]
) -> int:
    """Mail the workspace's owners and the admins (each address once, as each prefers); how many went.

    Never raises for a mail or a directory failure (logged and counted): the caller's processing of
    the scan result must go on. Call it once per infected version (on its transition).
    """
    from docuserve import messages
    from docuserve.adapters import mail

    store = Store()
    recipients: dict[str, str] = {}  # e-mail -> user id (first seen wins: an owner who is an admin too)
    people: list[tuple[str, str]] = _owners(workspace_id, store)
    try:
        people += _admins()
    except Exception:
        logger.exception("the admins could not be listed; only the owners are told of the threat")
    for user_id, email in people:
        if email:
            recipients.setdefault(email.lower(), user_id)
    workspace = store.get(keys.workspace(workspace_id)) or {}
    rendered = messages.threat_found(
        workspace_name=workspace.get("name"),
        document_name=document_name,
        version_number=version_number,
        threats=threats,
        url=_web(f"/d/{quote(document_id, safe='')}"),
    )
    sent = 0
    for email, user_id in recipients.items():
        if not preferences(user_id, store).threat_found:
            continue
        sent += mail.send_quietly(email, rendered.subject, rendered.text, rendered.html, what="threat_found")
    return sent
