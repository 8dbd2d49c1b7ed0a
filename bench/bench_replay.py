"""Replay throughput (issue 3, issue 8): the Online Retail 3-day sample through ``/users/track``.

Measured against an in-process :class:`LocalPlatform` served on loopback HTTP (the path
``engagekit replay`` takes against ``engagekit local``): rows/s, requests/s, objects/s, wall time,
and how much of the wall time the ``users_track`` handler itself took. Beside it, the floor
measured in the same run: the client alone (read, map, batch and JSON-encode every request) with
no server, i.e. the fastest a replay could go.

Run: ``python -m bench.bench_replay`` (prints JSON). Skips (``{"skipped": reason}``) when the data
(``../shared/data`` or ``ENGAGEKIT_DATA_DIR``) or the ``/users/track`` route is absent.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DAY_AFTER_SAMPLE = datetime(2010, 12, 4, tzinfo=UTC)


def _sample() -> Path | str:
    data_dir = Path(os.environ.get("ENGAGEKIT_DATA_DIR", ROOT.parent / "shared" / "data"))
    path = data_dir / "online-retail" / "sample-2010-12-01-to-03.csv"
    return path if path.exists() else f"Online Retail sample not found at {path} (set ENGAGEKIT_DATA_DIR)"


class _NullTransport:
    """Answers every request with success after JSON-encoding it, as a client must."""

    def __init__(self) -> None:
        self.bytes = 0

    def request(self, method: str, path: str, body: Any = None) -> Any:
        from engagekit.imports.track import ApiResponse

        self.bytes += len(json.dumps(body, separators=(",", ":")))
        return ApiResponse(201, {}, {"message": "success"})


def client_floor(path: Path) -> dict[str, Any]:
    """The replay with no server: reading, mapping, batching and encoding only."""
    from engagekit.replay import read_records, replay

    null = _NullTransport()
    started = time.perf_counter()
    summary = replay(read_records(path), null)
    wall = time.perf_counter() - started
    return {
        "wall_s": round(wall, 3),
        "rows_per_s": round(summary.rows / wall, 1),
        "requests": summary.requests,
        "request_bytes_mean": round(null.bytes / max(1, summary.requests)),
    }


def through_platform(path: Path) -> dict[str, Any]:
    """The replay over loopback HTTP into an in-process LocalPlatform (clock at 2010-12-04)."""
    from engagekit.clock import ScaledClock
    from engagekit.imports.track import HttpTransport
    from engagekit.replay import read_records, replay

    from infra.local.runtime import LocalPlatform

    class TimedPlatform(LocalPlatform):
        handler_s = 0.0
        _lock = threading.Lock()

        def invoke(self, function: str, event: Any) -> Any:
            if function != "users_track":
                return super().invoke(function, event)
            started = time.perf_counter()
            try:
                return super().invoke(function, event)
            finally:
                with self._lock:
                    TimedPlatform.handler_s += time.perf_counter() - started

    with TimedPlatform(clock=ScaledClock(1.0, start=DAY_AFTER_SAMPLE), api_port=0, aws_port=0) as platform:
        assert platform.api_key
        transport = HttpTransport(platform.api_url, platform.api_key)
        try:
            summary = replay(read_records(path), transport)
        finally:
            transport.close()
    objects = summary.purchases + summary.events + summary.attributes
    return {
        "rows": summary.rows,
        "requests": summary.requests,
        "objects": objects,
        "customers": summary.customers,
        "anonymous": summary.anonymous,
        "purchases": summary.purchases,
        "events": summary.events,
        "errors": summary.errors,
        "wall_s": round(summary.elapsed_s, 3),
        "rows_per_s": round(summary.rows_per_s, 1),
        "requests_per_s": round(summary.requests_per_s, 2),
        "objects_per_s": round(objects / summary.elapsed_s, 1),
        "ms_per_request": round(summary.elapsed_s / max(1, summary.requests) * 1000, 1),
        "handler_s": round(TimedPlatform.handler_s, 3),
        "handler_share_of_wall": round(TimedPlatform.handler_s / summary.elapsed_s, 3),
    }


def run() -> dict[str, Any]:
    """``{"platform": {...}, "floor_client_only": {...}}`` or ``{"skipped": reason}``."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    sample = _sample()
    if isinstance(sample, str):
        return {"skipped": sample}
    from infra.manifest import MANIFEST

    if not any(route.path == "/users/track" for route, _ in MANIFEST.routes()):
        return {"skipped": "/users/track is not in infra/manifest.py yet"}
    floor = client_floor(sample)
    platform = through_platform(sample)
    return {
        "data": sample.name,
        "platform": platform,
        "floor_client_only": floor,
        "platform_vs_floor": round(floor["rows_per_s"] / max(platform["rows_per_s"], 1e-9), 1),
        "note": "platform: loopback HTTP into an in-process LocalPlatform on moto, sequential requests; "
        "floor: the same replay with no server (read, map, batch, JSON-encode)",
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
