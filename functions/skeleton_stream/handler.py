"""Walking skeleton: the skeleton table's stream enqueues a work message per new ping."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from engagekit import skeleton
from engagekit.config import FunctionSettings, load_settings
from engagekit.observability import logger, metrics, tracer

processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


class Settings(FunctionSettings):
    skeleton_queue_url: str


def record_handler(record: DynamoDBRecord) -> None:
    skeleton.enqueue_new_pings(load_settings(Settings).skeleton_queue_url, [record.raw_event])


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
