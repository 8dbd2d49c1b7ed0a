"""The profiles table's stream: keeps segment memberships and timers current (issue 4).

Each record's old and new images are decoded into profiles and handed to
:meth:`engagekit.segments.updater.MembershipUpdater.apply_change`; a failed record is reported
in ``batchItemFailures`` (Powertools BatchProcessor), so the mapping retries from it. The
definitions version is checked once per batch. Nothing is sent to Currents (Braze has no
segment-membership event).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from engagekit import clock
from engagekit.observability import logger, metrics, tracer
from engagekit.profiles.store import profile_from_image
from engagekit.segments.runtime import workers

processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


def record_handler(record: DynamoDBRecord) -> None:
    change = record.raw_event.get("dynamodb", {})
    old = profile_from_image(change.get("OldImage"))
    new = profile_from_image(change.get("NewImage"))
    workers().updater.apply_change(old, new, clock.now())


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    workers().updater.definitions.check()
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
