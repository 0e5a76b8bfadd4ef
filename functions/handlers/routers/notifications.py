"""Member routes: the caller's own mail preferences (``docuserve.notify``)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from docuserve import notify
from docuserve.api import current_caller
from docuserve.errors import InvalidInput
from docuserve.models.notifications import NotificationPreferences, NotificationPreferencesBody

router = APIGatewayRouter()


@router.get("/me/notifications")
def get_notifications() -> NotificationPreferences:
    caller = current_caller(router)
    return NotificationPreferences(**asdict(notify.preferences(caller.user_id)))


@router.put("/me/notifications")
def put_notifications(body: Annotated[NotificationPreferencesBody, Body()]) -> NotificationPreferences:
    """Change the named choices; a field left out keeps its value. The whole set is returned."""
    caller = current_caller(router)
    changes = {name: value for name, value in body.model_dump().items() if value is not None}
    if not changes:
        raise InvalidInput("body", f"name at least one of {', '.join(notify.KINDS)}")
    return NotificationPreferences(**asdict(notify.set_preferences(caller.user_id, changes)))
