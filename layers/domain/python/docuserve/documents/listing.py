"""Reading documents: one document with its versions, and pages of a folder, a tag or a workspace."""

from __future__ import annotations

from typing import Any

from docuserve import keys
from docuserve.access import document_access, workspace_access
from docuserve.adapters.store import Page, Store
from docuserve.identity import Caller
from docuserve.records import Document, Version

FILL_ROUNDS = 5  # Queries per list request when filters thin out a page
VERSIONS_SHOWN = 100


def get(caller: Caller, document_id: str) -> tuple[Document, list[Version]]:
    """The document and its newest versions (every version of every status, newest first)."""
    store = Store()
    doc = document_access(caller, document_id, store=store).document
    page = store.query(keys.document_pk(document_id), sk_prefix=keys.version_prefix(), limit=1000, consistent=True)
    versions = sorted((Version.from_item(i) for i in page.items), key=lambda v: v.number, reverse=True)
    return doc, versions[:VERSIONS_SHOWN]


def list_documents(
    caller: Caller,
    workspace_id: str,
    *,
    folder: str | None,
    tag: str | None,
    q: str | None,
    trash: bool,
    limit: int,
    cursor: str | None,
) -> tuple[list[Document], str | None]:
    """One page of documents, by name, using Query on gsi1 (folder), gsi2 (all) or gsi3 (tag)."""
    workspace_access(caller, workspace_id)
    state = keys.TRASH if trash else keys.LIVE
    filters: list[str] = []
    names: dict[str, str] = {}
    values: dict[str, Any] = {}
    if q:
        filters.append("contains(name_lower, :q)")
        values[":q"] = q.lower()
    if tag is not None:
        index, partition = "gsi3", keys.tag_listing_pk(workspace_id, state, tag)
        if folder is not None:
            filters.append("#folder = :folder")
            names["#folder"], values[":folder"] = "folder", folder
    elif folder is not None:
        index, partition = "gsi1", keys.folder_listing_pk(workspace_id, state, folder)
    else:
        index, partition = "gsi2", keys.documents_listing_pk(workspace_id, state)
    store = Store()
    found: list[dict[str, Any]] = []
    for _ in range(FILL_ROUNDS):
        page: Page = store.query(
            partition,
            index=index,
            limit=limit - len(found),
            cursor=cursor,
            filter_expression=" AND ".join(filters) or None,
            names=names or None,
            expression_values=values or None,
        )
        found += page.items
        cursor = page.next_cursor
        if len(found) >= limit or not cursor:
            break
    if tag is not None:
        docs = []
        for start in range(0, len(found), 100):
            chunk = found[start : start + 100]
            docs += store.get_many([keys.document(i["document_id"]) for i in chunk], consistent=False)
        found = [d for d in docs if d is not None]
    return [Document.from_item(i) for i in found], cursor
