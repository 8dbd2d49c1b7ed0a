"""Walking skeleton: the state machine's task marks a ping done; the schedule counts ticks."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from engagekit import skeleton
from engagekit.config import FunctionSettings, load_settings
from engagekit.observability import logger, metrics, tracer


class Settings(FunctionSettings):
    skeleton_table: str


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    table = load_settings(Settings).skeleton_table
    if event.get("tick"):
        return {"ticks": skeleton.tick(table)}
    return skeleton.mark_done(table, str(event["id"]))
