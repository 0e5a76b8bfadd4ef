"""Logger, metrics and tracer wiring shared by every function.

JSON logs carry the API Gateway request id as correlation id; metrics go to the ``DocuServe``
namespace; X-Ray tracing is active in Lambda and disabled locally by environment.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

Handler = Callable[[dict[str, Any], LambdaContext], Any]

logger = Logger()
metrics = Metrics()
tracer = Tracer()


def api_entry(resolve: Callable[[dict[str, Any], LambdaContext], dict[str, Any]]) -> Handler:
    """Wrap an API resolver's ``resolve`` with correlation-id logging, metrics and tracing."""

    @logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, log_event=False)
    @metrics.log_metrics(raise_on_empty_metrics=False)
    @tracer.capture_lambda_handler(capture_response=False)
    def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        return resolve(event, context)

    return handler


def event_entry(process: Handler) -> Handler:
    """Wrap a non-HTTP handler (S3/SQS events) with logging, metrics and tracing."""

    @logger.inject_lambda_context(log_event=False)
    @metrics.log_metrics(raise_on_empty_metrics=False)
    @tracer.capture_lambda_handler(capture_response=False)
    def handler(event: dict[str, Any], context: LambdaContext) -> Any:
        return process(event, context)

    return handler


class BusinessMetric:
    """Names of the business metrics (namespace ``DocuServe``) the dashboard and alarms read."""

    UPLOADS_COMPLETED = "UploadsCompleted"
    UPLOADS_FAILED = "UploadsFailed"
    LINKS_CREATED = "LinksCreated"
    PARTNER_DOWNLOADS = "PartnerDownloads"
    MEMBER_DOWNLOADS = "MemberDownloads"
    LINK_LOCKOUTS = "LinkLockouts"


def count(name: str, value: int = 1) -> None:
    """Add ``value`` to the business metric ``name`` (flushed when the invocation ends)."""
    from aws_lambda_powertools.metrics import MetricUnit

    metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
