"""Who each channel can reach (braze-api.md §8), table-driven over the adapters' checks."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from engagekit.campaigns.definitions import Messages
from engagekit.campaigns.plan import Audience, DispatchPlan
from engagekit.channels.adapters import PushAdapter, Refusal, SmsAdapter
from engagekit.channels.fakes import FakePushProvider, FakeSmsProvider
from engagekit.domain.profile import Profile, PushToken

T = datetime(2026, 3, 1, tzinfo=UTC)


def plan(messages: dict[str, Any], requirement: str = "subscribed") -> DispatchPlan:
    return DispatchPlan(
        dispatch_id="d",
        created_at=T,
        source="messages",
        messages=Messages.model_validate(messages),
        subscription_requirement=requirement,  # type: ignore[arg-type]
        audience=Audience(kind="recipients"),
    )


@dataclass
class Case:
    id: str
    profile: dict[str, Any]
    step: str = "push"
    message: dict[str, Any] = field(default_factory=lambda: {"alert": "hi"})
    requirement: str = "subscribed"
    reach: list[str] | str = field(default_factory=list)


TOKENS = [
    PushToken(app_id="ios", token="t-ios"),
    PushToken(app_id="droid", token="t-droid"),
    PushToken(app_id="none", token="t-x"),
]
PUSH = [
    Case("every-platform", {"push_tokens": TOKENS}, reach=["t-ios", "t-droid"]),
    Case("apple-only", {"push_tokens": TOKENS}, step="apple_push", reach=["t-ios"]),
    Case("android-only", {"push_tokens": TOKENS}, step="android_push", reach=["t-droid"]),
    Case(
        "app-ids", {"push_tokens": TOKENS}, message={"alert": "hi", "app_ids": ["droid"]}, reach=["t-droid"]
    ),
    Case("no-token", {}, reach="invalid_address"),
    Case("unsubscribed", {"push_tokens": TOKENS, "push_subscribe": "unsubscribed"}, reach="not_subscribed"),
    Case("opted-in-required", {"push_tokens": TOKENS}, requirement="opted_in", reach="not_subscribed"),
    Case(
        "all-reaches-unsubscribed",
        {"push_tokens": TOKENS, "push_subscribe": "unsubscribed"},
        requirement="all",
        reach=["t-ios", "t-droid"],
    ),
]


@pytest.mark.parametrize("case", PUSH, ids=lambda c: c.id)
def test_push_reach(case: Case) -> None:
    adapter = PushAdapter(FakePushProvider({"ios": "ios", "droid": "android"}))
    profile = Profile(user_id="u", created_at=T, **case.profile)
    p = plan({case.step: case.message}, case.requirement)
    got = adapter.check(profile, p, case.step, p.message(case.step))
    if isinstance(case.reach, str):
        assert isinstance(got, Refusal) and got.abort_type == case.reach
    else:
        assert isinstance(got, str) and [token for _, token, _ in json.loads(got)] == case.reach


SMS = [
    Case(
        "subscribed",
        {"phone": "+14155550100", "subscription_groups": {"g": "subscribed"}},
        reach="+14155550100",
    ),
    Case("no-phone", {"subscription_groups": {"g": "subscribed"}}, reach=["invalid_address"]),
    Case("not-in-group", {"phone": "+14155550100"}, reach=["not_subscribed"]),
    Case(
        "unsubscribed-group",
        {"phone": "+14155550100", "subscription_groups": {"g": "unsubscribed"}},
        reach=["not_subscribed"],
    ),
    Case("all-still-needs-the-group", {"phone": "+14155550100"}, requirement="all", reach=["not_subscribed"]),
]


@pytest.mark.parametrize("case", SMS, ids=lambda c: c.id)
def test_sms_reach(case: Case) -> None:
    adapter = SmsAdapter(FakeSmsProvider())
    p = plan({"sms": {"subscription_group_id": "g", "body": "hi"}}, case.requirement)
    got = adapter.check(Profile(user_id="u", created_at=T, **case.profile), p, "sms", p.message("sms"))
    if isinstance(case.reach, list):
        assert isinstance(got, Refusal) and got.abort_type == case.reach[0]
    else:
        assert got == case.reach
