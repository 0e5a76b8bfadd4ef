"""Routes of the public function (see `docuserve.routes`): the partner page and redemption.

Cold start matters here: this module imports only the resolver and the redemption logic; the S3
client is created on the first download. The ``token`` path parameter is a secret: no code path
logs the event, the path or the token (errors name "the link", never the token).
"""

from __future__ import annotations

import logging
from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Body

from docuserve.api import build_resolver
from docuserve.observability import api_entry
from docuserve.sharing import redeem
from docuserve.sharing.models import DownloadGrant, DownloadRequest, PublicShare

app = build_resolver()
# Powertools' resolver logs route arguments (here: the token) at DEBUG; never let it, whatever the level.
logging.getLogger("aws_lambda_powertools.event_handler").setLevel(logging.INFO)


def _visitor() -> redeem.Visitor:
    event = app.current_event
    return redeem.Visitor(
        ip=event.request_context.identity.source_ip, user_agent=event.headers.get("user-agent") or None
    )


@app.get("/public/shares/<token>")
def show(token: str) -> PublicShare:
    link = redeem.public_info(token)
    return PublicShare(**link.__dict__)


@app.post("/public/shares/<token>/download")
def download(token: str, body: Annotated[DownloadRequest | None, Body()] = None) -> DownloadGrant:
    grant = redeem.redeem(token, body.password if body else None, _visitor())
    return DownloadGrant(url=grant.url, expires_at=grant.expires_at)


handler = api_entry(app.resolve)
