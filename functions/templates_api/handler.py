"""Template API (issue 5, docs/liquid.md "API"): stored templates, content blocks, Connected Content
credentials and previews; a thin handler over engagekit.templates.use_cases."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from engagekit.api import json_body, make_resolver, require
from engagekit.config import load_settings
from engagekit.observability import logger, metrics, tracer
from engagekit.templates import use_cases
from engagekit.templates.models import (
    ContentBlockDefinition,
    CredentialDefinition,
    RenderBody,
    TemplateDefinition,
)
from engagekit.templates.service import TemplatesService, TemplatesSettings, service_from_settings

app = make_resolver()
_service: list[TemplatesService] = []


def service() -> TemplatesService:
    """The container's service, built on first use from the environment."""
    if not _service:
        _service.append(service_from_settings(load_settings(TemplatesSettings)))
    return _service[0]


@app.post("/templates/render", middlewares=[require("templates.render")])
def render() -> dict[str, Any]:
    return use_cases.render(service(), RenderBody.model_validate(json_body(app)))


@app.put("/templates/<template_id>", middlewares=[require("templates.update")])
def put_template(template_id: str) -> tuple[dict[str, Any], int]:
    body = TemplateDefinition.model_validate(json_body(app))
    return use_cases.put_template(service(), template_id, body)


@app.get("/templates/<template_id>", middlewares=[require("templates.info")])
def get_template(template_id: str) -> dict[str, Any]:
    return use_cases.get_template(service(), template_id)


@app.put("/content_blocks/<name>", middlewares=[require("content_blocks.update")])
def put_content_block(name: str) -> tuple[dict[str, Any], int]:
    body = ContentBlockDefinition.model_validate(json_body(app))
    return use_cases.put_content_block(service(), name, body)


@app.get("/content_blocks/<name>", middlewares=[require("content_blocks.info")])
def get_content_block(name: str) -> dict[str, Any]:
    return use_cases.get_content_block(service(), name)


@app.put(
    "/connected_content/credentials/<name>", middlewares=[require("connected_content.credentials.update")]
)
def put_credential(name: str) -> tuple[dict[str, Any], int]:
    body = CredentialDefinition.model_validate(json_body(app))
    return use_cases.put_credential(service(), name, body)


@app.get("/connected_content/credentials/<name>", middlewares=[require("connected_content.credentials.info")])
def get_credential(name: str) -> dict[str, Any]:
    return use_cases.get_credential(service(), name)


@app.delete(
    "/connected_content/credentials/<name>", middlewares=[require("connected_content.credentials.delete")]
)
def delete_credential(name: str) -> dict[str, Any]:
    return use_cases.delete_credential(service(), name)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
