"""The documents feature's storage layout: the document item, its tag items, and the one write
that replaces both (keys from ``docuserve.keys``; versions are laid out by ``docuserve.uploads``).

- document (``keys.document``): the ``records.Document`` fields, the listing keys (gsi1 by
  folder, gsi2 by workspace), the sparse gsi4 keys while in the trash, ``name_lower`` and
  ``revision``;
- document tag (``keys.document_tag``): document id, workspace, tag, folder and ``name_lower``,
  listed by tag on gsi3;
- version (``keys.version``): the ``records.Version`` fields, written by ``uploads.plan`` and made
  available by ``processing``.

Every write that touches the listing keys or the tag items is one transaction conditioned on
the document's ``revision``, and bumps it.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from docuserve import audit, keys
from docuserve.audit import AuditEvent
from docuserve.records import Document

DELETED, PURGING, PURGED = "deleted", "purging", "purged"
_PARTNER_FIELDS = frozenset({"request_id", "uploaded_by_partner"})  # docuserve.upload_requests


def document_item(doc: Document, revision: int) -> dict[str, Any]:
    """The stored document: the record's fields plus keys, listing keys and the revision.

    A trashed document also carries the sparse trash-index keys (gsi4); the item is always
    written whole, so restoring drops them.
    """
    trash_index = keys.trash_index_keys(doc.deleted_at, doc.id) if doc.status == "deleted" and doc.deleted_at else {}
    return {
        **keys.document(doc.id),
        **keys.document_listing_keys(doc.workspace_id, doc.id, name=doc.name, folder=doc.folder, status=doc.status),
        **trash_index,
        "type": "document",
        # A member's document has no request fields at all (not NULL ones).
        **{k: v for k, v in asdict(doc).items() if v is not None or k not in _PARTNER_FIELDS},
        "name_lower": doc.name.lower(),
        "revision": revision,
    }


def tag_item(doc: Document, tag: str) -> dict[str, Any]:
    state = keys.document_state(doc.status)
    return {
        **keys.document_tag(doc.id, tag),
        "type": "document_tag",
        "document_id": doc.id,
        "workspace_id": doc.workspace_id,
        "tag": tag,
        "folder": doc.folder,
        "name_lower": doc.name.lower(),
        "gsi3pk": keys.tag_listing_pk(doc.workspace_id, state, tag),
        "gsi3sk": keys.document_name_key(doc.name, doc.id),
    }


def rewrite(
    doc: Document, revision: int, old_tags: list[str], event: AuditEvent, guard: dict[str, Any]
) -> list[dict[str, Any]]:
    """Transaction actions replacing the document (if still at ``revision``) and its tag items;
    ``guard`` (the caller's role re-checked) goes last."""
    actions: list[dict[str, Any]] = [
        {
            "Put": {
                "Item": document_item(doc, revision + 1),
                "ConditionExpression": "revision = :rev",
                "ExpressionAttributeValues": {":rev": revision},
            }
        }
    ]
    actions += [{"Delete": {"Key": keys.document_tag(doc.id, t)}} for t in old_tags if t not in doc.tags]
    actions += [{"Put": {"Item": tag_item(doc, t)}} for t in doc.tags]
    actions += [audit.put_action(event), guard]
    return actions
