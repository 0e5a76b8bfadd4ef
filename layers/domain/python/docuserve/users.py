"""User administration for the ``admins`` group: invite, list, disable, enable; each audited.

Disabling keeps the user's memberships: enabling them again restores their access as it was.
Disabling also ends the user's sessions (refresh tokens) and, through ``docuserve.accounts``, their
still-valid ID tokens on every route within a minute.

Invitations: Cognito mails the invitation in AWS. The local stack's Cognito (moto) mails nothing,
so there the invitation also goes through the mail adapter into the local outbox; it says how to
sign in and carries no password (the local console prints the temporary one).
"""

from __future__ import annotations

from docuserve import accounts, audit
from docuserve.adapters import users as directory
from docuserve.adapters.users import User
from docuserve.audit import Actor, AuditEvent
from docuserve.identity import Caller
from docuserve.settings import get_settings

LOCAL_STAGE = "local"  # the stage name of ``make run`` and the tests (local/provision.py)


def invite(caller: Caller, email: str) -> User:
    caller.require_admin()
    user = directory.invite(email)
    audit.record(AuditEvent("user.invited", Actor.member(caller), details={"user_id": user.id, "email": email}))
    settings = get_settings()
    if settings.stage == LOCAL_STAGE:
        from docuserve import messages  # only the local stack renders invitations
        from docuserve.adapters import mail

        invitation = messages.local_invite(email=user.email or email, sign_in_url=f"{settings.web_origin}/")
        mail.send_quietly(user.email or email, invitation.subject, invitation.text, invitation.html, what="invite")
    return user


def list_users(caller: Caller, *, limit: int, cursor: str | None) -> tuple[list[User], str | None]:
    caller.require_admin()
    return directory.list_page(limit=limit, cursor=cursor)


def set_enabled(caller: Caller, user_id: str, *, enabled: bool) -> User:
    caller.require_admin()
    user = directory.set_enabled(user_id, enabled)
    accounts.set_disabled(user.id, not enabled)
    action = "user.enabled" if enabled else "user.disabled"
    audit.record(AuditEvent(action, Actor.member(caller), details={"user_id": user.id, "email": user.email}))
    return user
