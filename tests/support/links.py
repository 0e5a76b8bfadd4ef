"""Seed workspaces, members and available documents straight into the table (and the bucket),
so the sharing tests depend only on the record contracts in ``docuserve.records``."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

import pytest

from docuserve import clock, ids, keys
from docuserve.adapters import aws
from docuserve.adapters.objects import object_key
from docuserve.adapters.store import Store
from docuserve.roles import Role
from docuserve.settings import get_settings
from tests.support.gateway import claims_for

OWNER = "alice"


def claims(user: str) -> dict[str, str]:
    return claims_for(user, f"{user}@example.com")


@dataclass(frozen=True)
class Seeded:
    workspace_id: str
    document_id: str
    version_id: str
    object_key: str
    content: bytes


def add_member(workspace_id: str, user: str, role: Role) -> None:
    Store().put(
        {
            **keys.membership(workspace_id, user),
            "workspace_id": workspace_id,
            "user_id": user,
            "email": f"{user}@example.com",
            "role": role.value,
        }
    )


def add_version(document_id: str, content: bytes, *, status: str = "available") -> tuple[str, str, str | None]:
    """Put the bytes in the bucket and a version item; returns (version id, object key, S3 version id)."""
    workspace_id = document_id.split(".", 1)[0]
    version_id = ids.new_child_id(workspace_id)
    key = object_key(document_id, version_id)
    put = aws.s3().put_object(Bucket=get_settings().bucket_name, Key=key, Body=content)
    s3_version = put.get("VersionId")
    Store().put(
        {
            **keys.version(document_id, version_id),
            "id": version_id,
            "document_id": document_id,
            "number": 1,
            "object_key": key,
            "size": len(content),
            "sha256": base64.b64encode(hashlib.sha256(content).digest()).decode(),
            "content_type": "application/pdf",
            "status": status,
            "created_at": clock.iso(clock.now()),
            "created_by": OWNER,
            "upload_id": ids.new_child_id(workspace_id),
            "s3_version_id": s3_version,
        }
    )
    return version_id, key, s3_version


def seed(
    *, status: str = "available", name: str = "Launch plan.pdf", content: bytes = b"%PDF-1.7 secret plan"
) -> Seeded:
    """A workspace owned by ``alice`` with one document whose first version has landed."""
    store = Store()
    ws = ids.new_workspace_id()
    doc = ids.new_child_id(ws)
    store.put({**keys.workspace(ws), "id": ws, "name": "Launch"})
    add_member(ws, OWNER, Role.OWNER)
    version_id, key, s3_version = add_version(doc, content)
    now = clock.iso(clock.now())
    store.put(
        {
            **keys.document(doc),
            "id": doc,
            "workspace_id": ws,
            "name": name,
            "folder": "/",
            "content_type": "application/pdf",
            "size": len(content),
            "sha256": "x",
            "status": status,
            "created_at": now,
            "created_by": OWNER,
            "updated_at": now,
            "updated_by": OWNER,
            "current_version": version_id,
            "current_object_key": key,
            "current_s3_version_id": s3_version,
            "version_count": 1,
        }
    )
    return Seeded(workspace_id=ws, document_id=doc, version_id=version_id, object_key=key, content=content)


@pytest.fixture
def fast_passwords(monkeypatch: pytest.MonkeyPatch) -> None:
    """Cheap scrypt parameters for tests that hash many passwords (the unit tests pin the real ones)."""
    from docuserve.sharing import passwords

    monkeypatch.setattr(passwords, "PARAMS", passwords.ScryptParams(n=2**10))
