"""Identity and deletion endpoints of the user data API (braze-api.md §1.2-§1.5): thin handler over
engagekit.users.identities."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from engagekit.api import json_body, make_resolver, require
from engagekit.config import load_settings
from engagekit.observability import logger, metrics, tracer
from engagekit.users import identities as use_case
from engagekit.users import models
from engagekit.users.service import UsersService, UsersSettings, service_from_settings

app = make_resolver()
_service: list[UsersService] = []


def service() -> UsersService:
    """The container's service, built on first use from the environment."""
    if not _service:
        _service.append(service_from_settings(load_settings(UsersSettings)))
    return _service[0]


@app.post("/users/identify", middlewares=[require("users.identify")])
def identify() -> tuple[dict[str, Any], int]:
    return use_case.identify(models.IdentifyRequest.model_validate(json_body(app)), service()), 201


@app.post("/users/alias/new", middlewares=[require("users.alias.new")])
def alias_new() -> tuple[dict[str, Any], int]:
    return use_case.alias_new(models.AliasNewRequest.model_validate(json_body(app)), service()), 201


@app.post("/users/alias/update", middlewares=[require("users.alias.update")])
def alias_update() -> tuple[dict[str, Any], int]:
    return use_case.alias_update(models.AliasUpdateRequest.model_validate(json_body(app)), service()), 202


@app.post("/users/merge", middlewares=[require("users.merge")])
def merge() -> tuple[dict[str, Any], int]:
    return use_case.merge(models.MergeRequest.model_validate(json_body(app)), service()), 202


@app.post("/users/delete", middlewares=[require("users.delete")])
def delete() -> tuple[dict[str, Any], int]:
    return use_case.delete(models.DeleteRequest.model_validate(json_body(app)), service()), 202


@app.post("/users/external_ids/rename", middlewares=[require("users.external_ids.rename")])
def rename() -> tuple[dict[str, Any], int]:
    return use_case.rename(models.RenameRequest.model_validate(json_body(app)), service()), 202


@app.post("/users/external_ids/remove", middlewares=[require("users.external_ids.remove")])
def remove() -> tuple[dict[str, Any], int]:
    return use_case.remove(models.RemoveRequest.model_validate(json_body(app)), service()), 202


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
