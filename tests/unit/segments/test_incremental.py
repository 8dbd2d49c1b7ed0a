"""refresh(): the per-user step the stream handler and the timer sweep run."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from engagekit.segments import (
    DependencyIndex,
    FieldRef,
    changed_fields,
    parse_filter,
    refresh,
)

from tests.unit.segments.conftest import T0, make_profile


def _index(**bodies: dict[str, Any]) -> DependencyIndex:
    return DependencyIndex({sid: parse_filter(body) for sid, body in bodies.items()})


PRO = {"custom_attribute": {"custom_attribute_name": "plan", "comparison": "equals", "value": "pro"}}
RECENT = {
    "last_did_custom_event": {"custom_event_name": "played", "comparison": "less_than_x_days_ago", "value": 7}
}


def test_a_change_evaluates_only_the_segments_reading_it_and_cascades_to_dependents() -> None:
    index = _index(
        pro=PRO,
        active=RECENT,
        pro_not_active={
            "AND": [{"segment": {"segment_id": "pro"}}, {"NOT": {"segment": {"segment_id": "active"}}}]
        },
        unrelated={"custom_attribute": {"custom_attribute_name": "tier", "comparison": "exists"}},
    )
    old = make_profile()
    new = old.model_copy(deep=True)
    new.custom_attributes["plan"] = "pro"

    result = refresh(index, new, T0, memberships=set(), changed=changed_fields(old, new))

    assert result.evaluated == {"pro", "pro_not_active"}
    assert result.entered == {"pro", "pro_not_active"}
    assert result.exited == frozenset()
    assert result.memberships == {"pro", "pro_not_active"}
    assert result.timers == {"pro": None, "pro_not_active": None}


def test_no_cascade_when_membership_does_not_change() -> None:
    index = _index(pro=PRO, uses_pro={"segment": {"segment_id": "pro"}})
    profile = make_profile(custom_attributes={"plan": "pro"})
    result = refresh(
        index,
        profile,
        T0,
        memberships={"pro", "uses_pro"},
        changed={FieldRef("custom_attribute", "plan")},
    )
    assert result.evaluated == {"pro"}
    assert result.entered == result.exited == frozenset()


def test_a_due_timer_re_evaluates_its_segment_and_schedules_none_when_nothing_is_left() -> None:
    index = _index(active=RECENT)
    profile = make_profile()
    profile.record_event("played", T0)

    created = refresh(index, profile, T0, memberships=set(), changed=changed_fields(None, profile))
    assert created.entered == {"active"}
    assert created.timers == {"active": T0 + timedelta(days=7)}

    fired = refresh(
        index, profile, T0 + timedelta(days=7), memberships=created.memberships, due={"active", "gone"}
    )
    assert fired.exited == {"active"}
    assert fired.evaluated == {"active"}
    assert fired.timers == {"active": None}


def test_memberships_of_segments_not_in_the_index_are_kept() -> None:
    index = _index(pro=PRO)
    result = refresh(
        index, make_profile(), T0, memberships={"deleted_segment"}, changed={FieldRef("event", "x")}
    )
    assert result.memberships == {"deleted_segment"}
    assert result.evaluated == frozenset()


def test_cost_does_not_grow_with_the_number_of_segments() -> None:
    bodies = {
        f"s{i}": {"custom_attribute": {"custom_attribute_name": f"a{i}", "comparison": "equals", "value": i}}
        for i in range(1_000)
    }
    index = _index(**bodies)
    old = make_profile()
    new = old.model_copy(deep=True)
    new.custom_attributes["a7"] = 7
    result = refresh(index, new, T0, memberships=set(), changed=changed_fields(old, new))
    assert result.evaluated == {"s7"}
    assert result.memberships == {"s7"}
