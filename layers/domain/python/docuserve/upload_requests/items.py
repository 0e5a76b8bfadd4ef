"""The upload request's storage layout and the members' record of it (keys from ``docuserve.keys``).

- request (``keys.upload_request``, in the token hash's ``LINK#`` partition): folder, terms,
  budgets (``max_files``, ``max_bytes``) and their counters (``files_used``, ``bytes_used``:
  reserved when a partner's upload starts, given back when it fails, is aborted or expires),
  ``status`` (``open`` | ``closed``), the password hash and lockout fields (as share links), the
  gsi3 keys of its workspace's list and, while open, the sparse gsi4 keys of the admins' inventory;
- pointer (``keys.upload_request_pointer``): the token hash, so members reach a request by its id.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from docuserve import clock, keys

OPEN, CLOSED = "open", "closed"
TIDY_DAYS = 30  # the item's TTL after expiry (every upload it admitted has long been decided by then)


@dataclass(frozen=True)
class UploadRequest:
    """A request as its workspace's editors see it: never the token, its hash or the password hash."""

    id: str
    workspace_id: str
    folder: str
    state: str  # open | expired | closed
    expires_at: str
    password_required: bool
    max_files: int
    max_bytes: int
    max_file_size: int | None
    allowed_types: tuple[str, ...]
    files_used: int  # reserved: uploads started and not given back (failed, aborted, expired)
    bytes_used: int
    files_remaining: int
    bytes_remaining: int
    label: str | None
    message: str | None
    created_at: str
    created_by: str
    updated_at: str
    updated_by: str
    closed_at: str | None
    closed_by: str | None
    locked_until: str | None = None
    recipients: tuple[str, ...] = ()


def state_of(item: dict[str, Any], now_epoch: int) -> str:
    if item.get("status") == CLOSED:
        return CLOSED
    if int(item["expires_epoch"]) <= now_epoch:
        return "expired"
    return OPEN


def remaining(item: dict[str, Any]) -> tuple[int, int]:
    """Files and bytes still allowed (never negative)."""
    files = int(item["max_files"]) - int(item.get("files_used", 0))
    size = int(item["max_bytes"]) - int(item.get("bytes_used", 0))
    return max(files, 0), max(size, 0)


def view_of(item: dict[str, Any], now_epoch: int | None = None) -> UploadRequest:
    now_epoch = clock.epoch(clock.now()) if now_epoch is None else now_epoch
    files_remaining, bytes_remaining = remaining(item)
    locked = item.get("locked_until_epoch")
    return UploadRequest(
        id=item["request_id"],
        workspace_id=item["workspace_id"],
        folder=item["folder"],
        state=state_of(item, now_epoch),
        expires_at=item["expires_at"],
        password_required=bool(item.get("password_hash")),
        max_files=int(item["max_files"]),
        max_bytes=int(item["max_bytes"]),
        max_file_size=int(item["max_file_size"]) if item.get("max_file_size") is not None else None,
        allowed_types=tuple(item.get("allowed_types") or ()),
        files_used=int(item.get("files_used", 0)),
        bytes_used=int(item.get("bytes_used", 0)),
        files_remaining=files_remaining,
        bytes_remaining=bytes_remaining,
        label=item.get("label"),
        message=item.get("message"),
        created_at=item["created_at"],
        created_by=item["created_by"],
        updated_at=item.get("updated_at", item["created_at"]),
        updated_by=item.get("updated_by", item["created_by"]),
        closed_at=item.get("closed_at"),
        closed_by=item.get("closed_by"),
        locked_until=item.get("locked_until") if locked and int(locked) > now_epoch else None,
        recipients=tuple(item.get("recipients") or ()),
    )


def pointer_item(request_id: str, workspace_id: str, token_hash: str, ttl: int) -> dict[str, Any]:
    return {
        **keys.upload_request_pointer(request_id),
        "type": "upload_request_pointer",
        "request_id": request_id,
        "workspace_id": workspace_id,
        "token_hash": token_hash,
        "ttl": ttl,
    }


def type_allowed(essence: str, allowed: list[str] | tuple[str, ...]) -> bool:
    """Whether a media type's essence (``type/subtype``) is one of ``allowed`` (``type/*`` covers a type)."""
    if not allowed:
        return True
    kind = essence.split("/", 1)[0]
    return any(a == essence or (a.endswith("/*") and a[:-2] == kind) for a in allowed)
