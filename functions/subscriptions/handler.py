"""Subscription and email-state endpoints (braze-api.md §8): thin handler over
engagekit.users.subscriptions."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from engagekit.api import json_body, make_resolver, require
from engagekit.config import load_settings
from engagekit.observability import logger, metrics, tracer
from engagekit.users import models
from engagekit.users import subscriptions as use_case
from engagekit.users.service import UsersService, UsersSettings, service_from_settings

app = make_resolver()
_service: list[UsersService] = []


def service() -> UsersService:
    """The container's service, built on first use from the environment."""
    if not _service:
        _service.append(service_from_settings(load_settings(UsersSettings)))
    return _service[0]


def _query() -> dict[str, str]:
    return dict(app.current_event.query_string_parameters or {})


@app.post("/subscription/status/set", middlewares=[require("subscription.status.set")])
def status_set() -> tuple[dict[str, Any], int]:
    body = models.SubscriptionStatusSetRequest.model_validate(json_body(app))
    return use_case.set_group_status(body, service()), 201


@app.get("/subscription/user/status", middlewares=[require("subscription.groups.get")])
def user_status() -> dict[str, Any]:
    return use_case.user_status(use_case.UserStatusQuery.model_validate(_query()), service())


@app.post("/email/status", middlewares=[require("email.status")])
def email_status() -> tuple[dict[str, Any], int]:
    return use_case.email_status(models.EmailStatusRequest.model_validate(json_body(app)), service()), 201


@app.get("/email/unsubscribes", middlewares=[require("email.unsubscribe")])
def unsubscribes() -> dict[str, Any]:
    return use_case.email_list("unsubscribes", use_case.EmailListQuery.model_validate(_query()), service())


@app.get("/email/hard_bounces", middlewares=[require("email.hard_bounces")])
def hard_bounces() -> dict[str, Any]:
    return use_case.email_list("hard_bounces", use_case.EmailListQuery.model_validate(_query()), service())


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
