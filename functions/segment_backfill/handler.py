"""The task of the ``segment_backfill`` state machine: plan, page and finish segment jobs
(builds of new/edited segments, drops of deleted ones, segment exports); see
:mod:`engagekit.segments.jobs`."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from engagekit import clock
from engagekit.observability import logger, metrics, tracer
from engagekit.segments import jobs
from engagekit.segments.runtime import workers


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return jobs.handle(workers().runner, event, clock.now())
