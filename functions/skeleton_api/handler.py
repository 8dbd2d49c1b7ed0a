"""Walking skeleton: POST /skeleton/ping {"id": ...} and GET /skeleton/ping/{ping_id}."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from engagekit import skeleton
from engagekit.api import json_body, make_resolver, require
from engagekit.config import FunctionSettings, load_settings
from engagekit.observability import logger, metrics, tracer


class Settings(FunctionSettings):
    skeleton_table: str


app = make_resolver()


@app.post("/skeleton/ping", middlewares=[require(None)])
def create() -> tuple[dict[str, Any], int]:
    body = json_body(app)
    ping_id = body.get("id")
    return skeleton.create_ping(
        load_settings(Settings).skeleton_table, ping_id if isinstance(ping_id, str) else ""
    ), 201


@app.get("/skeleton/ping/<ping_id>", middlewares=[require(None)])
def read(ping_id: str) -> dict[str, Any]:
    return skeleton.get_ping(load_settings(Settings).skeleton_table, ping_id)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
