"""SES events → Currents events and profile changes (engagekit.channels.feedback), table-driven."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pytest
from engagekit.campaigns.inmemory import World
from engagekit.channels.feedback import process_body, ses_event

from tests.unit.campaigns.conftest import users


def event(kind: str, user_id: str, address: str = "ann@example.com", **detail: Any) -> dict[str, Any]:
    return {
        "eventType": kind,
        "mail": {
            "messageId": "ses-1",
            "source": "news@shop.com",
            "destination": [address],
            "tags": {"dispatch_id": ["d-1"], "user_id": [user_id], "campaign_id": ["c-1"]},
        },
        kind.lower(): detail,
    }


@dataclass
class Case:
    id: str
    kind: str
    detail: dict[str, Any]
    currents: list[str]
    profile: dict[str, Any] = field(default_factory=dict)


CASES = [
    Case("delivery", "Delivery", {"recipients": ["ann@example.com"]}, ["users.messages.email.Delivery"]),
    Case(
        "hard-bounce",
        "Bounce",
        {
            "bounceType": "Permanent",
            "bouncedRecipients": [{"emailAddress": "ann@example.com", "diagnosticCode": "550"}],
        },
        ["users.messages.email.Bounce"],
        {"email_hard_bounced": True},
    ),
    Case(
        "soft-bounce",
        "Bounce",
        {"bounceType": "Transient", "bouncedRecipients": [{"emailAddress": "ann@example.com"}]},
        ["users.messages.email.SoftBounce"],
        {"email_hard_bounced": False},
    ),
    Case(
        "complaint",
        "Complaint",
        {"complainedRecipients": [{"emailAddress": "ann@example.com"}]},
        ["users.messages.email.MarkAsSpam"],
        {"email_spam": True},
    ),
    Case("open", "Open", {"userAgent": "Mail"}, ["users.messages.email.Open"]),
    Case("click", "Click", {"link": "https://shop.com"}, ["users.messages.email.Click"]),
    Case(
        "unsubscribe",
        "Subscription",
        {},
        ["users.messages.email.Unsubscribe"],
        {"email_subscribe": "unsubscribed"},
    ),
    Case("send-is-ours-already", "Send", {}, []),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_ses_events(world: World, case: Case) -> None:
    [ann] = users(world, "ann")
    body = json.dumps({"Type": "Notification", "Message": json.dumps(event(case.kind, ann, **case.detail))})
    before = {e.id for e in world.events()}
    process_body(body, world.users)
    process_body(body, world.users)  # SNS delivers at least once: same events, same ids
    new = [e for e in world.events() if e.id not in before and e.event_type.startswith("users.messages.")]
    assert [e.event_type for e in new] == case.currents
    for e in new:
        assert (e.dispatch_id, e.campaign_id, e.external_user_id) == ("d-1", "c-1", "ann")
    profile = world.profiles.get_profiles([ann])[ann]
    for name, value in case.profile.items():
        assert getattr(profile, name) == value


def test_raw_ses_events_and_junk() -> None:
    raw = json.dumps(event("Delivery", "u"))
    assert ses_event(raw) is not None
    assert ses_event("not json") is None
    assert ses_event(json.dumps({"Type": "Notification", "Message": "{}"})) is None
