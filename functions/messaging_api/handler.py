"""The messaging API (braze-api.md §2): trigger and message sends, send ids, schedules, and
``GET /dispatches/{dispatch_id}`` (an engagekit extension: a send's target and outcome counts).
Thin handler over engagekit.campaigns.messaging."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from engagekit.api import json_body, make_resolver, require
from engagekit.campaigns import dispatch, messaging
from engagekit.campaigns.service import CampaignsService, CampaignsSettings, service_from_settings
from engagekit.config import load_settings
from engagekit.observability import logger, metrics, tracer

app = make_resolver()
_service: list[CampaignsService] = []


def service() -> CampaignsService:
    """The container's service, built on first use from the environment."""
    if not _service:
        _service.append(service_from_settings(load_settings(CampaignsSettings)))
    return _service[0]


@app.post("/campaigns/trigger/send", middlewares=[require("campaigns.trigger.send")])
def trigger_send() -> tuple[dict[str, Any], int]:
    req = messaging.TriggerSendRequest.model_validate(json_body(app))
    return messaging.trigger_send(req, service()), 201


@app.post("/messages/send", middlewares=[require("messages.send")])
def messages_send() -> tuple[dict[str, Any], int]:
    req = messaging.MessagesSendRequest.model_validate(json_body(app))
    return messaging.messages_send(req, service()), 201


@app.post("/sends/id/create", middlewares=[require("sends.id.create")])
def send_id_create() -> tuple[dict[str, Any], int]:
    req = messaging.SendIdCreateRequest.model_validate(json_body(app))
    return messaging.create_send_id(req, service()), 201


@app.post("/messages/schedule/create", middlewares=[require("messages.schedule.create")])
def messages_schedule_create() -> tuple[dict[str, Any], int]:
    body = json_body(app)
    req = messaging.MessagesScheduleRequest.model_validate(body)
    return messaging.schedule_create("messages", req, body, service()), 201


@app.post("/messages/schedule/update", middlewares=[require("messages.schedule.update")])
def messages_schedule_update() -> tuple[dict[str, Any], int]:
    req = messaging.ScheduleUpdateRequest.model_validate(json_body(app))
    return messaging.schedule_update("messages", req, service()), 201


@app.post("/messages/schedule/delete", middlewares=[require("messages.schedule.delete")])
def messages_schedule_delete() -> tuple[dict[str, Any], int]:
    req = messaging.ScheduleDeleteRequest.model_validate(json_body(app))
    return messaging.schedule_delete("messages", req, service()), 201


@app.post("/campaigns/trigger/schedule/create", middlewares=[require("campaigns.trigger.schedule.create")])
def campaign_schedule_create() -> tuple[dict[str, Any], int]:
    body = json_body(app)
    req = messaging.TriggerScheduleRequest.model_validate(body)
    return messaging.schedule_create("campaign", req, body, service()), 201


@app.post("/campaigns/trigger/schedule/update", middlewares=[require("campaigns.trigger.schedule.update")])
def campaign_schedule_update() -> tuple[dict[str, Any], int]:
    req = messaging.ScheduleUpdateRequest.model_validate(json_body(app))
    return messaging.schedule_update("campaign", req, service()), 201


@app.post("/campaigns/trigger/schedule/delete", middlewares=[require("campaigns.trigger.schedule.delete")])
def campaign_schedule_delete() -> tuple[dict[str, Any], int]:
    req = messaging.ScheduleDeleteRequest.model_validate(json_body(app))
    return messaging.schedule_delete("campaign", req, service()), 201


@app.get("/dispatches/<dispatch_id>", middlewares=[require("sends.data_series")])
def dispatch_status(dispatch_id: str) -> dict[str, Any]:
    return {**dispatch.status(service(), dispatch_id), "message": "success"}


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
