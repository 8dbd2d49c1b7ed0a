"""A fake ``/users/track`` for the import and replay tests: records requests, answers by script."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from engagekit.imports.track import ApiResponse, TransportError

Answer = Callable[[dict[str, Any]], ApiResponse | Exception]


def ok(body: dict[str, Any]) -> ApiResponse:
    """Braze's success answer with its counts (braze-api.md §1.1)."""
    return ApiResponse(
        201,
        {},
        {
            "message": "success",
            "attributes_processed": len(body.get("attributes", [])),
            "events_processed": len(body.get("events", [])),
            "purchases_processed": len(body.get("purchases", [])),
        },
    )


class FakeTrack:
    """Answers each request with ``script`` entries in turn (then ``default``); keeps every request."""

    def __init__(self, *script: ApiResponse | Exception | Answer, default: Answer = ok) -> None:
        self.script = list(script)
        self.default = default
        self.requests: list[tuple[str, str, Any]] = []

    def request(self, method: str, path: str, body: Any = None) -> ApiResponse:
        self.requests.append((method, path, body))
        step: ApiResponse | Exception | Answer = self.script.pop(0) if self.script else self.default
        if callable(step) and not isinstance(step, ApiResponse | Exception):
            step = step(body)
        if isinstance(step, Exception):
            raise step
        return step

    @property
    def bodies(self) -> list[dict[str, Any]]:
        return [body for _, _, body in self.requests]


def down() -> TransportError:
    return TransportError("connection refused")
