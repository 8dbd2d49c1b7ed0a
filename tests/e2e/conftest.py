"""E2E tier: the local runtime on free loopback ports, driven over real HTTP like a user would."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from engagekit.clock import ScaledClock

from infra.local.runtime import LocalPlatform


@dataclass
class Http:
    """A tiny client for the platform's API: ``call("POST", "/users/track", {...})``."""

    base: str
    key: str

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        key: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, str], Any]:
        data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
        hdrs = {"Content-Type": "application/json", **(headers or {})}
        secret = self.key if key is None else key
        if secret:
            hdrs["Authorization"] = f"Bearer {secret}"
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=hdrs)
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                status, out_headers, raw = resp.status, dict(resp.headers), resp.read()
        except urllib.error.HTTPError as exc:
            status, out_headers, raw = exc.code, dict(exc.headers), exc.read()
        try:
            parsed: Any = json.loads(raw) if raw else None
        except ValueError:
            parsed = raw.decode(errors="replace")
        return status, out_headers, parsed


@pytest.fixture(scope="module")
def platform() -> Iterator[LocalPlatform]:
    with LocalPlatform(clock=ScaledClock(1.0), api_port=0, aws_port=0) as running:
        yield running


@pytest.fixture(scope="module")
def http(platform: LocalPlatform) -> Http:
    assert platform.api_key
    return Http(platform.api_url, platform.api_key)
