"""The send_sms queue consumer: the send pipeline of engagekit.channels.sender for each message,
with per-record failures (batchItemFailures) so one message's retry never repeats the others."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.typing import LambdaContext
from engagekit.channels.service import record_handler
from engagekit.observability import logger, metrics, tracer

processor = BatchProcessor(event_type=EventType.SQS)
handle_record = record_handler("send_sms")


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_partial_response(
        event=event, record_handler=handle_record, processor=processor, context=context
    )
