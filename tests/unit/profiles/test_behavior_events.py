"""The Currents lines /users/track writes directly (custom events, purchases, profile updates) are the
lines the event models would write: parsed back with the models they are equal field for field to
events built by the Currents builders (braze-api.md §6; docs/currents.md)."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime

import pytest
from engagekit.currents.events import (
    ProfileUpdate,
    UserIds,
    custom_event,
    parse_event,
    purchases,
    user_event,
)
from engagekit.domain.profile import Profile
from engagekit.profiles.behavior_events import UPDATE_SOURCE, events_for
from engagekit.profiles.behaviors import parse_event as parse_event_object
from engagekit.profiles.behaviors import parse_purchase
from engagekit.profiles.changes import UserChanges

NOW = datetime(2026, 3, 1, 12, 0, 5, tzinfo=UTC)
AT = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def _profile(*, external_id: str | None = "ü-1", time_zone: str | None = "Europe/Paris") -> Profile:
    return Profile(user_id="a" * 24, external_id=external_id, time_zone=time_zone, created_at=NOW)


def _changes() -> UserChanges:
    props = {"sku": "é-1", "n": 2, "nested": {"ok": [1, 2.5, None]}}
    when = "2026-03-01T09:30:00Z"
    return UserChanges(
        standard={
            "first_name": "Zoë",
            "dob": date(1990, 5, 17),
            "time_zone": "Europe/Paris",
            "country": None,
        },
        custom={"plan": "pro", "gone": None, "when": "2026-03-01T09:30:00.000Z"},
        events=[
            parse_event_object({"name": "viewed", "time": when, "properties": props, "app_id": "app-1"}, NOW),
            parse_event_object({"name": "searched", "time": when}, NOW),
        ],
        purchases=[
            parse_purchase(
                {
                    "product_id": "sku-9",
                    "currency": "eur",
                    "price": 19.9,
                    "quantity": 3,
                    "time": when,
                    "properties": {"size": "M"},
                },
                NOW,
            )
        ],
    )


def _without_id(line: bytes) -> dict[str, object]:
    event = parse_event(line)  # raises CurrentsSchemaError when the line does not fit its model
    return event.model_dump(exclude={"id"})


@pytest.mark.parametrize(
    ("external_id", "time_zone"), [("ü-1", "Europe/Paris"), (None, None)], ids=["identified", "bare"]
)
def test_direct_lines_equal_the_models_lines(external_id: str | None, time_zone: str | None) -> None:
    profile = _profile(external_id=external_id, time_zone=time_zone)
    changes = _changes()
    user = UserIds.of(profile)
    lines = [e.to_line() for e in events_for(profile, changes, NOW)]

    expected = [
        user_event(
            ProfileUpdate,
            user,
            time=NOW,
            time_ms=int(NOW.timestamp() * 1000),
            update_source=UPDATE_SOURCE,
            first_name="Zoë",
            dob="1990-05-17",
            timezone="Europe/Paris",
            custom_attributes=json.dumps(changes.custom, separators=(",", ":"), ensure_ascii=False),
        ),
        custom_event(user, "viewed", changes.events[0].properties, time=AT, app_id="app-1"),
        custom_event(user, "searched", {}, time=AT),
        *purchases(user, "sku-9", 19.9, "EUR", quantity=3, properties={"size": "M"}, time=AT),
    ]
    assert [_without_id(line) for line in lines] == [e.model_dump(exclude={"id"}) for e in expected]


def test_direct_lines_are_compact_null_free_json_with_fresh_uuid4_ids() -> None:
    lines = [e.to_line() for e in events_for(_profile(external_id=None), _changes(), NOW)]
    assert len(lines) == 1 + 2 + 3  # profile update, two custom events, one Purchase per unit
    records = [json.loads(line) for line in lines]
    assert all(line.endswith(b"\n") and line.count(b"\n") == 1 for line in lines)
    assert all(None not in r.values() and "external_user_id" not in r for r in records)
    ids = [r["id"] for r in records]
    assert len(set(ids)) == len(ids) and all(UUID4.match(i) for i in ids)
    assert [r["event_type"] for r in records] == [e.event_type for e in map(parse_event, lines)]
