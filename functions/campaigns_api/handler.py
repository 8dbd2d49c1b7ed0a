"""Campaign and frequency-capping definitions: ``PUT/GET /campaigns/{campaign_id}`` and
``PUT/GET /frequency_caps/{cap_id}`` (docs/campaigns.md); thin handler over engagekit.campaigns.manage."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from engagekit.api import json_body, make_resolver, require
from engagekit.campaigns import manage
from engagekit.campaigns.store import DefinitionsSettings, DefinitionStore, definitions_from_settings
from engagekit.config import load_settings
from engagekit.liquid import Renderer
from engagekit.observability import logger, metrics, tracer

app = make_resolver()
_ports: dict[str, Any] = {}


def store() -> DefinitionStore:
    if "store" not in _ports:
        _ports["store"] = definitions_from_settings(load_settings(DefinitionsSettings))
    return _ports["store"]  # type: ignore[no-any-return]


def renderer() -> Renderer:
    if "renderer" not in _ports:
        _ports["renderer"] = Renderer()
    return _ports["renderer"]  # type: ignore[no-any-return]


@app.put("/campaigns/<campaign_id>", middlewares=[require("campaigns.update")])
def put_campaign(campaign_id: str) -> tuple[dict[str, Any], int]:
    body, created = manage.put_campaign(campaign_id, json_body(app), store(), renderer())
    return body, 201 if created else 200


@app.get("/campaigns/<campaign_id>", middlewares=[require("campaigns.details")])
def get_campaign(campaign_id: str) -> dict[str, Any]:
    return manage.get_definition("campaign", campaign_id, store())


@app.put("/frequency_caps/<cap_id>", middlewares=[require("frequency_caps.update")])
def put_cap(cap_id: str) -> tuple[dict[str, Any], int]:
    body, created = manage.put_frequency_cap(cap_id, json_body(app), store())
    return body, 201 if created else 200


@app.get("/frequency_caps/<cap_id>", middlewares=[require("frequency_caps.details")])
def get_cap(cap_id: str) -> dict[str, Any]:
    return manage.get_definition("frequency_cap", cap_id, store())


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
