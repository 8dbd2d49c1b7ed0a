"""The messaging API's use cases on the in-memory send path: Braze's shapes, limits and errors."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from engagekit.campaigns import messaging
from engagekit.campaigns.inmemory import World
from engagekit.clock import ManualClock
from engagekit.errors import NotFoundError, ValidationError
from pydantic import ValidationError as PydanticError

from tests.unit.campaigns.conftest import EMAIL, campaign, users


@dataclass
class Case:
    id: str
    body: dict[str, Any]
    error: str


def recipients(n: int) -> list[dict[str, Any]]:
    return [{"external_user_id": f"u{i}"} for i in range(n)]


TRIGGER_ERRORS = [
    Case("unknown-campaign", {"campaign_id": "nope", "recipients": recipients(1)}, "Invalid Campaign ID"),
    Case("no-recipients-no-broadcast", {"campaign_id": "c1"}, "No Recipients"),
    Case(
        "broadcast-and-recipients",
        {"campaign_id": "c1", "broadcast": True, "recipients": recipients(1)},
        "broadcast",
    ),
    Case(
        "51-recipients",
        {"campaign_id": "c1", "recipients": recipients(51)},
        "max number of external_ids and aliases",
    ),
    Case(
        "two-identifiers",
        {"campaign_id": "c1", "recipients": [{"external_user_id": "a", "email": "a@example.com"}]},
        "invalid recipients",
    ),
    Case(
        "create-without-attributes",
        {"campaign_id": "c1", "recipients": [{"external_user_id": "a", "send_to_existing_only": False}]},
        "invalid recipients",
    ),
    Case(
        "create-an-alias",
        {
            "campaign_id": "c1",
            "recipients": [
                {
                    "user_alias": {"alias_name": "a", "alias_label": "b"},
                    "send_to_existing_only": False,
                    "attributes": {"x": 1},
                }
            ],
        },
        "invalid recipients",
    ),
    Case(
        "properties-over-50kb",
        {"campaign_id": "c1", "broadcast": True, "trigger_properties": {"x": "y" * 52_000}},
        "50 KB",
    ),
    Case(
        "attachments-with-broadcast",
        {"campaign_id": "c1", "broadcast": True, "attachments": [{"file_name": "a"}]},
        "attachments",
    ),
    Case("bad-audience", {"campaign_id": "c1", "broadcast": True, "audience": {"nope": {}}}, "audience"),
    Case("unknown-send-id", {"campaign_id": "c1", "send_id": "s9", "recipients": recipients(1)}, "send_id"),
]


@pytest.mark.parametrize("case", TRIGGER_ERRORS, ids=lambda c: c.id)
def test_trigger_send_errors_send_nothing(world: World, case: Case) -> None:
    world.campaign("c1", campaign())
    with pytest.raises(ValidationError, match=case.error):
        world.trigger(case.body)
    assert world.ledger.dispatches == {} and world.queues.bodies == {}


def test_per_recipient_trigger_properties_override_the_top_level_ones(world: World) -> None:
    users(world, "ann", "bob")
    world.campaign(
        "c1", campaign(messages={"email": {**EMAIL, "subject": "{{api_trigger_properties.${offer}}}"}})
    )
    world.trigger(
        {
            "campaign_id": "c1",
            "trigger_properties": {"offer": "10%"},
            "recipients": [
                {"external_user_id": "ann", "trigger_properties": {"offer": "20%"}},
                {"external_user_id": "bob"},
            ],
        }
    )
    world.deliver()
    assert sorted((e.to, e.subject) for e in world.email.sent) == [
        ("ann@example.com", "20%"),
        ("bob@example.com", "10%"),
    ]


def test_attributes_are_applied_before_rendering(world: World) -> None:
    users(world, "ann")
    world.campaign("c1", campaign(messages={"email": {**EMAIL, "subject": "{{custom_attribute.${tier}}}"}}))
    world.trigger(
        {"campaign_id": "c1", "recipients": [{"external_user_id": "ann", "attributes": {"tier": "gold"}}]}
    )
    world.deliver()
    assert [e.subject for e in world.email.sent] == ["gold"]


def test_send_to_existing_only_false_creates_the_user(world: World) -> None:
    world.campaign("c1", campaign())
    world.trigger(
        {
            "campaign_id": "c1",
            "recipients": [
                {
                    "external_user_id": "new",
                    "send_to_existing_only": False,
                    "attributes": {"email": "new@example.com", "first_name": "Neo"},
                }
            ],
        }
    )
    world.deliver()
    assert [(e.to, e.subject) for e in world.email.sent] == [("new@example.com", "Hi Neo")]


def test_unknown_users_are_skipped_when_sending_to_existing_only(world: World) -> None:
    users(world, "ann")
    world.campaign("c1", campaign())
    out = world.trigger(
        {"campaign_id": "c1", "recipients": [{"external_user_id": "ann"}, {"external_user_id": "ghost"}]}
    )
    world.deliver()
    assert world.status(out["dispatch_id"])["target"] == 1
    assert [e.to for e in world.email.sent] == ["ann@example.com"]


def test_duplicate_recipients_are_collapsed_to_one_message(world: World) -> None:
    users(world, "ann")
    world.campaign("c1", campaign())
    out = world.trigger(
        {
            "campaign_id": "c1",
            "recipients": [
                {"external_user_id": "ann"},
                {"email": "ann@example.com"},
                {"external_user_id": "ann", "trigger_properties": {"x": 1}},
            ],
        }
    )
    world.deliver()
    assert [e.to for e in world.email.sent] == ["ann@example.com"]
    assert world.status(out["dispatch_id"])["target"] == 1


def test_recipients_must_be_in_the_campaigns_segment(world: World) -> None:
    ann, _ = users(world, "ann", "bob")
    world.memberships.add("vip", ann)
    world.campaign("c1", campaign(segment_id="vip"))
    world.trigger(
        {"campaign_id": "c1", "recipients": [{"external_user_id": "ann"}, {"external_user_id": "bob"}]}
    )
    world.deliver()
    assert [e.to for e in world.email.sent] == ["ann@example.com"]


def test_recipients_are_narrowed_by_the_audience(world: World) -> None:
    users(world, "ann")
    users(world, "bob", plan="pro")
    world.campaign("c1", campaign())
    audience = {"custom_attribute": {"custom_attribute_name": "plan", "comparison": "equals", "value": "pro"}}
    world.trigger(
        {
            "campaign_id": "c1",
            "audience": audience,
            "recipients": [{"external_user_id": "ann"}, {"external_user_id": "bob"}],
        }
    )
    world.deliver()
    assert [e.to for e in world.email.sent] == ["bob@example.com"]


def test_broadcast_goes_to_the_campaign_segment_through_the_send_run(world: World) -> None:
    ids = users(world, *(f"u{i}" for i in range(30)))
    for uid in ids[:12]:
        world.memberships.add("vip", uid)
    world.campaign("c1", campaign(segment_id="vip"))
    out = world.trigger({"campaign_id": "c1", "broadcast": True})
    assert world.starter.started == [out["dispatch_id"]]
    world.deliver()
    status = world.status(out["dispatch_id"])
    assert status["status"] == "complete" and status["target"] == 12 and status["counts"] == {"sent": 12}


def test_broadcast_with_an_audience_and_no_segment_scans_profiles(world: World) -> None:
    users(world, "ann", "cat")
    users(world, "bob", plan="pro")
    world.campaign("c1", campaign())
    audience = {"custom_attribute": {"custom_attribute_name": "plan", "comparison": "equals", "value": "pro"}}
    out = world.trigger({"campaign_id": "c1", "broadcast": True, "audience": audience})
    world.deliver()
    assert [e.to for e in world.email.sent] == ["bob@example.com"]
    assert world.status(out["dispatch_id"])["target"] == 1


MESSAGES_ERRORS = [
    Case("no-targets", {"messages": {"email": EMAIL}}, "No Recipients"),
    Case("broadcast-without-segment", {"broadcast": True, "messages": {"email": EMAIL}}, "No Recipients"),
    Case(
        "too-many-users",
        {
            "external_user_ids": [f"u{i}" for i in range(40)],
            "user_aliases": [{"alias_name": f"a{i}", "alias_label": "l"} for i in range(11)],
            "messages": {"email": EMAIL},
        },
        "max number",
    ),
    Case(
        "unknown-campaign",
        {"external_user_ids": ["a"], "campaign_id": "nope", "messages": {"email": EMAIL}},
        "Invalid Campaign ID",
    ),
]


@pytest.mark.parametrize("case", MESSAGES_ERRORS, ids=lambda c: c.id)
def test_messages_send_errors(world: World, case: Case) -> None:
    with pytest.raises(ValidationError, match=case.error):
        world.send_messages(case.body)


def test_messages_send_without_a_message_is_refused(world: World) -> None:
    with pytest.raises(PydanticError, match="No message to send"):
        world.send_messages({"external_user_ids": ["a"], "messages": {}})


def test_messages_send_inline_messages_to_each_channel(world: World) -> None:
    world.track(
        {
            "external_id": "ann",
            "email": "ann@example.com",
            "phone": "+14155550100",
            "subscription_groups": [{"subscription_group_id": "g1", "subscription_state": "subscribed"}],
        }
    )
    out = world.send_messages(
        {
            "external_user_ids": ["ann"],
            "messages": {
                "email": EMAIL,
                "sms": {
                    "subscription_group_id": "g1",
                    "body": "Code {{api_trigger_properties.${none} | default: 'x'}}",
                },
                "webhook": {
                    "url": "https://hooks.example.com/{{${user_id}}}",
                    "body": '{"id": "{{${user_id}}}"}',
                },
                "content_card": {"title": "Hi", "description": "For {{${user_id}}}"},
            },
        }
    )
    world.deliver()
    assert [e.to for e in world.email.sent] == ["ann@example.com"]
    assert [(s.to, s.body) for s in world.sms.sent] == [("+14155550100", "Code x")]
    assert [w.url for w in world.webhook.sent] == ["https://hooks.example.com/ann"]
    assert [i.payload["description"] for i in world.inbox.items.values()] == ["For ann"]
    assert world.status(out["dispatch_id"])["counts"] == {"sent": 4}


def test_recipient_subscription_state_all_reaches_unsubscribed_users(world: World) -> None:
    users(world, "ann", email_subscribe="unsubscribed")
    world.send_messages({"external_user_ids": ["ann"], "messages": {"email": EMAIL}})
    world.send_messages(
        {"external_user_ids": ["ann"], "recipient_subscription_state": "all", "messages": {"email": EMAIL}}
    )
    world.deliver()
    assert len(world.email.sent) == 1


def test_send_ids_are_created_and_carried_to_currents(world: World) -> None:
    users(world, "ann")
    world.campaign("c1", campaign())
    created = messaging.create_send_id(
        messaging.SendIdCreateRequest(campaign_id="c1", send_id="spring-1"), world.campaigns
    )
    assert created == {"message": "success", "send_id": "spring-1"}
    out = world.trigger(
        {"campaign_id": "c1", "send_id": "spring-1", "recipients": [{"external_user_id": "ann"}]}
    )
    assert out["send_id"] == "spring-1"
    world.deliver()
    [send] = world.events("users.messages.email.Send")
    assert send.send_id == "spring-1" and send.dispatch_id == out["dispatch_id"] and send.campaign_id == "c1"


def test_send_id_for_an_unknown_campaign_is_refused(world: World) -> None:
    with pytest.raises(ValidationError, match="Invalid Campaign ID"):
        messaging.create_send_id(messaging.SendIdCreateRequest(campaign_id="nope"), world.campaigns)


def schedule(world: World, kind: str, body: dict[str, Any]) -> dict[str, Any]:
    if kind == "campaign":
        req: Any = messaging.TriggerScheduleRequest.model_validate(body)
    else:
        req = messaging.MessagesScheduleRequest.model_validate(body)
    return messaging.schedule_create(kind, req, body, world.campaigns)  # type: ignore[arg-type]


def test_a_scheduled_send_fires_at_its_time_with_its_dispatch_id(world: World, clock: ManualClock) -> None:
    users(world, "ann")
    out = schedule(
        world,
        "messages",
        {
            "external_user_ids": ["ann"],
            "messages": {"email": EMAIL},
            "schedule": {"time": "2026-03-01T13:00:00Z"},
        },
    )
    assert world.tick()["schedules"] == 0
    clock.advance(3600)
    assert world.tick()["schedules"] == 1
    world.deliver()
    assert [e.to for e in world.email.sent] == ["ann@example.com"]
    assert world.status(out["dispatch_id"])["counts"] == {"sent": 1}
    assert world.tick()["schedules"] == 0


def test_schedules_can_be_updated_and_deleted(world: World, clock: ManualClock) -> None:
    users(world, "ann")
    world.campaign(
        "c1", campaign(messages={"email": {**EMAIL, "subject": "{{api_trigger_properties.${v}}}"}})
    )
    body = {
        "campaign_id": "c1",
        "recipients": [{"external_user_id": "ann"}],
        "schedule": {"time": "2026-03-01T13:00:00Z"},
    }
    first = schedule(world, "campaign", body)
    second = schedule(world, "campaign", body)
    update = messaging.ScheduleUpdateRequest(
        schedule_id=first["schedule_id"], trigger_properties={"v": "updated"}
    )
    messaging.schedule_update("campaign", update, world.campaigns)
    messaging.schedule_delete(
        "campaign", messaging.ScheduleDeleteRequest(schedule_id=second["schedule_id"]), world.campaigns
    )
    clock.advance(3600)
    world.tick()
    world.deliver()
    assert [e.subject for e in world.email.sent] == ["updated"]
    with pytest.raises(NotFoundError):
        messaging.schedule_delete(
            "campaign", messaging.ScheduleDeleteRequest(schedule_id=first["schedule_id"]), world.campaigns
        )


def test_in_local_time_reaches_each_user_at_that_wall_time(world: World, clock: ManualClock) -> None:
    users(world, "tokyo", time_zone="Asia/Tokyo")
    users(world, "paris", time_zone="Europe/Paris")
    out = schedule(
        world,
        "messages",
        {
            "external_user_ids": ["tokyo", "paris"],
            "messages": {"email": EMAIL},
            "schedule": {"time": "2026-03-02T09:00:00", "in_local_time": True},
        },
    )
    # fires when the first zone (UTC+14) reaches 09:00: 2026-03-01T19:00Z
    clock.advance(7 * 3600)
    world.tick()
    world.deliver()
    assert world.email.sent == []
    clock.advance(5 * 3600 + 60)  # 00:01Z = 09:01 in Tokyo
    world.tick()
    world.deliver()
    assert [e.to for e in world.email.sent] == ["tokyo@example.com"]
    clock.advance(7 * 3600)  # 07:01Z = 08:01 in Paris
    world.tick()
    world.deliver()
    assert len(world.email.sent) == 1
    clock.advance(3600)  # 09:01 in Paris
    world.tick()
    world.deliver()
    assert [e.to for e in world.email.sent] == ["tokyo@example.com", "paris@example.com"]
    assert world.status(out["dispatch_id"])["status"] == "complete"


def test_a_local_time_already_past_everywhere_is_refused(world: World) -> None:
    with pytest.raises(ValidationError, match="every time zone"):
        schedule(
            world,
            "messages",
            {
                "external_user_ids": ["a"],
                "messages": {"email": EMAIL},
                "schedule": {"time": "2026-02-27T09:00:00", "in_local_time": True},
            },
        )


# --- inline Liquid is checked at request time, like PUT /campaigns --------------------------------

BROKEN = "Hello {{${first_name}}}\n  {% if %}"
"""``if`` without an expression (a fatal error), reported at line 2, column 6 (the ``if``)."""

VALID = {
    "email": {"from": "Shop <news@shop.com>", "subject": "Hi", "body": "<p>Hi</p>"},
    "sms": {"subscription_group_id": "g1", "body": "Hi"},
    "webhook": {"url": "https://hooks.example.com/x", "body": "{}"},
    "push": {"alert": "Hi"},
    "apple_push": {"alert": "Hi"},
    "android_push": {"alert": "Hi"},
    "content_card": {"description": "Hi"},
    "in_app_message": {"message": "Hi"},
}


@dataclass
class Broken:
    step: str
    path: str
    override: dict[str, Any]

    @property
    def id(self) -> str:
        return f"{self.step}.{self.path}"

    def messages(self) -> dict[str, Any]:
        return {self.step: {**VALID[self.step], **self.override}}


BROKEN_FIELDS = [
    Broken("email", "subject", {"subject": BROKEN}),
    Broken("email", "body", {"body": BROKEN}),
    Broken("email", "plaintext_body", {"plaintext_body": BROKEN}),
    Broken("email", "preheader", {"preheader": BROKEN}),
    Broken("sms", "body", {"body": BROKEN}),
    Broken("webhook", "url", {"url": "https://hooks.example.com/" + BROKEN}),
    Broken("webhook", "body", {"body": BROKEN}),
    Broken("webhook", "request_headers.X-Code", {"request_headers": {"X-Code": BROKEN}}),
    Broken("push", "alert", {"alert": BROKEN}),
    Broken("push", "title", {"title": BROKEN}),
    Broken("push", "extra.deeplink", {"extra": {"deeplink": BROKEN}}),
    Broken("apple_push", "alert", {"alert": BROKEN}),
    Broken("android_push", "title", {"title": BROKEN}),
    Broken("content_card", "title", {"title": BROKEN}),
    Broken("content_card", "description", {"description": BROKEN}),
    Broken("content_card", "image_url", {"image_url": BROKEN}),
    Broken("content_card", "url", {"url": BROKEN}),
    Broken("content_card", "extra.k", {"extra": {"k": BROKEN}}),
    Broken("in_app_message", "message", {"message": BROKEN}),
    Broken("in_app_message", "header", {"header": BROKEN}),
    Broken("in_app_message", "extra.button", {"extra": {"button": BROKEN}}),
]


def assert_refused(world: World, err: pytest.ExceptionInfo[ValidationError], case: Broken) -> None:
    """A 400 naming the field, line and column; nothing stored, enqueued or started."""
    [problem] = err.value.errors
    assert problem["field"] == f"messages.{case.step}.{case.path}"
    assert (problem["line"], problem["column"]) == (2, 6)
    assert str(problem["type"]).startswith("Liquid syntax error")
    assert world.ledger.dispatches == {} and world.queues.bodies == {} and world.starter.started == []


@pytest.mark.parametrize("case", BROKEN_FIELDS, ids=lambda c: c.id)
def test_messages_send_refuses_liquid_that_does_not_parse(world: World, case: Broken) -> None:
    users(world, "ann")
    for body in (
        {"external_user_ids": ["ann"], "messages": case.messages()},
        {"broadcast": True, "segment_id": "s1", "messages": case.messages()},
    ):
        with pytest.raises(ValidationError, match="does not parse") as err:
            world.send_messages(body)
        assert_refused(world, err, case)


@pytest.mark.parametrize("case", BROKEN_FIELDS, ids=lambda c: c.id)
def test_put_campaign_refuses_the_same_fields_the_same_way(world: World, case: Broken) -> None:
    with pytest.raises(ValidationError, match="does not parse") as err:
        world.campaign("c1", campaign(messages=case.messages()))
    assert_refused(world, err, case)


def test_message_schedules_refuse_liquid_that_does_not_parse(world: World) -> None:
    users(world, "ann")
    case = Broken("content_card", "title", {"title": BROKEN})
    when = {"time": "2026-03-01T13:00:00Z"}
    with pytest.raises(ValidationError, match="does not parse") as err:
        schedule(
            world, "messages", {"external_user_ids": ["ann"], "messages": case.messages(), "schedule": when}
        )
    assert_refused(world, err, case)
    ok = {"external_user_ids": ["ann"], "messages": VALID, "schedule": when}
    created = schedule(world, "messages", ok)
    update = messaging.ScheduleUpdateRequest.model_validate(
        {"schedule_id": created["schedule_id"], "messages": case.messages()}
    )
    with pytest.raises(ValidationError, match="does not parse") as err:
        messaging.schedule_update("messages", update, world.campaigns)
    assert_refused(world, err, case)
    stored = world.schedules.get_schedule(created["schedule_id"])
    assert stored is not None and stored.request["messages"] == VALID
