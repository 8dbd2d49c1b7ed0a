"""SES configuration-set events (delivery, bounce, complaint, open, click, unsubscribe) from the
ses_feedback queue into profiles and Currents; thin handler over engagekit.channels.feedback."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from engagekit.channels import feedback
from engagekit.config import load_settings
from engagekit.observability import logger, metrics, tracer
from engagekit.users.service import UsersService, UsersSettings, service_from_settings

processor = BatchProcessor(event_type=EventType.SQS)
_service: list[UsersService] = []


def service() -> UsersService:
    if not _service:
        _service.append(service_from_settings(load_settings(UsersSettings)))
    return _service[0]


def record_handler(record: SQSRecord) -> None:
    feedback.process_body(record.body, service())


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
