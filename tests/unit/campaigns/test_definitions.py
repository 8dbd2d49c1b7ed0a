"""Campaign and frequency-capping definitions: validation, Liquid checks, idempotent PUT, GET shape."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from engagekit.campaigns.definitions import CampaignDefinition, FrequencyCapRule, strip_server_fields
from engagekit.campaigns.manage import get_definition, put_campaign, put_frequency_cap
from engagekit.campaigns.store import InMemoryDefinitionStore
from engagekit.clock import ManualClock
from engagekit.errors import NotFoundError, ValidationError
from engagekit.liquid import Renderer
from pydantic import ValidationError as PydanticError

from tests.unit.campaigns.conftest import EMAIL, campaign


@dataclass
class Case:
    id: str
    body: dict[str, Any]
    error: str


INVALID_CAMPAIGNS = [
    Case("no-messages", {"name": "x", "messages": {}}, "No message to send"),
    Case("no-name", {"messages": {"email": EMAIL}}, "name"),
    Case("email-without-body", campaign(messages={"email": {"from": "a@b.co", "subject": "s"}}), "body"),
    Case("email-bad-from", campaign(messages={"email": {**EMAIL, "from": "nobody"}}), "address"),
    Case("sms-without-group", campaign(messages={"sms": {"body": "hi"}}), "subscription_group_id"),
    Case("webhook-ftp", campaign(messages={"webhook": {"url": "ftp://x.example.com/h"}}), "http"),
    Case("rate-below-10", campaign(rate_limit_per_minute=5), "rate_limit_per_minute"),
    Case("rate-above-500k", campaign(rate_limit_per_minute=500_001), "rate_limit_per_minute"),
    Case("quiet-hours-bad-time", campaign(quiet_hours={"start": "25:00", "end": "08:00"}), "HH:MM"),
    Case("quiet-hours-empty", campaign(quiet_hours={"start": "08:00", "end": "08:00"}), "different"),
    Case(
        "reeligibility-over-720d",
        campaign(reeligibility={"enabled": True, "after_s": 721 * 86400}),
        "after_s",
    ),
    Case("unknown-field", campaign(colour="red"), "colour"),
    Case(
        "slideup-too-long",
        campaign(messages={"in_app_message": {"message": "x" * 141}}),
        "Slideup Message Length Exceeded",
    ),
]


@pytest.mark.parametrize("case", INVALID_CAMPAIGNS, ids=lambda c: c.id)
def test_invalid_campaign_bodies_are_refused(case: Case) -> None:
    with pytest.raises(PydanticError, match=case.error):
        CampaignDefinition.model_validate(case.body)


INVALID_CAPS = [
    Case(
        "unknown-channel", {"channel": "fax", "limit": 1, "window": {"amount": 1, "unit": "days"}}, "channel"
    ),
    Case("zero-limit", {"channel": "email", "limit": 0, "window": {"amount": 1, "unit": "days"}}, "limit"),
    Case("over-30-days", {"channel": "any", "limit": 1, "window": {"amount": 5, "unit": "weeks"}}, "30 days"),
    Case(
        "minutes-over-30-days",
        {"channel": "any", "limit": 1, "window": {"amount": 43_201, "unit": "minutes"}},
        "30",
    ),
]


@pytest.mark.parametrize("case", INVALID_CAPS, ids=lambda c: c.id)
def test_invalid_frequency_cap_rules_are_refused(case: Case) -> None:
    with pytest.raises(PydanticError, match=case.error):
        FrequencyCapRule.model_validate(case.body)


def test_a_liquid_syntax_error_is_a_400_naming_field_line_and_column(clock: ManualClock) -> None:
    body = campaign(messages={"email": {**EMAIL, "subject": "Hi {{ ${first_name} "}})
    with pytest.raises(ValidationError) as raised:
        put_campaign("c1", body, InMemoryDefinitionStore(), Renderer())
    [error] = raised.value.errors
    assert error["field"] == "messages.email.subject"
    assert error["line"] == 1


def test_put_then_get_returns_what_was_put_with_server_fields(clock: ManualClock) -> None:
    store = InMemoryDefinitionStore()
    body = campaign(tags=["promo"], quiet_hours={"start": "22:00", "end": "08:00", "fallback": "abort"})
    put_campaign("c1", body, store, Renderer())
    got = get_definition("campaign", "c1", store)
    assert {k: v for k, v in got.items() if k not in ("id", "created_at", "updated_at", "version")} == body
    assert got["id"] == "c1" and got["version"] == 1


def test_putting_the_same_body_again_changes_nothing(clock: ManualClock) -> None:
    store = InMemoryDefinitionStore()
    first, created_first = put_campaign("c1", campaign(), store, Renderer())
    clock.advance(60)
    again, created_again = put_campaign(
        "c1", {**campaign(), "kind": "campaign", "id": "c1"}, store, Renderer()
    )
    assert created_first and not created_again
    assert again == first


def test_a_changed_body_bumps_the_version(clock: ManualClock) -> None:
    store = InMemoryDefinitionStore()
    put_campaign("c1", campaign(), store, Renderer())
    clock.advance(60)
    out, created = put_campaign("c1", campaign(tags=["new"]), store, Renderer())
    assert not created and out["version"] == 2 and out["tags"] == ["new"]


def test_an_id_in_the_body_must_match_the_path() -> None:
    with pytest.raises(ValueError, match="differs"):
        strip_server_fields({"id": "other"}, "c1")


def test_unknown_definitions_are_404(clock: ManualClock) -> None:
    with pytest.raises(NotFoundError):
        get_definition("campaign", "nope", InMemoryDefinitionStore())


def test_an_eleventh_frequency_cap_rule_is_refused(clock: ManualClock) -> None:
    store = InMemoryDefinitionStore()
    rule = {"channel": "email", "limit": 3, "window": {"amount": 1, "unit": "days"}}
    for i in range(10):
        put_frequency_cap(f"r{i}", rule, store)
    put_frequency_cap("r3", {**rule, "limit": 4}, store)  # replacing one is fine
    with pytest.raises(ValidationError, match="at most 10"):
        put_frequency_cap("r10", rule, store)


def test_campaign_ids_are_restricted(clock: ManualClock) -> None:
    with pytest.raises(ValidationError, match="campaign_id"):
        put_campaign("bad id/with slash", campaign(), InMemoryDefinitionStore(), Renderer())
