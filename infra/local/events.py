"""Loading the canonical sample events in ``events/`` (tests and local invokes use this one helper)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

EVENTS = Path(__file__).resolve().parents[2] / "events"


def load_event(name: str, **overrides: Any) -> Any:
    """The sample ``events/<name>.json`` (e.g. ``"apigw/users_track"``), deep-copied, with top-level
    keys replaced by ``overrides`` (``body=`` for an API event). Raises ``FileNotFoundError``."""
    path = EVENTS / f"{name}.json"
    event = copy.deepcopy(json.loads(path.read_text()))
    if overrides and isinstance(event, dict):
        event.update(overrides)
    return event


def names() -> list[str]:
    """Every sample's name, e.g. ``["apigw/users_track", ...]``."""
    return sorted(str(p.relative_to(EVENTS).with_suffix("")) for p in EVENTS.rglob("*.json"))
