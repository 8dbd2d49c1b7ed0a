"""POST /users/export/ids (braze-api.md §1.6): thin handler over engagekit.users.export."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from engagekit.api import json_body, make_resolver, require
from engagekit.config import load_settings
from engagekit.observability import logger, metrics, tracer
from engagekit.users import export as use_case
from engagekit.users.models import ExportIdsRequest
from engagekit.users.service import UsersService, UsersSettings, service_from_settings

app = make_resolver()
_service: list[UsersService] = []


def service() -> UsersService:
    """The container's service, built on first use from the environment."""
    if not _service:
        _service.append(service_from_settings(load_settings(UsersSettings)))
    return _service[0]


@app.post("/users/export/ids", middlewares=[require("users.export.ids")])
def export_ids() -> dict[str, Any]:
    return use_case.export_ids(ExportIdsRequest.model_validate(json_body(app)), service())


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
