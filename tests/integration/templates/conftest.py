"""Helpers for the template API integration tests: calls with status checks, the function's service."""

from __future__ import annotations

import sys
from typing import Any

from engagekit.templates import TemplatesService

from infra.local.runtime import LocalPlatform


def service_of(platform: LocalPlatform) -> TemplatesService:
    """The :class:`TemplatesService` of the ``templates_api`` warm container (imported on first use)."""
    platform.registry.handler("templates_api")
    module: Any = sys.modules["engagekit_functions.templates_api"]
    svc = module.service()
    assert isinstance(svc, TemplatesService)
    return svc


def call(
    platform: LocalPlatform,
    method: str,
    path: str,
    body: Any = None,
    status: int = 200,
    key: str | None = None,
) -> dict[str, Any]:
    """``method path`` with ``body``; asserts ``status`` and returns the JSON object answered."""
    got, _, out = platform.request(method, path, body, key=key)
    assert got == status, (got, out)
    assert isinstance(out, dict)
    return out


def render(platform: LocalPlatform, status: int = 200, **body: Any) -> dict[str, Any]:
    """``POST /templates/render`` with ``body``; asserts ``status``."""
    return call(platform, "POST", "/templates/render", body, status)


def track_user(platform: LocalPlatform, external_id: str, **attributes: Any) -> None:
    """Create or update user ``external_id`` through ``/users/track``."""
    call(platform, "POST", "/users/track", {"attributes": [{"external_id": external_id, **attributes}]}, 201)
