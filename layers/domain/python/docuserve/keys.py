# ruff: noqa: E501  (the layout table below is wider than a line)
"""The single-table layout: every item's keys are built here and nowhere else.

| item | pk | sk | gsi1 (pk / sk) | gsi2 (pk / sk) | gsi3 (pk / sk) |
|---|---|---|---|---|---|
| workspace | ``WS#{ws}`` | ``WS`` | | | |
| membership | ``WS#{ws}`` | ``MEMBER#{user}`` | ``USER#{user}`` / ``WS#{ws}`` | | |
| document | ``DOC#{doc}`` | ``DOC`` | (documents issue: listing by folder) | (listing by name) | |
| document tag | ``DOC#{doc}`` | ``TAG#{tag}`` | | | (listing by tag) |
| version | ``DOC#{doc}`` | ``VER#{version}`` | | | |
| upload | ``UPLOAD#{upload}`` | ``UPLOAD`` | | | |
| share link | ``LINK#{sha256(token)}`` | ``LINK`` | ``SHARE#{share}`` / ``SHARE`` | ``DOCSHARES#{doc}`` / ``{created_at}`` | |
| audit event | ``AUDIT#{ws or "admin"}`` | ``{at}#{event}`` | | ``AUDITDOC#{doc}`` / ``{at}#{event}`` | ``AUDITSHARE#{share}`` / ``{at}#{event}`` |

Ids of documents, uploads, versions and shares start with their workspace id (``docuserve.ids``),
so an object and the caller's membership are fetched together in one BatchGetItem.
"""

from __future__ import annotations

Key = dict[str, str]


def workspace(ws: str) -> Key:
    return {"pk": f"WS#{ws}", "sk": "WS"}


def membership(ws: str, user_id: str) -> Key:
    return {"pk": f"WS#{ws}", "sk": f"MEMBER#{user_id}"}


def member_prefix() -> str:
    return "MEMBER#"


def user_workspaces_pk(user_id: str) -> str:
    return f"USER#{user_id}"


def document(doc: str) -> Key:
    return {"pk": f"DOC#{doc}", "sk": "DOC"}


def version(doc: str, version_id: str) -> Key:
    return {"pk": f"DOC#{doc}", "sk": f"VER#{version_id}"}


def version_prefix() -> str:
    return "VER#"


def upload(upload_id: str) -> Key:
    return {"pk": f"UPLOAD#{upload_id}", "sk": "UPLOAD"}


def link(token_hash: str) -> Key:
    return {"pk": f"LINK#{token_hash}", "sk": "LINK"}


def share_pk(share_id: str) -> str:
    return f"SHARE#{share_id}"


def document_shares_pk(doc: str) -> str:
    return f"DOCSHARES#{doc}"


ADMIN_AUDIT = "admin"


def audit_pk(ws: str | None) -> str:
    return f"AUDIT#{ws or ADMIN_AUDIT}"


def audit_document_pk(doc: str) -> str:
    return f"AUDITDOC#{doc}"


def audit_share_pk(share_id: str) -> str:
    return f"AUDITSHARE#{share_id}"
