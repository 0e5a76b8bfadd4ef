"""Why a partner cannot upload through a request right now: each answer has its own stable code."""

from __future__ import annotations

from docuserve.errors import Conflict, Forbidden, Gone, PayloadTooLarge


class UploadRequestsDisabled(Forbidden):
    """An admin turned upload requests off for the deployment (``PUT /admin/settings``)."""

    code = "upload_requests_disabled"


class RequestExpired(Gone):
    code = "request_expired"


class RequestClosed(Gone):
    """The requester closed it, or an admin revoked it."""

    code = "request_closed"


class RequestFull(Conflict):
    """Every file the request allows has been started (uploads still running may free some)."""

    code = "request_full"


class RequestBytesExceeded(PayloadTooLarge):
    """This file would pass the bytes the request still allows."""

    code = "request_bytes_exceeded"


class RequesterUnavailable(Gone):
    """The member who asked no longer holds the editor role in the workspace."""

    code = "request_unavailable"
