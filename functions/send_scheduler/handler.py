"""Every minute: fire due scheduled sends and put due held messages back on their queues
(engagekit.campaigns.scheduler). An EventBridge rule in the cloud; the local runtime's scheduler
locally."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from engagekit.campaigns import scheduler
from engagekit.campaigns.service import CampaignsService, CampaignsSettings, service_from_settings
from engagekit.config import load_settings
from engagekit.observability import logger, metrics, tracer

_service: list[CampaignsService] = []


def service() -> CampaignsService:
    if not _service:
        _service.append(service_from_settings(load_settings(CampaignsSettings)))
    return _service[0]


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return scheduler.run_due(service())
