"""Audit checkpoints: an EventBridge schedule runs the audit-checkpoints function every 15 minutes.

Each run signs the head of every audit chain that moved since its last checkpoint
(``docuserve.audit_checkpoints``, ``docs/audit-chain.md``). A missed or failed run only delays the
next checkpoint (the heads stay listed), so EventBridge retries delivery twice and Lambda never
re-runs a failed invocation: the next scheduled run does the same work.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

EVERY = Duration.minutes(15)


class AuditCheckpoints(Construct):
    def __init__(self, scope: Construct, id: str, *, handler: lambda_.IFunction) -> None:
        super().__init__(scope, id)
        self.rule = events.Rule(
            self,
            "Schedule",
            description="DocuServe: sign the audit chain heads that moved (checkpoints)",
            schedule=events.Schedule.rate(EVERY),
        )
        self.rule.add_target(targets.LambdaFunction(handler, retry_attempts=2, max_event_age=Duration.minutes(15)))
        handler.configure_async_invoke(retry_attempts=0)
