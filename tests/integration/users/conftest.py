"""Helpers for the user data API integration tests: reach a function's service (store, exporter)."""

from __future__ import annotations

import sys
from typing import Any

from engagekit.users.service import UsersService

from infra.local.runtime import LocalPlatform


def service_of(platform: LocalPlatform, function: str) -> UsersService:
    """The :class:`UsersService` of ``function``'s warm container (imports it on first use)."""
    platform.registry.handler(function)
    module: Any = sys.modules[f"engagekit_functions.{function}"]
    svc = module.service()
    assert isinstance(svc, UsersService)
    return svc


def export(platform: LocalPlatform, **body: Any) -> dict[str, Any]:
    """``POST /users/export/ids`` with ``body``; asserts 200 and returns the JSON body."""
    status, _, out = platform.request("POST", "/users/export/ids", body)
    assert status == 200, out
    assert isinstance(out, dict)
    return out


def user(platform: LocalPlatform, external_id: str, *fields: str) -> dict[str, Any]:
    """The exported user ``external_id`` (all fields, or ``fields``); fails if absent."""
    body: dict[str, Any] = {"external_ids": [external_id]}
    if fields:
        body["fields_to_export"] = list(fields)
    users = export(platform, **body)["users"]
    assert len(users) == 1, users
    found = users[0]
    assert isinstance(found, dict)
    return found


def track(platform: LocalPlatform, body: dict[str, Any], status: int = 201) -> dict[str, Any]:
    """``POST /users/track``; asserts ``status`` and returns the JSON body."""
    got, _, out = platform.request("POST", "/users/track", body)
    assert got == status, out
    assert isinstance(out, dict)
    return out
