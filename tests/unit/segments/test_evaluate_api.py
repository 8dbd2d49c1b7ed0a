"""The evaluate()/next_flip() entry points: clock default, aware instants, segment memberships."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from engagekit.clock import ManualClock
from engagekit.segments import UnresolvedMembershipError, evaluate, next_flip, parse_filter

from tests.unit.segments.conftest import T0, make_profile

RECENT = parse_filter(
    {
        "last_did_custom_event": {
            "custom_event_name": "played",
            "comparison": "less_than_x_days_ago",
            "value": 1,
        }
    }
)


def test_now_defaults_to_the_injected_clock(manual_clock: ManualClock) -> None:
    profile = make_profile()
    profile.record_event("played", manual_clock.now())
    assert evaluate(RECENT, profile) is True
    flip = next_flip(RECENT, profile)
    assert flip == T0 + timedelta(days=1)
    manual_clock.set(flip)
    assert evaluate(RECENT, profile) is False
    assert next_flip(RECENT, profile) is None


def test_naive_now_is_rejected() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        evaluate(RECENT, make_profile(), datetime(2026, 1, 1))


def test_segment_membership_from_a_set_or_a_callable() -> None:
    tree = parse_filter(
        {"AND": [{"segment": {"segment_id": "vip"}}, {"NOT": {"segment": {"segment_id": "churned"}}}]}
    )
    profile = make_profile()
    assert evaluate(tree, profile, T0, memberships={"vip"}) is True
    assert evaluate(tree, profile, T0, memberships={"vip", "churned"}) is False
    assert evaluate(tree, profile, T0, memberships=lambda sid: sid == "vip") is True


def test_segment_membership_needs_a_lookup() -> None:
    with pytest.raises(UnresolvedMembershipError, match="'vip'"):
        evaluate(parse_filter({"segment": {"segment_id": "vip"}}), make_profile(), T0)
