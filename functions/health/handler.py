"""GET /health: the platform is up and the caller's key is valid."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from engagekit import __version__, clock
from engagekit.api import make_resolver, require
from engagekit.observability import logger, metrics, tracer

app = make_resolver()


@app.get("/health", middlewares=[require(None)])
def health() -> dict[str, Any]:
    return {"status": "ok", "version": __version__, "time": clock.utc_iso(clock.now())}


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
