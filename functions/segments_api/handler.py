"""Segments API: definitions (PUT/GET/DELETE /segments/{segment_id}), Braze's /segments/list and
/segments/details, members (GET /segments/{segment_id}/users) and POST /users/export/segment.

Thin handler over :mod:`engagekit.segments.service` (docs/segments.md "Managing segments").
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from engagekit.api import json_body, make_resolver, require
from engagekit.config import load_settings
from engagekit.observability import logger, metrics, tracer
from engagekit.segments import service as use_case
from engagekit.segments.service import SegmentsService, SegmentsSettings, service_from_settings

app = make_resolver()
_service: list[SegmentsService] = []


def service() -> SegmentsService:
    """The container's service, built on first use from the environment."""
    if not _service:
        _service.append(service_from_settings(load_settings(SegmentsSettings)))
    return _service[0]


def _query(name: str) -> str | None:
    return app.current_event.get_query_string_value(name)


# Literal routes first: Powertools (like API Gateway) must not read "list" as a segment id.
@app.get("/segments/list", middlewares=[require("segments.list")])
def list_segments() -> dict[str, Any]:
    return use_case.list_segments(service(), _query("page"), _query("sort_direction"))


@app.get("/segments/details", middlewares=[require("segments.details")])
def segment_details() -> dict[str, Any]:
    return use_case.segment_details(service(), _query("segment_id"))


@app.put("/segments/<segment_id>", middlewares=[require("segments.write")])
def put_segment(segment_id: str) -> tuple[dict[str, Any], int]:
    body, created = use_case.put_segment(service(), segment_id, json_body(app))
    return body, 201 if created else 200


@app.get("/segments/<segment_id>", middlewares=[require("segments.details")])
def get_segment(segment_id: str) -> dict[str, Any]:
    return use_case.get_segment(service(), segment_id)


@app.delete("/segments/<segment_id>", middlewares=[require("segments.write")])
def delete_segment(segment_id: str) -> tuple[dict[str, Any], int]:
    return use_case.delete_segment(service(), segment_id), 202


@app.get("/segments/<segment_id>/users", middlewares=[require("segments.users")])
def segment_users(segment_id: str) -> dict[str, Any]:
    return use_case.segment_users(service(), segment_id, _query("cursor"), _query("limit"))


@app.post("/users/export/segment", middlewares=[require("users.export.segment")])
def export_segment() -> dict[str, Any]:
    return use_case.export_segment(service(), json_body(app))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
