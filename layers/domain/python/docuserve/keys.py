# ruff: noqa: E501  (the layout table below is wider than a line)
"""The single-table layout: every item's keys are built here and nowhere else.

| item | pk | sk | gsi1 (pk / sk) | gsi2 (pk / sk) | gsi3 (pk / sk) |
|---|---|---|---|---|---|
| workspace | ``WS#{ws}`` | ``WS`` | | | |
| membership | ``WS#{ws}`` | ``MEMBER#{user}`` | ``USER#{user}`` / ``WS#{ws}`` | | |
| document | ``DOC#{doc}`` | ``DOC`` | ``FOLDER#{ws}#{state}#{folder}`` / ``{name_key}`` | ``DOCS#{ws}#{state}`` / ``{name_key}`` | |
| document tag | ``DOC#{doc}`` | ``TAG#{tag}`` | | | ``DOCTAG#{ws}#{state}#{tag}`` / ``{name_key}`` |
| version | ``DOC#{doc}`` | ``VER#{version}`` | | | |
| link ref | ``DOC#{doc}`` | ``LINK#{share}`` | | | |
| upload | ``UPLOAD#{upload}`` | ``UPLOAD`` | ``UPLOADER#{ws}#{user}`` / ``{upload}`` | | |
| share link | ``LINK#{sha256(token)}`` | ``LINK`` | ``SHARE#{share}`` / ``SHARE`` | ``DOCSHARES#{doc}`` / ``{created_at}`` | ``WSLINKS#{ws}`` / ``{created_at}#{share}`` |
| link verification | ``LINK#{sha256(token)}`` | ``VERIFY#{hmac(token, address)}`` | | | |
| account status | ``ACCOUNT#{user}`` | ``STATUS`` | | | |
| audit event | ``AUDIT#{ws or "admin"}`` | ``{at}#{event}`` | | ``AUDITDOC#{doc}`` / ``{at}#{event}`` | ``AUDITSHARE#{share}`` / ``{at}#{event}`` |

Document listing: ``state`` is ``live`` (pending or available) or ``trash`` (deleted or purging); ``name_key`` is the
lower-cased name then ``#{doc}`` so pages sort by name and never tie. A folder is listed with one
Query on gsi1, a whole workspace on gsi2, a tag on gsi3 (tag items copy name and folder so the
other filters apply to them too). Trash and restore move the keys between the two states.

Ids of documents, uploads, versions and shares start with their workspace id (``docuserve.ids``),
so an object and the caller's membership are fetched together in one BatchGetItem.
"""

from __future__ import annotations

Key = dict[str, str]


def workspace_pk(ws: str) -> str:
    """The partition of a workspace: its item and its memberships."""
    return f"WS#{ws}"


def workspace(ws: str) -> Key:
    return {"pk": workspace_pk(ws), "sk": "WS"}


def membership(ws: str, user_id: str) -> Key:
    return {"pk": workspace_pk(ws), "sk": f"MEMBER#{user_id}"}


def membership_index_keys(ws: str, user_id: str) -> dict[str, str]:
    """The gsi1 attributes of a membership: a user's workspaces, one Query."""
    return {"gsi1pk": user_workspaces_pk(user_id), "gsi1sk": workspace_pk(ws)}


def member_prefix() -> str:
    return "MEMBER#"


ACCOUNT_PREFIX = "ACCOUNT#"


def account_status(user_id: str) -> Key:
    """Whether an admin disabled the user (Cognito's flag is not in the tokens the API sees)."""
    return {"pk": f"{ACCOUNT_PREFIX}{user_id}", "sk": "STATUS"}


def user_workspaces_pk(user_id: str) -> str:
    return f"USER#{user_id}"


def document_pk(doc: str) -> str:
    """The partition of a document: its item, tag items, versions and link refs."""
    return f"DOC#{doc}"


def document(doc: str) -> Key:
    return {"pk": document_pk(doc), "sk": "DOC"}


LIVE, TRASH = "live", "trash"


def document_state(status: str) -> str:
    """The listing partition of a document status: the trash or the live documents."""
    return TRASH if status in ("deleted", "purging") else LIVE


def document_name_key(name: str, doc: str) -> str:
    return f"{name.lower()}#{doc}"


def folder_listing_pk(ws: str, state: str, folder: str) -> str:
    return f"FOLDER#{ws}#{state}#{folder}"


def documents_listing_pk(ws: str, state: str) -> str:
    return f"DOCS#{ws}#{state}"


def tag_listing_pk(ws: str, state: str, tag: str) -> str:
    return f"DOCTAG#{ws}#{state}#{tag}"


def document_listing_keys(ws: str, doc: str, *, name: str, folder: str, status: str) -> dict[str, str]:
    """The GSI attributes of a document item (gsi1 by folder, gsi2 by workspace)."""
    state, name_key = document_state(status), document_name_key(name, doc)
    return {
        "gsi1pk": folder_listing_pk(ws, state, folder),
        "gsi1sk": name_key,
        "gsi2pk": documents_listing_pk(ws, state),
        "gsi2sk": name_key,
    }


TRASH_INDEX_PK = "TRASH"  # gsi4: every trashed document of the deployment, oldest first


def trash_index_keys(deleted_at: str, doc: str) -> dict[str, str]:
    """The sparse gsi4 attributes a trashed document carries (and a live one never does)."""
    return {"gsi4pk": TRASH_INDEX_PK, "gsi4sk": f"{deleted_at}#{doc}"}


def document_tag(doc: str, tag: str) -> Key:
    return {"pk": document_pk(doc), "sk": f"TAG#{tag}"}


def tag_prefix() -> str:
    return "TAG#"


def version(doc: str, version_id: str) -> Key:
    return {"pk": document_pk(doc), "sk": f"VER#{version_id}"}


def version_prefix() -> str:
    return "VER#"


def upload(upload_id: str) -> Key:
    return {"pk": f"UPLOAD#{upload_id}", "sk": "UPLOAD"}


def uploader_pk(ws: str, user_id: str) -> str:
    """gsi1 partition of one member's upload sessions in one workspace (aborted when they lose the role)."""
    return f"UPLOADER#{ws}#{user_id}"


LINK_PREFIX = "LINK#"


def link(token_hash: str) -> Key:
    return {"pk": f"{LINK_PREFIX}{token_hash}", "sk": "LINK"}


VERIFY_PREFIX = "VERIFY#"


def link_verification(token_hash: str, address_id: str) -> Key:
    """One address's code, try count, flood window and grant on one link (``sharing.recipients``).

    It lives in the link's partition (the public function may touch only ``LINK#`` partitions),
    keyed by a MAC of the address under the link's token, so the table never names an address
    that asked for a code and an item of one link is never found from another.
    """
    return {"pk": f"{LINK_PREFIX}{token_hash}", "sk": f"{VERIFY_PREFIX}{address_id}"}


def link_ref(doc: str, share_id: str) -> Key:
    """A document's record of one of its links (token hash, pinned or not), written with the link.

    It lives in the document's partition so a strongly consistent Query finds every link the
    document has: the document-shares index (gsi2) is eventually consistent and may miss a new one.
    """
    return {"pk": document_pk(doc), "sk": f"{LINK_PREFIX}{share_id}"}


def share_pk(share_id: str) -> str:
    return f"SHARE#{share_id}"


def document_shares_pk(doc: str) -> str:
    return f"DOCSHARES#{doc}"


def workspace_links_pk(ws: str) -> str:
    """gsi3 partition of a workspace's links (items created before it existed lack it)."""
    return f"WSLINKS#{ws}"


ADMIN_AUDIT = "admin"
AUDIT_PREFIX = "AUDIT#"


def audit_pk(ws: str | None) -> str:
    return f"{AUDIT_PREFIX}{ws or ADMIN_AUDIT}"


def audit_document_pk(doc: str) -> str:
    return f"AUDITDOC#{doc}"


def audit_share_pk(share_id: str) -> str:
    return f"AUDITSHARE#{share_id}"


# --- explicit folders (docuserve.folders) -------------------------------------------------------
# | folder | ``FOLDERS#{ws}`` | ``{path}`` | | | |
# One partition per workspace holds its explicit folders, sorted by path, so every folder is one
# paged Query and a folder's subfolders are a ``begins_with(sk, "{path}/")`` Query. Documents do not
# need a folder item: their own ``folder`` implies it (and its parents).

FOLDERS_PREFIX = "FOLDERS#"


def folders_pk(ws: str) -> str:
    """The partition of a workspace's explicit folders."""
    return f"{FOLDERS_PREFIX}{ws}"


def folder(ws: str, path: str) -> Key:
    """One explicit folder, by its normalised path (``/a/b``; the root ``/`` has no item)."""
    return {"pk": folders_pk(ws), "sk": path}


def subfolder_prefix(path: str) -> str:
    """The sort-key prefix of every folder below ``path``."""
    return f"{path.rstrip('/')}/"


# --- mail preferences (docuserve.notify) --------------------------------------------------------
# | preferences | ``NOTIFY#{user}`` | ``PREFS`` | | | |
# A prefix of its own, so a function that only reads preferences (the public one, to honour a
# link creator's "link downloaded" choice) can be granted exactly these items.

NOTIFY_PREFIX = "NOTIFY#"


def notification_preferences(user_id: str) -> Key:
    """One user's mail preferences (absent: every mail on)."""
    return {"pk": f"{NOTIFY_PREFIX}{user_id}", "sk": "PREFS"}


# --- upload requests (docuserve.upload_requests) ------------------------------------------------
# | upload request | ``LINK#{sha256(token)}`` | ``REQUEST`` | | | ``WSREQUESTS#{ws}`` / ``{created_at}#{req}`` |
# | request pointer | ``REQUEST#{req}`` | ``REQUEST`` | | | |
# | deployment settings | ``SETTINGS#deployment`` | ``SETTINGS`` | | | |
# The request item lives in a ``LINK#`` partition like a share link (its token follows the same
# rules; the public function reads it with the one GetItem it uses for links) but under its own
# sort key, so a share token can never name a request or the other way round. While open it
# carries the sparse gsi4 keys ``OPEN_REQUESTS`` / ``{expires_at}#{req}`` (the admins' inventory).
# | files-arrived mail due | ``LINK#{sha256(token)}`` | ``ARRIVALS_DUE`` | | | | sparse gsi4 ``ARRIVALS_DUE`` / ``{due_at}#{req}`` while a mail is owed
# A request whose "files arrived" mail must wait for the hour to pass has this marker in its own
# partition (``docuserve.upload_requests.arrivals``); the request item cannot carry it, its gsi4
# is the inventory's, and a closed request must still get its due mail.

REQUEST_SK = "REQUEST"
REQUEST_PREFIX = "REQUEST#"
SETTINGS_PREFIX = "SETTINGS#"
OPEN_REQUESTS_PK = "OPEN_REQUESTS"


def upload_request(token_hash: str) -> Key:
    """An upload request, found by its token's hash (the partner's only handle on it)."""
    return {"pk": f"{LINK_PREFIX}{token_hash}", "sk": REQUEST_SK}


ARRIVALS_DUE_SK = "ARRIVALS_DUE"
ARRIVALS_DUE_PK = "ARRIVALS_DUE"  # gsi4: requests owing a "files arrived" mail, soonest due first


def arrivals_due(request_pk: str) -> Key:
    """The marker of a request (by its item's ``pk``) that owes its requester a mail later."""
    return {"pk": request_pk, "sk": ARRIVALS_DUE_SK}


def arrivals_due_index_keys(due_at: str, request_id: str) -> dict[str, str]:
    """The sparse gsi4 attributes a marker carries while its mail is owed (the sweep removes them)."""
    return {"gsi4pk": ARRIVALS_DUE_PK, "gsi4sk": f"{due_at}#{request_id}"}


def upload_request_pointer(request_id: str) -> Key:
    """Members reach a request by its id: this item names its token's hash."""
    return {"pk": f"{REQUEST_PREFIX}{request_id}", "sk": REQUEST_SK}


def workspace_requests_pk(ws: str) -> str:
    """gsi3 partition of a workspace's upload requests, newest last by ``{created_at}#{req}``."""
    return f"WSREQUESTS#{ws}"


def open_request_index_keys(expires_at: str, request_id: str) -> dict[str, str]:
    """The sparse gsi4 attributes an open request carries (closing removes them)."""
    return {"gsi4pk": OPEN_REQUESTS_PK, "gsi4sk": f"{expires_at}#{request_id}"}


def audit_request_pk(request_id: str) -> str:
    return f"AUDITREQUEST#{request_id}"


def deployment_settings() -> Key:
    """Deployment-wide switches an admin sets (``PUT /admin/settings``)."""
    return {"pk": f"{SETTINGS_PREFIX}deployment", "sk": "SETTINGS"}


# Partition prefixes a role's LeadingKeys condition names (``infra/functions.py``), derived from the
# builders above so they cannot drift from them.
WORKSPACE_PREFIX = workspace_pk("")
DOCUMENT_PREFIX = document_pk("")
UPLOAD_PREFIX = upload("")["pk"]


# --- the audit chain (docuserve.audit_chain) ----------------------------------------------------
# | chain head | ``CHAIN#{ws}`` | ``HEAD`` | | | | sparse gsi4 ``CHAIN_UNSIGNED`` / ``{ws}`` until checkpointed
# | chain link | ``CHAIN#{ws}`` | ``SEQ#{seq:012d}`` | | | |
# | chain marker | ``CHAIN#{ws}`` | ``EVENT#{event}`` | | | |
# | checkpoint | ``CHAIN#{ws}`` | ``CHECKPOINT#{seq:012d}`` | | | |
# A partition of its own per workspace, so the audit-stream function's grant names only it.

CHAIN_PREFIX = "CHAIN#"
CHAIN_LINK_PREFIX = "SEQ#"
CHAIN_CHECKPOINT_PREFIX = "CHECKPOINT#"
UNSIGNED_HEADS_PK = "CHAIN_UNSIGNED"  # gsi4: heads that moved since their last checkpoint
MAX_CHAIN_SEQ = 10**12 - 1


def chain_pk(ws: str) -> str:
    return f"{CHAIN_PREFIX}{ws}"


def chain_head(ws: str) -> Key:
    return {"pk": chain_pk(ws), "sk": "HEAD"}


def chain_seq_sk(prefix: str, seq: int) -> str:
    """A link's or checkpoint's sort key: zero-padded so the partition sorts by seq."""
    return f"{prefix}{seq:012d}"


def chain_link(ws: str, seq: int) -> Key:
    return {"pk": chain_pk(ws), "sk": chain_seq_sk(CHAIN_LINK_PREFIX, seq)}


def chain_marker(ws: str, event_id: str) -> Key:
    """Written with the link of ``event_id``: a second append of the same event finds it and stops."""
    return {"pk": chain_pk(ws), "sk": f"EVENT#{event_id}"}


def chain_checkpoint(ws: str, seq: int) -> Key:
    return {"pk": chain_pk(ws), "sk": chain_seq_sk(CHAIN_CHECKPOINT_PREFIX, seq)}


def unsigned_head_index_keys(ws: str) -> dict[str, str]:
    """The sparse gsi4 attributes a chain head carries from an append until a checkpoint covers it."""
    return {"gsi4pk": UNSIGNED_HEADS_PK, "gsi4sk": ws}
