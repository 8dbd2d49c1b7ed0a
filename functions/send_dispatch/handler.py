"""The send run's Lambda task (infra/statemachines/send_run.asl.json): resolve, enqueue a unit,
seal, poll. Thin handler over engagekit.campaigns.dispatch.run_task."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from engagekit.campaigns import dispatch
from engagekit.campaigns.service import CampaignsService, CampaignsSettings, service_from_settings
from engagekit.config import load_settings
from engagekit.observability import logger, metrics, tracer

_service: list[CampaignsService] = []


def service() -> CampaignsService:
    if not _service:
        _service.append(service_from_settings(load_settings(CampaignsSettings)))
    return _service[0]


def install(svc: CampaignsService | None) -> None:
    """Use ``svc`` in this container (tests and the bench wrap ports); ``None`` rebuilds it."""
    _service.clear()
    if svc is not None:
        _service.append(svc)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return dispatch.run_task(service(), event)
