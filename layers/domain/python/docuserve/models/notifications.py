"""Request and response models of ``/me/notifications`` (``docuserve.notify``)."""

from __future__ import annotations

from pydantic import StrictBool

from docuserve.models.base import Body, Model


class NotificationPreferences(Model):
    """Which mails the caller gets (each on until they turn it off)."""

    link_downloaded: bool  # "your link was downloaded" (at most hourly per link)
    threat_found: bool  # malware found in a workspace they own (and, for admins, anywhere)
    files_arrived: bool  # files arrived through their upload requests


class NotificationPreferencesBody(Body):
    """``PUT``: the choices to change (true or false, JSON booleans only); the others stay."""

    link_downloaded: StrictBool | None = None
    threat_found: StrictBool | None = None
    files_arrived: StrictBool | None = None
