"""Helpers for the segment integration tests on the local runtime."""

from __future__ import annotations

import sys
from datetime import datetime
from typing import Any

from engagekit.segments.service import SegmentsService
from engagekit.segments.timer_store import DynamoTimers

from infra.local.runtime import LocalPlatform


def put(
    platform: LocalPlatform, segment_id: str, filter: dict[str, Any], name: str | None = None
) -> dict[str, Any]:
    """``PUT /segments/{id}``; asserts 200/201 and returns the body."""
    status, _, out = platform.request(
        "PUT", f"/segments/{segment_id}", {"name": name or segment_id, "filter": filter}
    )
    assert status in (200, 201), out
    assert isinstance(out, dict)
    return out


def track(platform: LocalPlatform, body: dict[str, Any]) -> None:
    """``POST /users/track`` (asserts 201), then drain the stream."""
    status, _, out = platform.request("POST", "/users/track", body)
    assert status == 201, out
    platform.run_until_idle()


def braze_id(platform: LocalPlatform, external_id: str) -> str:
    status, _, out = platform.request(
        "POST", "/users/export/ids", {"external_ids": [external_id], "fields_to_export": ["braze_id"]}
    )
    assert status == 200 and len(out["users"]) == 1, out
    return str(out["users"][0]["braze_id"])


def members(platform: LocalPlatform, segment_id: str, limit: int = 100) -> set[str]:
    """External ids (or user ids) of every member, walking ``GET /segments/{id}/users`` pages."""
    found: set[str] = set()
    cursor = ""
    while True:
        status, _, out = platform.request(
            "GET", f"/segments/{segment_id}/users?limit={limit}&cursor={cursor}"
        )
        assert status == 200, out
        found |= {u["external_id"] or u["user_id"] for u in out["users"]}
        if not out["next_cursor"]:
            return found
        cursor = out["next_cursor"]


def timers_of(platform: LocalPlatform, user_id: str) -> dict[str, datetime]:
    return DynamoTimers(platform.refs[("table", "segment_timers", "name")]).for_user(user_id)


def segments_service(platform: LocalPlatform) -> SegmentsService:
    """The segments_api function's warm service (to swap a port in a test)."""
    platform.registry.handler("segments_api")
    module: Any = sys.modules["engagekit_functions.segments_api"]
    svc = module.service()
    assert isinstance(svc, SegmentsService)
    return svc


def iso(instant: datetime) -> str:
    return instant.isoformat().replace("+00:00", "Z")
