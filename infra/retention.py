"""Trash retention: an EventBridge schedule runs the trash-sweeper function once a day.

A run purges what it can within its timeout and leaves the rest for the next run, so a missed or
cut-short run only delays purging by a day. EventBridge retries an invocation it could not deliver;
Lambda itself never retries a run that failed: a run fails on purpose, after purging what it could,
so the errors alarm fires, and two automatic re-runs would only repeat the same failure.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

# 03:17 UTC: outside office hours in most time zones, off the top of the hour.
SCHEDULE = events.Schedule.cron(minute="17", hour="3")


class TrashRetention(Construct):
    def __init__(self, scope: Construct, id: str, *, handler: lambda_.IFunction) -> None:
        super().__init__(scope, id)
        self.rule = events.Rule(
            self,
            "Daily",
            description="DocuServe: purge documents kept in the trash longer than limits.trash_days",
            schedule=SCHEDULE,
        )
        self.rule.add_target(targets.LambdaFunction(handler, retry_attempts=2, max_event_age=Duration.hours(6)))
        handler.configure_async_invoke(retry_attempts=0)
