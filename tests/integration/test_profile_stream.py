"""profile_stream on the local runtime: /users/track -> profiles stream -> memberships and timers,
and the timer sweep flipping time-window memberships when the clock passes their boundary."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from engagekit.domain.profile import Profile
from engagekit.profiles.store import encode_profile

from infra.local.runtime import LocalPlatform
from tests.integration.segments.helpers import braze_id, iso, members, put, timers_of, track


def purchase(external_id: str, at: datetime, product: str = "sku-1") -> dict[str, Any]:
    return {
        "purchases": [
            {
                "external_id": external_id,
                "product_id": product,
                "currency": "USD",
                "price": 5.0,
                "time": iso(at),
            }
        ]
    }


def test_a_tracked_attribute_makes_the_user_a_member(platform: LocalPlatform) -> None:
    # given a live segment on plan = pro
    put(
        platform,
        "ps-pro",
        {"custom_attribute": {"custom_attribute_name": "plan", "comparison": "equals", "value": "pro"}},
    )
    platform.run_until_idle()
    # when two users are tracked, one matching
    track(
        platform,
        {"attributes": [{"external_id": "ps-a", "plan": "pro"}, {"external_id": "ps-b", "plan": "free"}]},
    )
    # then only the match is a member, and the count says so
    assert members(platform, "ps-pro") == {"ps-a"}
    assert platform.request("GET", "/segments/ps-pro")[2]["size"] == 1
    # when the member's plan changes, then it leaves
    track(platform, {"attributes": [{"external_id": "ps-a", "plan": "free"}]})
    assert members(platform, "ps-pro") == set()


@dataclass
class Window:
    name: str
    filter: dict[str, Any]
    bought_ago: timedelta
    drops_at: Any  # (purchase instant) -> instant the membership ends


WINDOWS = [
    Window(
        "last_purchase less than 7 days ago: 7 x 24 h after the purchase",
        {"last_purchase": {"comparison": "less_than_x_days_ago", "value": 7}},
        timedelta(hours=3),
        lambda bought: bought + timedelta(days=7),
    ),
    Window(
        "purchases in the last 7 UTC days: midnight UTC when the day leaves the window",
        {"purchase_count": {"comparison": "greater_than", "value": 0, "days": 7}},
        timedelta(hours=3),
        lambda bought: datetime(bought.year, bought.month, bought.day, tzinfo=UTC) + timedelta(days=7),
    ),
]


@pytest.mark.parametrize("case", WINDOWS, ids=lambda c: c.name)
def test_a_purchased_in_the_last_7_days_membership_drops_by_itself(
    platform: LocalPlatform, case: Window
) -> None:
    # given a segment and a user who bought a little while ago
    sid = f"ps-week-{WINDOWS.index(case)}"
    user = f"ps-buyer-{WINDOWS.index(case)}"
    put(platform, sid, case.filter)
    platform.run_until_idle()
    bought = platform.clock.now() - case.bought_ago
    track(platform, purchase(user, bought))
    assert members(platform, sid) == {user}
    # then a timer waits at the exact instant the answer flips
    drops = case.drops_at(bought)
    assert timers_of(platform, braze_id(platform, user))[sid] == drops
    # when the clock reaches a minute before the boundary, the user is still in
    platform.advance((drops - platform.clock.now()).total_seconds() - 60)
    assert members(platform, sid) == {user}
    # when the clock passes the boundary (the sweep runs every 60 s), the membership drops
    platform.advance(120)
    assert members(platform, sid) == set()
    assert sid not in timers_of(platform, braze_id(platform, user))


def test_membership_of_a_segment_cascades_and_time_flips_follow(platform: LocalPlatform) -> None:
    # given vip = pro AND bought in the last 7 days
    put(
        platform,
        "ps-vip-pro",
        {"custom_attribute": {"custom_attribute_name": "tier", "comparison": "equals", "value": "pro"}},
    )
    put(platform, "ps-vip-buy", {"last_purchase": {"comparison": "less_than_x_days_ago", "value": 7}})
    put(
        platform,
        "ps-vip",
        {"AND": [{"segment": {"segment_id": "ps-vip-pro"}}, {"segment": {"segment_id": "ps-vip-buy"}}]},
    )
    platform.run_until_idle()
    # when a pro user buys
    track(platform, {"attributes": [{"external_id": "ps-v", "tier": "pro"}]})
    assert members(platform, "ps-vip") == set()
    track(platform, purchase("ps-v", platform.clock.now()))
    # then the user is in vip; and leaves it when the purchase ages out
    assert members(platform, "ps-vip") == {"ps-v"}
    platform.advance(7 * 86400 + 60)
    assert members(platform, "ps-vip") == set()
    assert members(platform, "ps-vip-pro") == {"ps-v"}


def test_deleting_a_user_removes_memberships_and_timers(platform: LocalPlatform) -> None:
    # given a user in a plan segment and in a purchase window (with a timer)
    put(
        platform,
        "ps-del-plan",
        {"custom_attribute": {"custom_attribute_name": "plan", "comparison": "equals", "value": "gold"}},
    )
    put(
        platform,
        "ps-del-buy",
        {"last_purchase": {"comparison": "less_than_x_days_ago", "value": 30, "product_id": "del-sku"}},
    )
    platform.run_until_idle()
    track(
        platform,
        {
            **purchase("ps-d", platform.clock.now(), "del-sku"),
            "attributes": [{"external_id": "ps-d", "plan": "gold"}],
        },
    )
    uid = braze_id(platform, "ps-d")
    assert members(platform, "ps-del-plan") == members(platform, "ps-del-buy") == {"ps-d"}
    assert "ps-del-buy" in timers_of(platform, uid)
    # when the user is deleted
    status, _, out = platform.request("POST", "/users/delete", {"external_ids": ["ps-d"]})
    assert status == 202, out
    platform.run_until_idle()
    # then no membership, no count and no timer is left
    assert members(platform, "ps-del-plan") == members(platform, "ps-del-buy") == set()
    assert platform.request("GET", "/segments/ps-del-buy")[2]["size"] == 0
    assert timers_of(platform, uid) == {}


def _record(seq: str, image: dict[str, Any]) -> dict[str, Any]:
    return {
        "eventID": f"e{seq}",
        "eventName": "INSERT",
        "eventSource": "aws:dynamodb",
        "dynamodb": {"SequenceNumber": seq, "Keys": {"user_id": image["user_id"]}, "NewImage": image},
    }


def test_a_bad_record_is_reported_alone_and_the_rest_of_the_batch_is_applied(platform: LocalPlatform) -> None:
    # given a segment, a batch with an undecodable image between two good ones
    put(
        platform,
        "ps-batch",
        {"custom_attribute": {"custom_attribute_name": "team", "comparison": "equals", "value": "red"}},
    )
    platform.run_until_idle()
    good = []
    for uid in ("5f0c2a9e1b3d4c5e6f700001", "5f0c2a9e1b3d4c5e6f700002"):
        profile = Profile(user_id=uid, created_at=platform.clock.now(), custom_attributes={"team": "red"})
        doc, _ = encode_profile(profile)
        good.append({"user_id": {"S": uid}, "version": {"N": "1"}, "doc": {"S": doc}})
    bad = {"user_id": {"S": "5f0c2a9e1b3d4c5e6f700003"}, "version": {"N": "1"}, "doc": {"S": "{not json"}}
    event = {"Records": [_record("101", good[0]), _record("102", bad), _record("103", good[1])]}
    # when the stream function gets the batch
    result = platform.invoke("profile_stream", event)
    # then only the bad record is reported, and both good ones were applied
    assert result == {"batchItemFailures": [{"itemIdentifier": "102"}]}
    assert members(platform, "ps-batch") >= {"5f0c2a9e1b3d4c5e6f700001", "5f0c2a9e1b3d4c5e6f700002"}
