"""Query parameters shared by the member routers (validated by Powertools: bad values are 422)."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query

Limit = Annotated[int, Query(ge=1, le=200, description="page size (default 50, max 200)")]
Cursor = Annotated[str | None, Query(max_length=4096, description="next_cursor of the previous page")]
