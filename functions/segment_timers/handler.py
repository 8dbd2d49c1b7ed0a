"""The segment timer sweep: every 60 s, fire the timers that fell due (issue 4).

Reads only due timers (a GSI Query per timer shard, no Scan) and re-evaluates each (user,
segment) through :meth:`engagekit.segments.updater.MembershipUpdater.sweep`, in rounds of
:data:`ROUND` timers while the invocation has time left; what remains waits for the next run.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from engagekit import clock
from engagekit.observability import logger, metrics, tracer
from engagekit.segments.runtime import workers

ROUND = 1000
RESERVE_MS = 5000
"""Stop starting rounds when less than this much of the invocation's time is left."""


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    updater = workers().updater
    fired = entered = exited = rounds = 0
    while True:
        rounds += 1
        out = updater.sweep(clock.now(), ROUND)
        fired, entered, exited = fired + out.fired, entered + len(out.entered), exited + len(out.exited)
        remaining = context.get_remaining_time_in_millis() if context is not None else RESERVE_MS + 1
        if not out.more or remaining < RESERVE_MS:
            break
    logger.info("segment timer sweep", extra={"fired": fired, "entered": entered, "exited": exited})
    return {"fired": fired, "entered": entered, "exited": exited, "rounds": rounds}
