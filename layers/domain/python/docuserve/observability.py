"""Logger, metrics and tracer wiring shared by every function.

JSON logs carry the API Gateway request id as correlation id; metrics go to the ``DocuServe``
namespace; X-Ray tracing is active in Lambda and disabled locally by environment.

Cold start: the X-Ray SDK is the most expensive import a function could make (about as much as
creating a boto3 client), so it is imported only where a trace can actually be sent — inside
Lambda with tracing not disabled — and then patches botocore alone (every AWS call becomes a
subsegment; nothing else here speaks HTTP). Elsewhere the handler is not wrapped by a tracer at all.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging import correlation_paths

from docuserve import coldstart

if TYPE_CHECKING:
    from aws_lambda_powertools import Tracer
    from aws_lambda_powertools.utilities.typing import LambdaContext

Handler = Callable[[dict[str, Any], "LambdaContext"], Any]

logger = Logger()
metrics = Metrics()

_TRUTHY = {"1", "true", "yes", "on", "y", "t"}
# The modules the tracer patches: AWS SDK calls only (Powertools' default patches every library
# the X-Ray SDK knows, importing each of them).
TRACED_MODULES = ("botocore",)


def tracing_active(env: dict[str, str] | None = None) -> bool:
    """Whether a trace can be sent: in Lambda (not an emulator) and not disabled by environment."""
    e = os.environ if env is None else env
    if (e.get("POWERTOOLS_TRACE_DISABLED") or "").strip().lower() in _TRUTHY:
        return False
    if e.get("AWS_SAM_LOCAL") or e.get("AWS_CHALICE_CLI_MODE"):
        return False
    return bool(e.get("LAMBDA_TASK_ROOT"))


@cache
def get_tracer() -> Tracer:
    """The process-wide Powertools tracer (imports the X-Ray SDK on first use)."""
    from aws_lambda_powertools import Tracer

    return Tracer(patch_modules=TRACED_MODULES)


def __getattr__(name: str) -> Any:
    # ``observability.tracer`` stays available for code that wants subsegments of its own.
    if name == "tracer":
        return get_tracer()
    raise AttributeError(name)


def _traced(handler: Handler) -> Handler:
    if not tracing_active():
        return handler
    traced: Handler = get_tracer().capture_lambda_handler(handler, capture_response=False)
    return traced


def _ending_cold_start(handler: Handler, *, after_first_answer: bool) -> Handler:
    """``handler``, resuming the garbage collector paused for the cold start (``docuserve.coldstart``).

    API functions resume it once their first request has answered: that request still belongs to
    the cold start (the lazy router, the first boto3 clients) and API Gateway bounds it to 29 s.
    Event functions resume it as their first invocation starts: one may run for 15 minutes
    (``upload_jobs``), far too long to leave cycles uncollected.
    """

    def entry(event: dict[str, Any], context: LambdaContext) -> Any:
        if not after_first_answer:
            coldstart.cold_start_done()
        try:
            return handler(event, context)
        finally:
            coldstart.cold_start_done()

    return entry if coldstart.paused() else handler


def api_entry(resolve: Callable[[dict[str, Any], LambdaContext], dict[str, Any]]) -> Handler:
    """Wrap an API resolver's ``resolve`` with correlation-id logging, metrics and tracing.

    Every request passes ``docuserve.screening`` first (415/422 for bodies no route should see)
    and every answer after (a 204 leaves without a body).
    """

    @logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, log_event=False)
    @metrics.log_metrics(raise_on_empty_metrics=False)
    def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        from docuserve import screening
        from docuserve.cors import add_cors_headers
        from docuserve.settings import get_settings

        answer = screening.screen(event) or resolve(event, context)
        return add_cors_headers(event, screening.frame(answer), get_settings().cors_origins)

    return _ending_cold_start(_traced(handler), after_first_answer=True)


def event_entry(process: Handler) -> Handler:
    """Wrap a non-HTTP handler (S3/SQS events) with logging, metrics and tracing."""

    @logger.inject_lambda_context(log_event=False)
    @metrics.log_metrics(raise_on_empty_metrics=False)
    def handler(event: dict[str, Any], context: LambdaContext) -> Any:
        return process(event, context)

    return _ending_cold_start(_traced(handler), after_first_answer=False)


class BusinessMetric:
    """Names of the business metrics (namespace ``DocuServe``) the dashboard and alarms read."""

    UPLOADS_COMPLETED = "UploadsCompleted"
    UPLOADS_FAILED = "UploadsFailed"
    UPLOADS_INFECTED = "UploadsInfected"
    UPLOADS_UNSCANNABLE = "UploadsUnscannable"
    SCANS_OVERDUE = "ScansOverdue"  # versions with no scan result past the stage's timeout (alarm)
    LINKS_CREATED = "LinksCreated"
    PARTNER_DOWNLOADS = "PartnerDownloads"
    MEMBER_DOWNLOADS = "MemberDownloads"
    LINK_LOCKOUTS = "LinkLockouts"
    DOCUMENTS_EXPIRED = "DocumentsExpiredFromTrash"


def count(name: str, value: int = 1) -> None:
    """Add ``value`` to the business metric ``name`` (flushed when the invocation ends)."""
    from aws_lambda_powertools.metrics import MetricUnit

    metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
