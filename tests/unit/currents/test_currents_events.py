"""Currents event schemas (braze-api.md §6) and their builders."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import get_args

import pytest
from engagekit import clock
from engagekit.currents import events as ev
from engagekit.currents.errors import CurrentsSchemaError
from engagekit.domain.profile import Profile

BASE = frozenset({"event_type", "id", "time"})
USER = BASE | {"user_id", "external_user_id"}
MESSAGE = USER | {
    "timezone",
    "app_group_id",
    "campaign_id",
    "campaign_name",
    "message_variation_id",
    "message_variation_name",
    "canvas_id",
    "canvas_name",
    "canvas_variation_id",
    "canvas_variation_name",
    "canvas_step_id",
    "canvas_step_name",
    "send_id",
}
DISPATCHED = MESSAGE | {"dispatch_id"}
DEVICE = frozenset(
    {
        "app_id",
        "platform",
        "os_version",
        "device_model",
        "device_id",
        "ad_id",
        "ad_id_type",
        "ad_tracking_enabled",
    }
)
ABORT = frozenset({"abort_type", "abort_log"})


@dataclass
class Case:
    event_type: str
    keys: frozenset[str]


# The exact key set of every event type. Changing one is a schema change for analysts: update
# docs/currents.md and the Glue tables with it.
SCHEMAS = [
    Case("users.behaviors.CustomEvent", USER | DEVICE | {"app_group_id", "name", "properties", "timezone"}),
    Case(
        "users.behaviors.Purchase",
        USER | DEVICE | {"app_group_id", "currency", "price", "product_id", "properties"},
    ),
    Case(
        "users.behaviors.subscription.GlobalStateChange",
        USER
        | {
            "app_group_id",
            "app_id",
            "campaign_id",
            "campaign_name",
            "canvas_id",
            "canvas_name",
            "canvas_step_id",
            "canvas_step_name",
            "canvas_variation_id",
            "canvas_variation_name",
            "channel",
            "channel_identifier",
            "email_address",
            "message_variation_id",
            "send_id",
            "state_change_source",
            "subscription_status",
            "timezone",
        },
    ),
    Case(
        "users.behaviors.subscriptiongroup.StateChange",
        DISPATCHED
        | {
            "app_id",
            "channel",
            "channel_identifier",
            "email_address",
            "phone_number",
            "state_change_source",
            "subscription_group_id",
            "subscription_status",
        },
    ),
    Case(
        "users.behaviors.pushnotification.TokenStateChange",
        USER
        | {
            "app_group_id",
            "app_id",
            "ios_push_token_apns_gateway",
            "platform",
            "push_token",
            "push_token_created_at",
            "push_token_device_id",
            "push_token_foreground_push_disabled",
            "push_token_provisionally_opted_in",
            "push_token_state_change_type",
            "push_token_updated_at",
            "web_push_token_public_key",
            "web_push_token_user_auth",
            "web_push_token_vapid_public_key",
        },
    ),
    Case(
        "users.profile.Update",
        USER
        | {
            "app_group_id",
            "app_id",
            "archived",
            "country",
            "custom_attributes",
            "dob",
            "email_address",
            "first_name",
            "gender",
            "home_city",
            "language",
            "last_name",
            "phone_number",
            "time_ms",
            "timezone",
            "update_source",
        },
    ),
    Case("users.UserDeleteRequest", BASE | {"app_group_id", "user_id"}),
    Case("users.UserOrphan", USER | {"app_group_id", "app_id", "device_id", "orphaned_by_id"}),
    Case(
        "users.canvas.Entry",
        USER
        | {
            "app_group_id",
            "canvas_id",
            "canvas_name",
            "canvas_step_id",
            "canvas_step_name",
            "canvas_variation_id",
            "canvas_variation_name",
            "in_control_group",
            "timezone",
        },
    ),
    *(
        Case(
            t,
            USER
            | {
                "app_group_id",
                "canvas_id",
                "canvas_name",
                "canvas_step_id",
                "canvas_step_name",
                "canvas_variation_id",
                "canvas_variation_name",
            },
        )
        for t in ("users.canvas.exit.PerformedEvent", "users.canvas.exit.MatchedAudience")
    ),
    Case(
        "users.campaigns.Conversion",
        USER
        | {
            "app_group_id",
            "app_id",
            "campaign_id",
            "campaign_name",
            "conversion_behavior",
            "conversion_behavior_index",
            "message_variation_id",
            "message_variation_name",
            "send_id",
            "timezone",
        },
    ),
    Case(
        "users.canvas.Conversion",
        USER
        | {
            "app_group_id",
            "app_id",
            "canvas_id",
            "canvas_name",
            "canvas_step_id",
            "canvas_step_name",
            "canvas_variation_id",
            "canvas_variation_name",
            "conversion_behavior",
            "conversion_behavior_index",
            "device_id",
            "timezone",
        },
    ),
    Case(
        "users.messages.email.Send",
        DISPATCHED | {"email_address", "from_domain", "ip_pool", "message_extras"},
    ),
    Case(
        "users.messages.email.Delivery",
        DISPATCHED | {"email_address", "esp", "from_domain", "ip_pool", "sending_ip"},
    ),
    Case(
        "users.messages.email.Open",
        DISPATCHED
        | {
            "browser",
            "device_class",
            "device_model",
            "device_os",
            "email_address",
            "esp",
            "from_domain",
            "ip_pool",
            "is_amp",
            "machine_open",
            "mailbox_provider",
            "user_agent",
        },
    ),
    Case(
        "users.messages.email.Click",
        DISPATCHED
        | {
            "browser",
            "device_class",
            "device_model",
            "device_os",
            "email_address",
            "esp",
            "from_domain",
            "ip_pool",
            "is_amp",
            "is_suspected_bot_click",
            "link_alias",
            "link_id",
            "mailbox_provider",
            "suspected_bot_click_reason",
            "url",
            "user_agent",
        },
    ),
    Case(
        "users.messages.email.Bounce",
        DISPATCHED
        | {"bounce_reason", "email_address", "esp", "from_domain", "ip_pool", "is_drop", "sending_ip"},
    ),
    Case(
        "users.messages.email.SoftBounce",
        DISPATCHED | {"bounce_reason", "email_address", "esp", "from_domain", "ip_pool", "sending_ip"},
    ),
    Case(
        "users.messages.email.MarkAsSpam",
        DISPATCHED | {"email_address", "esp", "from_domain", "ip_pool", "user_agent"},
    ),
    Case("users.messages.email.Unsubscribe", DISPATCHED | {"email_address", "ip_pool"}),
    Case(
        "users.messages.email.Abort",
        DISPATCHED | ABORT | {"canvas_step_message_variation_id", "device_id", "email_address", "ip_pool"},
    ),
    Case(
        "users.messages.pushnotification.Send",
        DISPATCHED
        | {
            "ad_id",
            "ad_id_type",
            "ad_tracking_enabled",
            "app_id",
            "device_id",
            "locale_key",
            "message_extras",
            "platform",
            "push_token",
        },
    ),
    Case(
        "users.messages.pushnotification.Open",
        DISPATCHED | DEVICE | {"button_action_type", "button_string", "canvas_step_message_variation_id"},
    ),
    Case(
        "users.messages.pushnotification.Bounce",
        DISPATCHED
        | {"ad_id", "ad_id_type", "ad_tracking_enabled", "app_id", "device_id", "platform", "push_token"},
    ),
    Case("users.messages.pushnotification.Abort", DISPATCHED | ABORT | {"app_id", "device_id", "platform"}),
    Case(
        "users.messages.sms.Send",
        DISPATCHED | {"category", "message_extras", "subscription_group_id", "to_phone_number"},
    ),
    Case(
        "users.messages.sms.Delivery",
        DISPATCHED | {"from_phone_number", "is_sms_fallback", "subscription_group_id", "to_phone_number"},
    ),
    Case(
        "users.messages.sms.DeliveryFailure",
        DISPATCHED
        | {"error", "is_sms_fallback", "provider_error_code", "subscription_group_id", "to_phone_number"},
    ),
    Case(
        "users.messages.sms.Rejection",
        DISPATCHED
        | {"error", "from_phone_number", "provider_error_code", "subscription_group_id", "to_phone_number"},
    ),
    Case("users.messages.sms.Abort", DISPATCHED | ABORT | {"subscription_group_id"}),
    Case(
        "users.messages.sms.InboundReceive",
        MESSAGE
        | {
            "action",
            "inbound_phone_number",
            "media_urls",
            "message_body",
            "subscription_group_id",
            "user_phone_number",
        },
    ),
    Case("users.messages.webhook.Send", DISPATCHED | {"message_extras"}),
    Case(
        "users.messages.webhook.Failure",
        DISPATCHED
        | {
            "content_length",
            "endpoint_url",
            "host",
            "http_status_code",
            "is_terminal",
            "raw_response",
            "retry_count",
            "url_path",
            "webhook_duration",
            "webhook_failure_source",
        },
    ),
    Case("users.messages.webhook.Abort", DISPATCHED | ABORT),
    Case("users.messages.contentcard.Send", DISPATCHED | {"content_card_id", "device_id", "message_extras"}),
    Case("users.messages.contentcard.Impression", DISPATCHED | DEVICE | {"content_card_id", "is_unique"}),
    Case("users.messages.contentcard.Click", DISPATCHED | DEVICE | {"content_card_id"}),
    Case("users.messages.contentcard.Dismiss", DISPATCHED | DEVICE | {"content_card_id"}),
    Case("users.messages.contentcard.Abort", DISPATCHED | ABORT | {"device_id"}),
    Case(
        "users.messages.inappmessage.Impression",
        MESSAGE | DEVICE | {"card_id", "locale_key", "message_extras"},
    ),
    Case("users.messages.inappmessage.Click", MESSAGE | DEVICE | {"button_id", "card_id"}),
    Case("users.messages.inappmessage.Abort", MESSAGE | DEVICE | ABORT | {"card_id"}),
]


@pytest.fixture
def manual_clock() -> Iterator[clock.ManualClock]:
    fixed = clock.ManualClock(datetime(2026, 3, 1, 12, 0, 30, tzinfo=UTC))
    previous = clock.set_clock(fixed)
    yield fixed
    clock.set_clock(previous)


USER_IDS = ev.UserIds("5f1e2d3c4b5a69788796a5b4", "ext-1", "Europe/Paris")
SEND = ev.MessageIds(
    campaign_id="camp-1", message_variation_id="var-1", dispatch_id="disp-1", send_id="send-1"
)


@pytest.mark.parametrize("case", SCHEMAS, ids=lambda c: c.event_type)
def test_each_event_type_has_exactly_its_currents_keys(case: Case) -> None:
    cls = ev.EVENT_TYPES[case.event_type]
    assert set(cls.model_fields) == case.keys


def test_every_event_type_has_a_fixed_schema_case() -> None:
    assert [c.event_type for c in SCHEMAS] == list(ev.EVENT_TYPES)
    assert len(ev.EVENT_CLASSES) == len(ev.EVENT_TYPES) == 43


def test_every_concrete_event_class_is_registered() -> None:
    def concrete(cls: type[ev.CurrentsEvent]) -> set[type[ev.CurrentsEvent]]:
        found = {cls} if not cls.__name__.startswith("_") and cls is not ev.CurrentsEvent else set()
        for sub in cls.__subclasses__():
            found |= concrete(sub)
        return found

    assert concrete(ev.CurrentsEvent) == set(ev.EVENT_CLASSES)


@pytest.mark.parametrize("cls", ev.EVENT_CLASSES, ids=lambda c: c.__name__)
def test_common_fields_have_currents_types(cls: type[ev.CurrentsEvent]) -> None:
    fields = cls.model_fields
    assert fields["time"].annotation is int
    assert fields["id"].annotation is str
    assert fields["user_id"].annotation is str  # every event names its user (braze_id)
    assert get_args(fields["event_type"].annotation) == (fields["event_type"].default,)
    if "external_user_id" in fields:
        assert fields["external_user_id"].annotation == str | None


def test_view_names_are_unique_sql_identifiers() -> None:
    names = list(ev.VIEW_NAMES.values())
    assert len(set(names)) == len(names)
    assert all(n.isidentifier() and n == n.lower() for n in names)
    assert ev.VIEW_NAMES["users.behaviors.CustomEvent"] == "custom_events"
    assert ev.VIEW_NAMES["users.messages.email.Send"] == "email_sends"


def test_custom_event_builder_fills_id_time_and_json_properties(manual_clock: clock.ManualClock) -> None:
    event = ev.custom_event(USER_IDS, "played", {"level": 3, "at": datetime(2026, 1, 2, tzinfo=UTC)})

    assert uuid.UUID(event.id).version == 4
    assert event.time == int(manual_clock.now().timestamp())
    assert event.user_id == USER_IDS.user_id and event.external_user_id == "ext-1"
    assert event.timezone == "Europe/Paris"
    assert json.loads(event.properties) == {"level": 3, "at": "2026-01-02T00:00:00.000Z"}


def test_builders_give_every_event_its_own_id() -> None:
    ids = {ev.custom_event(USER_IDS, "e", time=1).id for _ in range(100)}
    assert len(ids) == 100


def test_purchases_are_one_event_per_unit() -> None:
    bought = ev.purchases(USER_IDS, "sku-1", 9.5, "EUR", quantity=3, time=100, properties={"size": "M"})

    assert [(p.product_id, p.price, p.currency, p.time) for p in bought] == [("sku-1", 9.5, "EUR", 100)] * 3
    assert len({p.id for p in bought}) == 3
    assert json.loads(bought[0].properties) == {"size": "M"}


@pytest.mark.parametrize("quantity", [0, 101], ids=["zero", "over-100"])
def test_purchase_quantity_outside_braze_range_is_refused(quantity: int) -> None:
    with pytest.raises(CurrentsSchemaError, match="1 to 100"):
        ev.purchases(USER_IDS, "sku", 1.0, "USD", quantity=quantity)


def test_message_event_carries_campaign_dispatch_and_send_ids() -> None:
    event = ev.message_event(ev.EmailSend, USER_IDS, SEND, time=5, email_address="a@example.com")

    assert (event.campaign_id, event.message_variation_id, event.dispatch_id, event.send_id) == (
        "camp-1",
        "var-1",
        "disp-1",
        "send-1",
    )
    assert event.email_address == "a@example.com" and event.timezone == "Europe/Paris"


def test_in_app_events_have_no_dispatch_id_even_when_the_send_has_one() -> None:
    event = ev.message_event(ev.InAppMessageImpression, USER_IDS, SEND, time=5, card_id="card")
    assert "dispatch_id" not in event.model_dump()
    assert event.campaign_id == "camp-1"


def test_abort_carries_abort_type() -> None:
    event = ev.message_event(
        ev.SmsAbort, USER_IDS, SEND, time=5, abort_type="quiet_hours", abort_log="22:00-08:00 Europe/Paris"
    )
    assert event.abort_type == "quiet_hours" and "quiet_hours" in ev.ABORT_TYPES


def test_user_event_builds_subscription_changes() -> None:
    event = ev.user_event(
        ev.SubscriptionGroupStateChange,
        USER_IDS,
        time=7,
        subscription_group_id="grp",
        subscription_status="Unsubscribed",
        channel="email",
    )
    assert (event.event_type, event.subscription_group_id, event.time) == (
        "users.behaviors.subscriptiongroup.StateChange",
        "grp",
        7,
    )


def test_user_delete_request_keeps_only_braze_fields() -> None:
    event = ev.user_delete_request("5f1e2d3c4b5a69788796a5b4", time=9)
    assert json.loads(event.to_line()).keys() == {"event_type", "id", "time", "user_id"}


def test_user_ids_of_a_profile() -> None:
    profile = Profile(
        user_id="ab" * 12, external_id="x", time_zone="America/New_York", created_at=clock.now()
    )
    assert ev.UserIds.of(profile) == ev.UserIds("ab" * 12, "x", "America/New_York")


@dataclass
class BadCase:
    name: str
    call: object
    match: str


def _unknown_field() -> object:
    return ev.message_event(ev.EmailSend, USER_IDS, SEND, email_address="a@b.c", colour="red")


def _missing_required() -> object:
    return ev.message_event(ev.EmailSend, USER_IDS, SEND)


def _naive_time() -> object:
    return ev.custom_event(USER_IDS, "e", time=datetime(2026, 1, 1))


def _unserializable_properties() -> object:
    return ev.custom_event(USER_IDS, "e", {"x": object()})


BAD = [
    BadCase("unknown-field", _unknown_field, "colour"),
    BadCase("missing-required", _missing_required, "email_address"),
    BadCase("naive-datetime", _naive_time, "timezone-aware"),
    BadCase("unserializable-properties", _unserializable_properties, "JSON"),
]


@pytest.mark.parametrize("case", BAD, ids=lambda c: c.name)
def test_builders_refuse_what_the_schema_does_not_allow(case: BadCase) -> None:
    assert callable(case.call)
    with pytest.raises(CurrentsSchemaError, match=case.match):
        case.call()


def test_aware_datetime_time_becomes_epoch_seconds() -> None:
    at = datetime(2026, 1, 1, 0, 0, 1, 900_000, tzinfo=UTC)
    assert ev.custom_event(USER_IDS, "e", time=at).time == 1767225601


def test_to_line_is_one_compact_json_line_without_nulls_and_event_type_first() -> None:
    event = ev.custom_event(USER_IDS, "e", {"text": "line1\nline2"}, time=1)
    line = event.to_line()

    assert line.endswith(b"\n") and line.count(b"\n") == 1
    assert line.startswith(b'{"event_type":"users.behaviors.CustomEvent",')
    record = json.loads(line)
    assert None not in record.values()
    assert "app_id" not in record


@pytest.mark.parametrize(
    "cls", [ev.CustomEvent, ev.EmailClick, ev.SmsInboundReceive], ids=lambda c: c.__name__
)
def test_parse_event_round_trips_a_line(cls: type[ev.CurrentsEvent]) -> None:
    fields: dict[str, object] = {"user_id": "u", "time": 3}
    if cls is ev.CustomEvent:
        fields["name"] = "n"
    if cls is ev.EmailClick:
        fields |= {"email_address": "a@b.c", "suspected_bot_click_reason": ["ua"]}
    if cls is ev.SmsInboundReceive:
        fields["media_urls"] = ["https://x/y.png"]
    event = cls.model_validate(fields)
    assert ev.parse_event(event.to_line()) == event


@pytest.mark.parametrize(
    ("data", "match"),
    [(b"not json", "not a JSON"), (b"[1]", "JSON object"), (b'{"event_type":"users.Nope"}', "unknown")],
    ids=["invalid-json", "not-an-object", "unknown-type"],
)
def test_parse_event_refuses_non_currents_records(data: bytes, match: str) -> None:
    with pytest.raises(CurrentsSchemaError, match=match):
        ev.parse_event(data)
