"""What the documents modules share: loading a document, the role checks, the retry bound."""

from __future__ import annotations

from typing import Any, NoReturn

from docuserve import keys
from docuserve.access import holds_role, refuse_lost_role
from docuserve.adapters.store import Store
from docuserve.errors import NotFound
from docuserve.identity import Caller
from docuserve.records import Document
from docuserve.roles import Role

RETRIES = 5
BEING_PURGED = "the document is being purged"


def editor(caller: Caller, doc: Document) -> dict[str, Any]:
    return holds_role(doc.workspace_id, caller.user_id, Role.EDITOR)


def refuse(caller: Caller, doc: Document, role: Role, what: str) -> NoReturn:
    refuse_lost_role(caller, doc.workspace_id, role, what=what, not_found="document not found")


def load(document_id: str, store: Store) -> tuple[Document, int]:
    item = store.get(keys.document(document_id))
    if item is None:
        raise NotFound("document not found")
    return Document.from_item(item), int(item.get("revision", 0))
