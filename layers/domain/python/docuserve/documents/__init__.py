"""Documents: create with an upload, read with versions, list, edit, trash, restore, purge, download.

Every write that touches a document's listing keys or tag items is one transaction conditioned on
the document's ``revision`` (and bumps it), so concurrent edits never leave tag items or listing
keys out of step with the document. After each change that a share link copies, the sharing
feature is told (``sharing.links.document_changed``).

The package: ``items`` (the storage layout), ``create``, ``versions``, ``listing``, ``lifecycle``
(edit, trash, restore, purge) and ``download``. Logic returns records (``docuserve.records``);
the routers map them to response models.
"""

from __future__ import annotations

from docuserve.documents.create import create
from docuserve.documents.download import download
from docuserve.documents.items import DELETED, PURGED, PURGING, document_item, tag_item
from docuserve.documents.lifecycle import purge, purge_trashed, restore, trash, update
from docuserve.documents.listing import get, list_documents
from docuserve.documents.release import release
from docuserve.documents.restore_version import restore_version
from docuserve.documents.versions import new_version

__all__ = [
    "DELETED",
    "PURGED",
    "PURGING",
    "create",
    "document_item",
    "download",
    "get",
    "list_documents",
    "new_version",
    "purge",
    "purge_trashed",
    "release",
    "restore",
    "restore_version",
    "tag_item",
    "trash",
    "update",
]
