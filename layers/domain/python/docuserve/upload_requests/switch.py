"""The deployment-wide switch for upload requests (``GET/PUT /admin/settings``).

One settings item (``keys.deployment_settings``). The public routes of upload requests read it on
every call, in the same BatchGetItem as the request itself, so turning the feature off stops every
open request on its next call; uploads whose bytes are already on their way still land (the
switch refuses new uploads, part URLs and completions, not the processing of bytes S3 accepted).
Absent: on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from docuserve import audit, clock, keys
from docuserve.adapters.store import Store
from docuserve.audit import Actor, AuditEvent
from docuserve.errors import Forbidden
from docuserve.identity import Caller


@dataclass(frozen=True)
class DeploymentSettings:
    upload_requests: bool = True
    updated_at: str | None = None
    updated_by: str | None = None


def of_item(item: dict[str, Any] | None) -> DeploymentSettings:
    item = item or {}
    return DeploymentSettings(
        upload_requests=item.get("upload_requests") is not False,
        updated_at=item.get("updated_at"),
        updated_by=item.get("updated_by"),
    )


def _admin(caller: Caller) -> None:
    if not caller.is_admin:
        raise Forbidden("deployment settings are for administrators")


def read(caller: Caller, *, store: Store | None = None) -> DeploymentSettings:
    _admin(caller)
    return of_item((store or Store()).get(keys.deployment_settings()))


def change(caller: Caller, *, upload_requests: bool | None, store: Store | None = None) -> DeploymentSettings:
    """Set the named switches (audited in the admin trail); the settings after the change."""
    _admin(caller)
    store = store or Store()
    if upload_requests is None:
        return of_item(store.get(keys.deployment_settings()))
    at = clock.iso(clock.now())
    event = AuditEvent("settings.changed", Actor.member(caller), details={"upload_requests": upload_requests})
    item = {
        **keys.deployment_settings(),
        "type": "settings",
        "upload_requests": upload_requests,
        "updated_at": at,
        "updated_by": caller.user_id,
    }
    store.transact([{"Put": {"Item": item}}, audit.put_action(event)])
    return of_item(item)
