"""The send pipeline on the in-memory path: one outcome per recipient, the right Currents event,
quiet hours and frequency caps in the user's zone (ManualClock), rate limits."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from engagekit.campaigns.inmemory import World
from engagekit.channels.ports import Rejected
from engagekit.clock import ManualClock

from tests.unit.campaigns.conftest import EMAIL, campaign, users


def set_profile(world: World, external_id: str, **fields: Any) -> None:
    uid = world.user_id(external_id)
    profile = world.profiles.get_profiles([uid])[uid]
    for name, value in fields.items():
        setattr(profile, name, value)
    world.profiles.save_profile(profile)


def entry(world: World, dispatch_id: str, user_id: str, step: str = "email") -> Any:
    [found] = [
        e
        for k, e in world.ledger.entries.items()
        if k.dispatch_id == dispatch_id and k.user_id == user_id and k.step == step
    ]
    return found


@dataclass
class Case:
    id: str
    attributes: dict[str, Any] = field(default_factory=dict)
    profile: dict[str, Any] = field(default_factory=dict)
    campaign: dict[str, Any] = field(default_factory=dict)
    state: str = "sent"
    abort_type: str | None = None
    event: str = "users.messages.email.Send"


CASES = [
    Case("sent"),
    Case(
        "no-address",
        attributes={"email": None},
        state="aborted",
        abort_type="invalid_address",
        event="users.messages.email.Abort",
    ),
    Case(
        "hard-bounced",
        profile={"email_hard_bounced": True},
        state="aborted",
        abort_type="invalid_address",
        event="users.messages.email.Abort",
    ),
    Case(
        "unsubscribed",
        attributes={"email_subscribe": "unsubscribed"},
        state="aborted",
        abort_type="not_subscribed",
        event="users.messages.email.Abort",
    ),
    Case(
        "opted-in-only",
        campaign={"subscription_requirement": "opted_in"},
        state="aborted",
        abort_type="not_subscribed",
        event="users.messages.email.Abort",
    ),
    Case(
        "opted-in-reaches-opted-in",
        attributes={"email_subscribe": "opted_in"},
        campaign={"subscription_requirement": "opted_in"},
    ),
    Case(
        "spam-blocks-marketing",
        profile={"email_spam": True},
        state="aborted",
        abort_type="not_subscribed",
        event="users.messages.email.Abort",
    ),
    Case(
        "transactional-reaches-unsubscribed",
        attributes={"email_subscribe": "unsubscribed"},
        campaign={"subscription_requirement": "all"},
    ),
    Case(
        "abort-message",
        campaign={"messages": {"email": {**EMAIL, "body": "{% abort_message('no coupon') %}"}}},
        state="aborted",
        abort_type="liquid_abort_message",
        event="users.messages.email.Abort",
    ),
    Case(
        "quiet-hours-abort",
        campaign={"quiet_hours": {"start": "11:00", "end": "13:00", "fallback": "abort"}},
        state="aborted",
        abort_type="quiet_hours",
        event="users.messages.email.Abort",
    ),
    Case(
        "email-group-not-subscribed",
        campaign={"messages": {"email": {**EMAIL, "subscription_group_id": "news"}}},
        state="aborted",
        abort_type="not_subscribed",
        event="users.messages.email.Abort",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_one_outcome_and_its_currents_event(world: World, case: Case) -> None:
    world.track({"external_id": "ann", "email": "ann@example.com", "first_name": "Ann", **case.attributes})
    if case.profile:
        set_profile(world, "ann", **case.profile)
    world.campaign("c1", campaign(**case.campaign))
    out = world.trigger({"campaign_id": "c1", "recipients": [{"external_user_id": "ann"}]})
    world.deliver()
    got = entry(world, out["dispatch_id"], world.user_id("ann"))
    assert (got.state, got.abort_type) == (case.state, case.abort_type)
    events = [e for e in world.events() if e.event_type.startswith("users.messages.")]
    assert [e.event_type for e in events] == [case.event]
    assert world.status(out["dispatch_id"])["counts"] == {case.state: 1}
    assert len(world.email.sent) == (1 if case.state == "sent" else 0)


def test_abort_message_reason_goes_to_the_abort_log(world: World) -> None:
    users(world, "ann")
    world.campaign("c1", campaign(messages={"email": {**EMAIL, "body": "{% abort_message('no coupon') %}"}}))
    world.trigger({"campaign_id": "c1", "recipients": [{"external_user_id": "ann"}]})
    world.deliver()
    [abort] = world.events("users.messages.email.Abort")
    assert abort.abort_type == "liquid_abort_message" and abort.abort_log == "no coupon"


def test_a_user_deleted_after_dispatch_is_not_sent(world: World) -> None:
    [ann] = users(world, "ann")
    world.campaign("c1", campaign())
    out = world.trigger({"campaign_id": "c1", "recipients": [{"external_user_id": "ann"}]})
    world.profiles.delete_profile(ann)
    world.deliver()
    assert world.email.sent == []
    assert entry(world, out["dispatch_id"], ann).abort_type == "user_deleted"


def test_quiet_hours_hold_sends_when_the_window_ends_across_a_dst_change(
    world: World, clock: ManualClock
) -> None:
    # 2026-03-08 04:00Z is 23:00 EST on Mar 7 in New York; DST starts at 02:00 local; the 22:00-08:00
    # window ends at 08:00 EDT = 12:00Z (not 13:00Z as a fixed -05:00 offset would say)
    clock.set(datetime(2026, 3, 8, 4, 0, tzinfo=UTC))
    [ann] = users(world, "ann", time_zone="America/New_York")
    world.campaign("c1", campaign(quiet_hours={"start": "22:00", "end": "08:00", "fallback": "hold"}))
    out = world.trigger({"campaign_id": "c1", "recipients": [{"external_user_id": "ann"}]})
    world.deliver()
    assert world.email.sent == [] and entry(world, out["dispatch_id"], ann).state == "deferred"
    clock.set(datetime(2026, 3, 8, 11, 59, tzinfo=UTC))
    world.tick()
    world.deliver()
    assert world.email.sent == []
    clock.set(datetime(2026, 3, 8, 12, 0, tzinfo=UTC))
    world.tick()
    world.deliver()
    assert [e.to for e in world.email.sent] == ["ann@example.com"]
    assert world.status(out["dispatch_id"])["counts"] == {"sent": 1, "deferred": 1}
    assert world.status(out["dispatch_id"])["status"] == "complete"


def test_frequency_caps_count_calendar_days_in_each_users_zone(world: World, clock: ManualClock) -> None:
    # one email per calendar day, across campaigns
    world.cap("daily", {"channel": "email", "limit": 1, "window": {"amount": 1, "unit": "days"}})
    clock.set(datetime(2026, 3, 2, 7, 59, tzinfo=UTC))
    users(world, "utc")
    users(world, "la", time_zone="America/Los_Angeles")
    world.campaign("a", campaign(name="A"))
    world.campaign("b", campaign(name="B"))
    world.trigger(
        {"campaign_id": "a", "recipients": [{"external_user_id": "utc"}, {"external_user_id": "la"}]}
    )
    world.deliver()
    assert len(world.email.sent) == 2
    # 08:01Z: still Mar 2 in UTC (capped), already Mar 2 in Los Angeles where the first was Mar 1 23:59
    clock.set(datetime(2026, 3, 2, 8, 1, tzinfo=UTC))
    out = world.trigger(
        {"campaign_id": "b", "recipients": [{"external_user_id": "utc"}, {"external_user_id": "la"}]}
    )
    world.deliver()
    assert [e.to for e in world.email.sent] == ["utc@example.com", "la@example.com", "la@example.com"]
    assert entry(world, out["dispatch_id"], world.user_id("utc")).state == "capped"
    [capped] = world.events("users.messages.email.Abort")
    assert capped.abort_type == "frequency_capped"
    # next UTC day: the UTC user may receive again
    clock.set(datetime(2026, 3, 3, 0, 1, tzinfo=UTC))
    world.send_messages({"external_user_ids": ["utc"], "messages": {"email": EMAIL}})
    world.deliver()
    assert world.email.sent[-1].to == "utc@example.com"


def test_override_frequency_capping_and_opted_out_campaigns_ignore_caps(world: World) -> None:
    world.cap("one", {"channel": "any", "limit": 1, "window": {"amount": 1, "unit": "weeks"}})
    users(world, "ann")
    world.send_messages({"external_user_ids": ["ann"], "messages": {"email": EMAIL}})
    world.send_messages({"external_user_ids": ["ann"], "messages": {"email": EMAIL}})
    world.send_messages(
        {"external_user_ids": ["ann"], "override_frequency_capping": True, "messages": {"email": EMAIL}}
    )
    world.campaign("free", campaign(frequency_capping=False))
    world.trigger({"campaign_id": "free", "recipients": [{"external_user_id": "ann"}]})
    world.deliver()
    assert len(world.email.sent) == 3


def test_in_app_and_content_cards_never_count_toward_caps(world: World) -> None:
    world.cap("one", {"channel": "any", "limit": 1, "window": {"amount": 1, "unit": "days"}})
    users(world, "ann")
    card = {"content_card": {"description": "hi"}}
    world.send_messages({"external_user_ids": ["ann"], "messages": card})
    world.send_messages({"external_user_ids": ["ann"], "messages": {"email": EMAIL}})
    world.deliver()
    assert len(world.email.sent) == 1 and len(world.inbox.items) == 1


def test_reeligibility_off_sends_a_campaign_once_per_user(world: World, clock: ManualClock) -> None:
    users(world, "ann")
    world.campaign("once", campaign())
    world.campaign("again", campaign(reeligibility={"enabled": True, "after_s": 3600}))
    for campaign_id in ("once", "again"):
        world.trigger({"campaign_id": campaign_id, "recipients": [{"external_user_id": "ann"}]})
        world.deliver()
        clock.advance(60)
        world.trigger({"campaign_id": campaign_id, "recipients": [{"external_user_id": "ann"}]})
        world.deliver()
    assert len(world.email.sent) == 2
    clock.advance(3600)
    world.trigger({"campaign_id": "again", "recipients": [{"external_user_id": "ann"}]})
    world.deliver()
    assert len(world.email.sent) == 3


@dataclass
class Unreceived:
    id: str
    first: dict[str, Any] = field(default_factory=dict)
    script: list[Any] = field(default_factory=list)
    state: str = "failed"


UNRECEIVED = [
    Unreceived("provider-refused", script=[Rejected("MessageRejected: Email address is not verified")]),
    Unreceived("outcome-unknown", script=[Rejected("read timeout", unknown=True)]),
    Unreceived("not-subscribed", first={"email_subscribe": "unsubscribed"}, state="aborted"),
]


@pytest.mark.parametrize("case", UNRECEIVED, ids=lambda c: c.id)
def test_an_attempt_that_was_not_sent_keeps_the_user_eligible(world: World, case: Unreceived) -> None:
    """Re-eligibility counts only ``sent`` outcomes (braze-api.md §4): a failed, bounced or aborted
    attempt leaves the user eligible; a sent one uses the eligibility up."""
    world.track({"external_id": "ann", "email": "ann@example.com", "first_name": "Ann", **case.first})
    world.campaign("once", campaign())
    world.email.script = list(case.script)
    first = world.trigger({"campaign_id": "once", "recipients": [{"external_user_id": "ann"}]})
    world.deliver()
    assert entry(world, first["dispatch_id"], world.user_id("ann")).state == case.state
    assert world.ledger.receipts("once", [world.user_id("ann")]) == {}
    world.track({"external_id": "ann", "email_subscribe": "subscribed"})
    second = world.trigger({"campaign_id": "once", "recipients": [{"external_user_id": "ann"}]})
    world.deliver()
    assert entry(world, second["dispatch_id"], world.user_id("ann")).state == "sent"
    assert [e.to for e in world.email.sent] == ["ann@example.com"]
    third = world.trigger({"campaign_id": "once", "recipients": [{"external_user_id": "ann"}]})
    world.deliver()
    got = entry(world, third["dispatch_id"], world.user_id("ann"))
    assert (got.state, got.abort_type) == ("aborted", "not_reeligible")


def test_a_failed_send_does_not_count_toward_frequency_caps(world: World) -> None:
    world.cap("one", {"channel": "email", "limit": 1, "window": {"amount": 1, "unit": "days"}})
    users(world, "ann")
    world.email.script = [Rejected("MessageRejected")]
    world.send_messages({"external_user_ids": ["ann"], "messages": {"email": EMAIL}})
    world.deliver()
    out = world.send_messages({"external_user_ids": ["ann"], "messages": {"email": EMAIL}})
    world.deliver()
    assert entry(world, out["dispatch_id"], world.user_id("ann")).state == "sent"
    capped = world.send_messages({"external_user_ids": ["ann"], "messages": {"email": EMAIL}})
    world.deliver()
    assert entry(world, capped["dispatch_id"], world.user_id("ann")).state == "capped"


def test_the_rate_limit_spreads_sends_over_minutes(world: World, clock: ManualClock) -> None:
    users(world, *(f"u{i}" for i in range(25)))
    world.campaign("slow", campaign(rate_limit_per_minute=10))
    out = world.trigger(
        {"campaign_id": "slow", "recipients": [{"external_user_id": f"u{i}"} for i in range(25)]}
    )
    sent = []
    for _ in range(3):
        world.tick()
        world.deliver()
        sent.append(len(world.email.sent))
        clock.advance(60)
    assert sent == [10, 20, 25]
    assert world.status(out["dispatch_id"])["status"] == "complete"


def test_every_channel_reports_its_own_events(world: World) -> None:
    world.track(
        {
            "external_id": "ann",
            "email": "ann@example.com",
            "phone": "+14155550100",
            "subscription_groups": [{"subscription_group_id": "g1", "subscription_state": "subscribed"}],
            "push_tokens": [
                {"app_id": "app", "token": "tok-ios"},
                {"app_id": "droid", "token": "tok-android"},
            ],
        }
    )
    world.send_messages(
        {
            "external_user_ids": ["ann"],
            "messages": {
                "sms": {"subscription_group_id": "g1", "body": "hi"},
                "webhook": {"url": "https://hooks.example.com/x"},
                "apple_push": {"alert": "hi ios"},
                "android_push": {"alert": "hi android"},
                "content_card": {"description": "card"},
                "in_app_message": {"message": "in app"},
            },
        }
    )
    world.deliver()
    types = sorted(e.event_type for e in world.events() if e.event_type.startswith("users.messages."))
    assert types == [
        "users.messages.contentcard.Send",
        "users.messages.pushnotification.Send",
        "users.messages.pushnotification.Send",
        "users.messages.sms.Send",
        "users.messages.webhook.Send",
    ]
    assert sorted(p.token for p in world.push.sent) == ["tok-android", "tok-ios"]
    assert {i.channel for i in world.inbox.items.values()} == {"content_card", "in_app"}
