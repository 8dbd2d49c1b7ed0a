"""POST /users/track and /users/track/sync (braze-api.md §1.1): thin handler over engagekit.users.track."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from engagekit.api import json_body, make_resolver, require
from engagekit.config import load_settings
from engagekit.observability import logger, metrics, tracer
from engagekit.users import track as use_case
from engagekit.users.service import UsersService, UsersSettings, service_from_settings

app = make_resolver()
_service: list[UsersService] = []


def service() -> UsersService:
    """The container's service, built on first use from the environment."""
    if not _service:
        _service.append(service_from_settings(load_settings(UsersSettings)))
    return _service[0]


@app.post("/users/track", middlewares=[require("users.track")])
def users_track() -> tuple[dict[str, Any], int]:
    outcome = use_case.track(json_body(app), service())
    return use_case.track_response(outcome), 201


@app.post("/users/track/sync", middlewares=[require("users.track.sync")])
def users_track_sync() -> tuple[dict[str, Any], int]:
    return use_case.track_sync(json_body(app), service()), 201


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
