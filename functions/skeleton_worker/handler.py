"""Walking skeleton: each work message starts the state machine and exports an event."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from engagekit import clock, skeleton
from engagekit.config import FunctionSettings, load_settings
from engagekit.observability import logger, metrics, tracer

processor = BatchProcessor(event_type=EventType.SQS)


class Settings(FunctionSettings):
    skeleton_state_machine_arn: str
    currents_stream: str


def record_handler(record: SQSRecord) -> None:
    settings = load_settings(Settings)
    ping_id = json.loads(record.body)["id"]
    skeleton.start_run(settings.skeleton_state_machine_arn, ping_id)
    skeleton.export_event(settings.currents_stream, ping_id, clock.now())


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
