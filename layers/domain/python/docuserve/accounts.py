"""Disabled accounts: an admin's disable reaches every route within ``CHECK_SECONDS``.

Cognito stops a disabled user's sign-in and refresh, but their ID token stays valid for up to an
hour, and API Gateway's authorizer does not ask Cognito. So disabling also writes an account-status
item, and every authenticated route checks it. A function remembers the answer for a caller for
``CHECK_SECONDS``, so steady traffic costs no extra read, and a disable takes effect on every
warm function within that time (SPEC: within 60 s).
"""

from __future__ import annotations

import time

from docuserve import clock, keys
from docuserve.adapters.store import Store
from docuserve.errors import Unauthorized

CHECK_SECONDS = 30.0
_checked: dict[str, tuple[float, bool]] = {}  # user id -> (monotonic time checked, disabled)


def _now() -> float:
    return time.monotonic()


def require_enabled(user_id: str, store: Store | None = None) -> None:
    """401 for a user an admin disabled (as seen at most ``CHECK_SECONDS`` ago)."""
    seen = _checked.get(user_id)
    if seen is None or _now() - seen[0] >= CHECK_SECONDS:
        item = (store or Store()).get(keys.account_status(user_id))
        seen = (_now(), bool(item and item.get("disabled")))
        _checked[user_id] = seen
    if seen[1]:
        raise Unauthorized("this account is disabled")


def set_disabled(user_id: str, disabled: bool, store: Store | None = None) -> None:
    """Record an admin's disable or enable (this function sees it at once, others within the window)."""
    (store or Store()).put(
        {**keys.account_status(user_id), "type": "account_status", "disabled": disabled, "at": clock.iso(clock.now())}
    )
    _checked[user_id] = (_now(), disabled)


def forget() -> None:
    """Drop every remembered answer (tests; a new moto world)."""
    _checked.clear()
