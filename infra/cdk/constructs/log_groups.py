"""The one way the app creates a CloudWatch log group (retention and removal set once)."""

from __future__ import annotations

from typing import Final

from aws_cdk import RemovalPolicy
from aws_cdk import aws_logs as logs
from constructs import Construct

RETENTION: Final = logs.RetentionDays.ONE_MONTH


def log_group(scope: Construct, construct_id: str) -> logs.LogGroup:
    """A log group kept :data:`RETENTION` (30 days) and deleted with the stack (logs are not data)."""
    return logs.LogGroup(scope, construct_id, retention=RETENTION, removal_policy=RemovalPolicy.DESTROY)
