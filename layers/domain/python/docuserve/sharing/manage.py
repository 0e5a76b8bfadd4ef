"""Members managing links: create, list, read, edit, revoke, activity (editor+ of the workspace).

A share id starts with its workspace id, so the caller's membership and the share's pointer come
back in one BatchGetItem (404 for a non-member, 403 for a viewer) before the link item is read.
Management events are written in the same transaction as the change they record.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, NoReturn

from docuserve import audit, clock, ids, keys
from docuserve.access import (
    DocumentAccess,
    document_access,
    holds_role,
    lost_role,
    refuse_lost_role,
    workspace_access,
)
from docuserve.adapters.store import Page, Store, TransactionCancelled
from docuserve.custody import manifest
from docuserve.errors import Conflict, Forbidden, InvalidInput, NotFound
from docuserve.identity import Caller
from docuserve.observability import BusinessMetric, count
from docuserve.records import Document, Membership
from docuserve.roles import Role
from docuserve.settings import get_settings
from docuserve.sharing.links import TIDY_DAYS, document_copy, pointer, pointer_put, ref_item, resign_manifest
from docuserve.sharing.passwords import hash_password
from docuserve.sharing.recipients import MAX_RECIPIENTS
from docuserve.sharing.state import LinkState, downloads_remaining, is_bundle, state_of
from docuserve.sharing.tokens import is_well_formed, new_token, token_hash

_EXPIRY_GRACE = timedelta(minutes=5)  # a client's "90 days from now" computed on a slightly fast clock


@dataclass(frozen=True)
class Terms:
    """A new link's terms, as the request gave them (checked for type and length at the edge).

    ``expires_at`` is in UTC; ``password`` arrives masked (``passwords.Masked``) from the edge, so
    no repr shows it.
    """

    expires_at: datetime | None = None
    expires_in_days: int | None = None
    password: str | None = None
    max_downloads: int | None = None
    label: str | None = None
    version_id: str | None = None
    message: str | None = None  # the note to the partner
    recipients: list[str] | None = None  # normalised and de-duplicated at the edge; empty: no restriction
    notify_recipients: bool = False  # mail the link to its recipients once it is saved


@dataclass(frozen=True)
class Changes(Terms):
    """An edit: only the fields named in ``given`` change; ``None`` there removes password, limit or label.

    ``token`` is needed only to re-send the link (``notify_recipients``): only its hash is stored.
    """

    given: frozenset[str] = field(default_factory=frozenset)
    token: str | None = None


@dataclass(frozen=True)
class Link:
    """A link as its document's editors see it: an allow-list, never the token, hashes or object key."""

    id: str
    document_id: str | None  # None for a bundle (``files`` names its documents)
    workspace_id: str
    document_name: str
    state: str  # active | expired | revoked | used_up | locked | unavailable
    expires_at: str
    password_required: bool
    download_count: int
    max_downloads: int | None
    downloads_remaining: int | None  # None: unlimited
    label: str | None
    version_id: str | None  # the pinned version; None follows the document's current version
    locked_until: str | None
    created_at: str
    created_by: str
    updated_at: str
    updated_by: str
    revoked_at: str | None
    message: str | None = None
    sender: str | None = None
    last_used_at: str | None = None
    recipients: tuple[str, ...] = ()
    kind: str = "document"  # or "bundle" (``sharing.bundles``)
    files: tuple[dict[str, Any], ...] = ()  # a bundle's files: id, name, size, type, SHA-256, available


@dataclass(frozen=True)
class Created:
    link: Link
    token: str
    url: str


def view_of(item: dict[str, Any], now_epoch: int | None = None) -> Link:
    """The members' view of a link item."""
    now_epoch = clock.epoch(clock.now()) if now_epoch is None else now_epoch
    state = state_of(item, now_epoch)
    return Link(
        id=item["share_id"],
        document_id=item.get("document_id"),
        workspace_id=item["workspace_id"],
        document_name=item["document_name"],
        state=state.value,
        expires_at=item["expires_at"],
        password_required=bool(item.get("password_hash")),
        download_count=int(item.get("download_count", 0)),
        max_downloads=item.get("max_downloads"),
        downloads_remaining=downloads_remaining(item),
        label=item.get("label"),
        version_id=item.get("pinned_version_id"),
        locked_until=item.get("locked_until") if state is LinkState.LOCKED else None,
        created_at=item["created_at"],
        created_by=item["created_by"],
        updated_at=item.get("updated_at", item["created_at"]),
        updated_by=item.get("updated_by", item["created_by"]),
        revoked_at=item.get("revoked_at"),
        message=item.get("message"),
        sender=item.get("sender_email"),
        last_used_at=item.get("last_downloaded_at"),
        recipients=tuple(item.get("recipients") or ()),
        **_bundle_view(item),
    )


def _bundle_view(item: dict[str, Any]) -> dict[str, Any]:
    if not is_bundle(item):
        return {}
    from docuserve.sharing.bundles import entries_of

    files = tuple(
        {
            "document_id": e.document_id,
            "name": e.name,
            "size": e.size,
            "content_type": e.content_type,
            "sha256": e.sha256,
            "available": e.available,
        }
        for e in entries_of(item)
    )
    return {"kind": "bundle", "files": files}


# --- validation of the settings-dependent rules (the models check types and lengths) ---


def chosen_expiry(expires_at: datetime | None, expires_in_days: int | None, now: datetime) -> datetime | None:
    """The expiry a member chose (absolute or in days), within the link limits; None if none was given.

    Share links, bundles and upload requests follow the same rules.
    """
    limits = get_settings().limits
    if expires_at is not None and expires_in_days is not None:
        raise InvalidInput("expires_at", "give expires_at or expires_in_days, not both")
    if expires_in_days is not None:
        if not 1 <= expires_in_days <= limits.share_max_days:
            raise InvalidInput("expires_in_days", f"must be between 1 and {limits.share_max_days}")
        return now + timedelta(days=expires_in_days)
    if expires_at is not None:
        moment = expires_at  # in UTC: the request model converted it (or refused it)
        if moment <= now:
            raise InvalidInput("expires_at", "must be in the future")
        if moment > now + timedelta(days=limits.share_max_days) + _EXPIRY_GRACE:
            raise InvalidInput("expires_at", f"must be at most {limits.share_max_days} days from now")
        return moment
    return None


def _password_hash(password: str) -> str:
    minimum = get_settings().limits.password_min_length
    if len(password) < minimum:
        raise InvalidInput("password", f"must be at least {minimum} characters")
    return hash_password(password)


def _max_downloads(value: int) -> int:
    maximum = get_settings().limits.max_downloads_max
    if not 1 <= value <= maximum:
        raise InvalidInput("max_downloads", f"must be between 1 and {maximum}")
    return value


def _label(value: str) -> str | None:
    # The model has applied the label rules (trimmed, no control or bidi characters); blank clears it.
    return value or None


def _recipients(value: list[str] | None) -> list[str]:
    # The model has normalised, validated and de-duplicated the addresses; this bounds the count.
    addresses = list(value or [])
    if len(addresses) > MAX_RECIPIENTS:
        raise InvalidInput("recipients", f"at most {MAX_RECIPIENTS} addresses")
    return addresses


def _expiry_attributes(moment: datetime) -> dict[str, Any]:
    return {
        "expires_at": clock.iso(moment),
        "expires_epoch": clock.epoch(moment),
        "ttl": clock.epoch(moment + timedelta(days=TIDY_DAYS)),
    }


# --- routes ---


CREATE_ATTEMPTS = 3


def create_share(
    caller: Caller, document_id: str, body: Terms, *, ip: str | None = None, store: Store | None = None
) -> Created:
    """A new link (201); its token and URL are in the answer and nowhere else, ever.

    The link item goes in one transaction with its ref in the document's partition and an
    update that the document is still ``available`` at the revision its copy was taken from, which
    bumps that revision: a trash (or any change) committed since the read makes the transaction
    fail, and the link is built again from a fresh read; and a trash that read the document's
    links before this commit fails its own commit, so it never misses this link
    (``sharing.links.hold``).
    """
    store = store or Store()
    if body.notify_recipients and not body.recipients:
        raise InvalidInput("notify_recipients", "give recipients to send the link to")
    for _ in range(CREATE_ATTEMPTS):
        access = document_access(
            caller, document_id, Role.EDITOR, version_id=body.version_id, what="sharing", store=store
        )
        item, event, token = _new_link(caller, access, body, ip)
        item.update(manifest.signed(item))  # docuserve.custody.manifest: signed in the link's creation
        try:
            store.transact(
                [
                    {"Put": {"Item": item, "ConditionExpression": "attribute_not_exists(pk)"}},
                    pointer_put(item, token_hash(token)),
                    {
                        "Put": {
                            "Item": ref_item(
                                access.document.id,
                                item["share_id"],
                                token_hash(token),
                                pinned="pinned_version_id" in item,
                            )
                        }
                    },
                    audit.put_action(event),
                    document_bumped(access.document),
                    holds_role(access.document.workspace_id, caller.user_id, Role.EDITOR),
                ]
            )
        except TransactionCancelled as cancelled:
            if lost_role(cancelled.reasons):
                _refuse(caller, access.document.workspace_id, "sharing", "document not found")
            continue  # the document changed since it was read: look again
        count(BusinessMetric.LINKS_CREATED)
        url = f"{get_settings().web_origin}/s/{token}"
        if body.notify_recipients:
            send_link(caller, item, url, ip=ip, store=store)
        return Created(link=view_of(item, clock.epoch(clock.now())), token=token, url=url)
    raise Conflict("the document is changing concurrently; try again")


def _refuse(caller: Caller, workspace_id: str, what: str, not_found: str) -> NoReturn:
    refuse_lost_role(caller, workspace_id, Role.EDITOR, what=what, not_found=not_found)


def document_bumped(document: Document) -> dict[str, Any]:
    """Update: the document is still ``available`` at the revision it was read at; bump it.

    A new link changes what a trash must stop, so it is a change of the document's revision.
    """
    same = "revision = :rev" if document.revision else "attribute_not_exists(revision)"
    return {
        "Update": {
            "Key": keys.document(document.id),
            "UpdateExpression": "SET revision = :next",
            "ConditionExpression": f"#s = :available AND {same}",
            "ExpressionAttributeNames": {"#s": "status"},
            "ExpressionAttributeValues": {":available": "available", ":next": document.revision + 1}
            | ({":rev": document.revision} if document.revision else {}),
        }
    }


def _new_link(
    caller: Caller, access: DocumentAccess, body: Terms, ip: str | None
) -> tuple[dict[str, Any], audit.AuditEvent, str]:
    """The link item, its audit event and its token (validated against the document just read)."""
    document = access.document
    if document.status != "available":
        raise Conflict("only an available document can be shared (not one pending upload or in the trash)")
    if access.version is not None:
        version = access.version
        if version.status != "available":
            raise Conflict("only an available version can be shared")
        copy: dict[str, Any] = {
            "document_name": document.name,
            "document_status": document.status,
            "document_revision": document.revision,
            "content_type": version.content_type,
            "size": version.size,
            "sha256": version.sha256,
            "object_key": version.object_key,
            "s3_version_id": version.s3_version_id,
            "version_id": version.id,
            "pinned_version_id": version.id,
        }
    else:
        copy = document_copy(document)
        if not copy["object_key"]:
            raise Conflict("the document has no available version to share")

    copy["document_revision"] = document.revision + 1  # the link's own transaction bumps it
    now = clock.now()
    limits = get_settings().limits
    chosen = chosen_expiry(body.expires_at, body.expires_in_days, now)
    expires = chosen or now + timedelta(days=limits.share_default_days)
    item: dict[str, Any] = {
        **copy,
        **_expiry_attributes(expires),
        "type": "link",
        "download_count": 0,
        "failed_attempts": 0,
        "created_at": clock.iso(now),
        "created_by": caller.user_id,
        "updated_at": clock.iso(now),
        "updated_by": caller.user_id,
    }
    if body.password is not None:
        item["password_hash"] = _password_hash(body.password)
    if body.max_downloads is not None:
        item["max_downloads"] = _max_downloads(body.max_downloads)
    if body.label is not None:
        item["label"] = _label(body.label)
    if body.message:
        item["message"] = body.message
    if recipients := _recipients(body.recipients):
        item["recipients"] = recipients
    # The partner page names the sender: the creator's *verified* e-mail (never the user id, the
    # workspace or other members), frozen here so the partner's read stays one GetItem.
    if caller.email:
        item["sender_email"] = caller.email

    token = new_token()
    digest = token_hash(token)
    share_id = ids.new_child_id(document.workspace_id)
    item.update(
        {
            **keys.link(digest),
            "share_id": share_id,
            "workspace_id": document.workspace_id,
            "document_id": document.id,
            "gsi1pk": keys.share_pk(share_id),
            "gsi1sk": "SHARE",
            "gsi2pk": keys.document_shares_pk(document.id),
            "gsi2sk": f"{item['created_at']}#{share_id}",
            "gsi3pk": keys.workspace_links_pk(document.workspace_id),
            "gsi3sk": f"{item['created_at']}#{share_id}",
        }
    )
    event = audit.AuditEvent(
        action="share.created",
        actor=audit.Actor.member(caller, ip=ip),
        workspace_id=document.workspace_id,
        document_id=document.id,
        share_id=share_id,
        details={
            k: v
            for k, v in {
                "expires_at": item["expires_at"],
                "password": "password_hash" in item,
                "max_downloads": item.get("max_downloads"),
                "version_id": item.get("pinned_version_id"),
                "label": item.get("label"),
                "document_name": document.name,
                "message": True if item.get("message") else None,
                "recipients": len(item["recipients"]) if item.get("recipients") else None,
            }.items()
            if v is not None
        },
    )
    return item, event, token


# The cursor of the listing's second part (the bundles): ``~`` is outside the URL-safe base64 of
# the store's own cursors, so the two can never be taken for each other.
BUNDLES_CURSOR = "~bundles"
BUNDLE_REFS_PER_READ = 100  # one BatchGetItem reads the links of one page of refs


def list_shares(
    caller: Caller, document_id: str, *, limit: int, cursor: str | None, store: Store | None = None
) -> tuple[list[Link], str | None]:
    """A document's links: its own links newest first, then the bundles that include it.

    The document's own links are one Query per page on gsi2 (``DOCSHARES#{doc}``). A bundle's link
    item cannot sit in the index partition of each of its up to 100 documents, but it writes a ref
    into each document's partition (``links.ref_item``). When the own links end on a page with room
    left, the same answer goes on to those refs: a strongly consistent Query filtered to bundle refs,
    and the bundle links they name in one BatchGetItem. A later page of bundles has a cursor of its
    own (``~bundles.{cursor}``). So whoever reviews who can reach a document sees every link that
    serves it.
    """
    store = store or Store()
    document_access(caller, document_id, Role.EDITOR, what="listing links", store=store)
    now = clock.epoch(clock.now())
    found: list[Link] = []
    if cursor is None or not cursor.startswith(BUNDLES_CURSOR):
        page: Page = store.query(
            keys.document_shares_pk(document_id), index="gsi2", forward=False, limit=limit, cursor=cursor
        )
        found = [view_of(item, now) for item in page.items if item.get("type") == "link"]
        if page.next_cursor or len(found) >= limit:
            return found, page.next_cursor or BUNDLES_CURSOR
        refs_cursor = None
    else:
        inner = cursor[len(BUNDLES_CURSOR) :]
        if inner and not inner.startswith("."):
            raise InvalidInput("cursor", "not a cursor for this list")
        refs_cursor = inner[1:] or None
    refs: Page = store.query(
        keys.document_pk(document_id),
        sk_prefix=keys.LINK_PREFIX,
        limit=min(limit - len(found), BUNDLE_REFS_PER_READ),
        cursor=refs_cursor,
        filter_expression="#bundle = :yes",
        names={"#bundle": "bundle"},
        expression_values={":yes": True},
        consistent=True,
    )
    links = store.get_many([keys.link(str(ref["token_hash"])) for ref in refs.items if ref.get("token_hash")])
    bundles = [view_of(item, now) for item in links if item is not None and item.get("type") == "link"]
    found.extend(sorted(bundles, key=lambda link: link.created_at, reverse=True))
    return found, f"{BUNDLES_CURSOR}.{refs.next_cursor}" if refs.next_cursor else None


WORKSPACE_LINK_READS = 10  # a state filter reads at most this many pages before answering


def list_workspace_links(
    caller: Caller,
    workspace_id: str,
    *,
    state: str | None,
    limit: int,
    cursor: str | None,
    store: Store | None = None,
) -> tuple[list[Link], str | None]:
    """Every link of a workspace, newest first (editor+), optionally of one ``state``.

    One Query per page on gsi3 (``WSLINKS#{ws}``). A state is computed at read time (expiry,
    limits, locks), so the filter applies after the read: each further read asks only for the
    items still missing, so the answer never holds more than ``limit`` and its cursor resumes
    exactly; after ``WORKSPACE_LINK_READS`` reads a page may be short (follow ``next_cursor``).
    Links created before the index attribute existed are not listed (they expire within 90 days).
    """
    store = store or Store()
    workspace_access(caller, workspace_id, Role.EDITOR, what="listing the workspace's links", store=store)
    now = clock.epoch(clock.now())
    found: list[Link] = []
    for _ in range(WORKSPACE_LINK_READS):
        page: Page = store.query(
            keys.workspace_links_pk(workspace_id), index="gsi3", forward=False, limit=limit - len(found), cursor=cursor
        )
        views = [view_of(item, now) for item in page.items if item.get("type") == "link"]
        found.extend(v for v in views if state is None or v.state == state)
        cursor = page.next_cursor
        if not cursor or len(found) >= limit:
            break
    return found, cursor


def _share_pointer(caller: Caller, share_id: str, store: Store, what: str) -> tuple[dict[str, Any], Membership]:
    """The share's pointer and the caller's membership, in one BatchGetItem (404 / 403)."""
    workspace_id = ids.workspace_of(share_id)
    if workspace_id is None:
        raise NotFound("share not found")
    found, member = store.get_many([pointer(share_id), keys.membership(workspace_id, caller.user_id)])
    if found is None or member is None:
        raise NotFound("share not found")
    membership = Membership.from_item(member)
    if not membership.role.at_least(Role.EDITOR):
        raise Forbidden(f"{what} needs the editor role or higher; you are {membership.role.value}")
    return found, membership


def _load(caller: Caller, share_id: str, store: Store, what: str) -> dict[str, Any]:
    found, _ = _share_pointer(caller, share_id, store, what)
    item = store.get(keys.link(found["token_hash"]))
    if item is None:  # tidied away by TTL long after expiry
        raise NotFound("share not found")
    return item


def get_share(caller: Caller, share_id: str, *, store: Store | None = None) -> Link:
    return view_of(_load(caller, share_id, store or Store(), "reading a link"))


def edit_share(
    caller: Caller, share_id: str, body: Changes, *, ip: str | None = None, store: Store | None = None
) -> Link:
    """Change expiry, password, limit, label or message; the next partner request sees the change."""
    store = store or Store()
    given = body.given - {"token"}
    if not given:
        raise InvalidInput(
            "body",
            "name at least one of expires_at, expires_in_days, password, max_downloads, label, message,"
            " recipients, notify_recipients",
        )
    item = _load(caller, share_id, store, "editing a link")
    if item.get("revoked_at"):
        raise Conflict("a revoked link cannot be edited")
    if body.notify_recipients:
        _check_resend(item, body)
    if not given - {"notify_recipients"}:  # only a re-send: nothing to change
        if body.notify_recipients:
            send_link(caller, item, _link_url(body.token), ip=ip, store=store)
        return view_of(item)
    now = clock.now()
    sets: dict[str, Any] = {"updated_at": clock.iso(now), "updated_by": caller.user_id}
    removes: list[str] = ["last_event"]  # the stream must not see the last partner event again
    changed: list[str] = []
    if given & {"expires_at", "expires_in_days"}:
        if body.expires_at is None and body.expires_in_days is None:
            raise InvalidInput("expires_at", "a link always expires; give a new expires_at or expires_in_days")
        expires = chosen_expiry(body.expires_at, body.expires_in_days, now)
        assert expires is not None
        sets.update(_expiry_attributes(expires))
        changed.append("expires_at")
    if "password" in given:
        # A member's new (or removed) password also ends a lockout and restarts the failure count.
        if body.password is None:
            removes.append("password_hash")
        else:
            sets["password_hash"] = _password_hash(body.password)
        sets["failed_attempts"] = 0
        removes.extend(["locked_until", "locked_until_epoch"])
        changed.append("password")
    if "max_downloads" in given:
        # Lowering the limit to or below the downloads already made exhausts the link at once.
        if body.max_downloads is None:
            removes.append("max_downloads")
        else:
            sets["max_downloads"] = _max_downloads(body.max_downloads)
        changed.append("max_downloads")
    if "label" in given:
        label = _label(body.label) if body.label is not None else None
        if label is None:
            removes.append("label")
        else:
            sets["label"] = label
        changed.append("label")
    if "recipients" in given:  # the next partner request sees the new list (no cache anywhere)
        if recipients := _recipients(body.recipients):
            sets["recipients"] = recipients
        else:
            removes.append("recipients")
        changed.append("recipients")
    if "message" in given:  # already checked and trimmed at the edge; blank or null removes it
        if body.message:
            sets["message"] = body.message
        else:
            removes.append("message")
        changed.append("message")

    names = {f"#s{i}": name for i, name in enumerate(sets)}
    names.update({f"#r{i}": name for i, name in enumerate(removes)})
    values = {f":s{i}": value for i, value in enumerate(sets.values())}
    expression = "SET " + ", ".join(f"#s{i} = :s{i}" for i in range(len(sets)))
    expression += " REMOVE " + ", ".join(f"#r{i}" for i in range(len(removes)))
    details: dict[str, Any] = {"changed": changed, "document_name": item.get("document_name")}
    if item.get("label"):
        details["label"] = item["label"]
    if "expires_at" in changed:
        details["expires_at"] = sets["expires_at"]
    if "max_downloads" in changed:
        details["max_downloads"] = body.max_downloads
    if "recipients" in changed:
        details["recipients"] = len(sets.get("recipients", []))
    event = audit.AuditEvent(
        action="share.edited",
        actor=audit.Actor.member(caller, ip=ip),
        workspace_id=item["workspace_id"],
        document_id=item.get("document_id"),
        share_id=share_id,
        details=details,
    )
    actions: list[dict[str, Any]] = [
        {
            "Update": {
                "Key": {"pk": item["pk"], "sk": item["sk"]},
                "UpdateExpression": expression,
                "ConditionExpression": "attribute_exists(pk) AND attribute_not_exists(revoked_at)",
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": values,
            }
        },
        audit.put_action(event),
    ]
    if "ttl" in sets:
        actions.append(
            {
                "Update": {
                    "Key": pointer(share_id),
                    "UpdateExpression": "SET #ttl = :ttl",
                    "ExpressionAttributeNames": {"#ttl": "ttl"},
                    "ExpressionAttributeValues": {":ttl": sets["ttl"]},
                }
            }
        )
    actions.append(holds_role(item["workspace_id"], caller.user_id, Role.EDITOR))
    try:
        store.transact(actions)
    except TransactionCancelled as cancelled:
        if lost_role(cancelled.reasons):
            _refuse(caller, item["workspace_id"], "editing a link", "share not found")
        if cancelled.reasons and cancelled.reasons[0] == "ConditionalCheckFailed":
            raise Conflict("the link was revoked meanwhile; a revoked link cannot be edited") from None
        raise
    edited = _load(caller, share_id, store, "editing a link")
    if "expires_at" in changed:  # the signed manifest names the expiry
        resign_manifest(edited, store)
    if body.notify_recipients:
        send_link(caller, edited, _link_url(body.token), ip=ip, store=store)
    return view_of(edited)


def _link_url(token: str | None) -> str:
    return f"{get_settings().web_origin}/s/{token}"


def _check_resend(item: dict[str, Any], body: Changes) -> None:
    """A re-send names this link's token (only its hash is stored) and leaves recipients to mail."""
    token = body.token
    if not token or not is_well_formed(token) or keys.link(token_hash(token)) != {"pk": item["pk"], "sk": item["sk"]}:
        raise InvalidInput("token", "to send the link again, give the token this link was created with")
    after = body.recipients if "recipients" in body.given else item.get("recipients")
    if not after:
        raise InvalidInput("notify_recipients", "the link has no recipients to send it to")


def send_link(
    caller: Caller, item: dict[str, Any], url: str, *, ip: str | None = None, store: Store | None = None
) -> int:
    """Mail ``url`` to each of the link's recipients (never a password); how many SES accepted.

    Sent after the link is saved: a failing mail never undoes the link. One ``share.sent`` event
    records how many of how many went out.
    """
    # Imported here: only the routes that mail render and send.
    from docuserve import messages
    from docuserve.adapters import mail

    recipients = list(item.get("recipients") or [])
    rendered = messages.share_link(
        url=url,
        sender_name=None,
        sender_email=caller.email or item.get("sender_email") or "A DocuServe member",
        document_name=str(item.get("document_name", "")),
        expires_at=item["expires_at"],
        message=item.get("message"),
        password_required=bool(item.get("password_hash")),
    )
    sent = sum(
        mail.send_quietly(address, rendered.subject, rendered.text, rendered.html, what="share_link")
        for address in recipients
    )
    audit.record(
        audit.AuditEvent(
            action="share.sent",
            actor=audit.Actor.member(caller, ip=ip),
            workspace_id=item["workspace_id"],
            document_id=item.get("document_id"),
            share_id=item["share_id"],
            details={"recipients": len(recipients), "sent": sent, "document_name": item.get("document_name")},
        ),
        store,
    )
    return sent


def revoke_share(caller: Caller, share_id: str, *, ip: str | None = None, store: Store | None = None) -> None:
    """Revoke at once (idempotent: revoking a revoked link changes nothing and records nothing)."""
    store = store or Store()
    item = _load(caller, share_id, store, "revoking a link")
    if item.get("revoked_at"):
        return
    now = clock.iso(clock.now())
    event = audit.AuditEvent(
        action="share.revoked",
        actor=audit.Actor.member(caller, ip=ip),
        workspace_id=item["workspace_id"],
        document_id=item.get("document_id"),
        share_id=share_id,
        details={
            k: v for k, v in {"document_name": item.get("document_name"), "label": item.get("label")}.items() if v
        },
    )
    try:
        store.transact(
            [
                {
                    "Update": {
                        "Key": {"pk": item["pk"], "sk": item["sk"]},
                        "UpdateExpression": "SET revoked_at = :at, revoked_by = :by, updated_at = :at,"
                        " updated_by = :by REMOVE last_event",
                        "ConditionExpression": "attribute_exists(pk) AND attribute_not_exists(revoked_at)",
                        "ExpressionAttributeValues": {":at": now, ":by": caller.user_id},
                    }
                },
                audit.put_action(event),
                holds_role(item["workspace_id"], caller.user_id, Role.EDITOR),
            ]
        )
    except TransactionCancelled as cancelled:
        if lost_role(cancelled.reasons):
            _refuse(caller, item["workspace_id"], "revoking a link", "share not found")
        if cancelled.reasons and cancelled.reasons[0] == "ConditionalCheckFailed":
            return  # revoked meanwhile by someone else
        raise


def share_activity(
    caller: Caller, share_id: str, *, limit: int, cursor: str | None, store: Store | None = None
) -> Page:
    """The link's audit events (management and partner access), newest first."""
    store = store or Store()
    _share_pointer(caller, share_id, store, "reading a link's activity")
    return audit.share_events(share_id, limit=limit, cursor=cursor, store=store)
