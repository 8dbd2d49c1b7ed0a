"""Definitions and the messaging API on the local runtime: handlers, DynamoDB, SQS, Step Functions."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from engagekit.campaigns.ledger_dynamo import DynamoLedger
from engagekit.segments.membership import MembershipStore

from infra.local.runtime import LocalPlatform
from tests.integration.campaigns.conftest import (
    EMAIL,
    currents,
    emails,
    executions,
    ok,
    status,
    track,
    verify_sender,
)
from tests.unit.campaigns.test_ledger import (
    CLAIMS,
    Case,
    check_claim,
    check_history_and_rate,
    check_take_over,
)


def test_campaign_definitions_round_trip(platform: LocalPlatform) -> None:
    body = {"name": "Spring", "tags": ["promo"], "messages": {"email": EMAIL}, "rate_limit_per_minute": 100}
    put = ok(platform, "PUT", "/campaigns/def-1", body, status=201)
    got = ok(platform, "GET", "/campaigns/def-1", status=200)
    assert got == put and {k: got[k] for k in body} == body
    again = ok(platform, "PUT", "/campaigns/def-1", {**got}, status=200)
    assert again["version"] == 1
    updated = ok(platform, "PUT", "/campaigns/def-1", {**body, "tags": ["new"]}, status=200)
    assert updated["version"] == 2 and updated["created_at"] == put["created_at"]


def test_definition_errors(platform: LocalPlatform) -> None:
    assert platform.request("GET", "/campaigns/missing")[0] == 404
    code, _, out = platform.request("PUT", "/campaigns/bad", {"name": "x", "messages": {}})
    assert code == 400 and "No message to send" in str(out)
    code, _, out = platform.request(
        "PUT", "/campaigns/bad", {"name": "x", "messages": {"email": {**EMAIL, "body": "{% if %}"}}}
    )
    assert code == 400 and out["errors"][0]["field"] == "messages.email.body"
    rule = {"channel": "email", "limit": 2, "window": {"amount": 1, "unit": "days"}}
    assert ok(platform, "PUT", "/frequency_caps/daily-x", rule, status=201)["limit"] == 2
    assert ok(platform, "PUT", "/frequency_caps/daily-x", {**rule, "limit": 3}, status=200)["limit"] == 3
    assert ok(platform, "GET", "/frequency_caps/daily-x", status=200)["window"] == rule["window"]


def test_trigger_send_delivers_email_through_ses(platform: LocalPlatform) -> None:
    verify_sender(platform)
    track(
        platform,
        {"external_id": "api-1", "email": "api-1@example.com", "first_name": "Ada"},
        {"external_id": "api-2", "email": "api-2@example.com", "first_name": "Bob"},
    )
    body = {"name": "T", "messages": {"email": {**EMAIL, "subject": "{{api_trigger_properties.${code}}}"}}}
    ok(platform, "PUT", "/campaigns/api-c", body, status=201)
    out = ok(
        platform,
        "POST",
        "/campaigns/trigger/send",
        {
            "campaign_id": "api-c",
            "trigger_properties": {"code": "TOP"},
            "recipients": [
                {"external_user_id": "api-1", "trigger_properties": {"code": "ADA"}},
                {"external_user_id": "api-2", "attributes": {"first_name": "Robert"}},
                {"external_user_id": "api-1"},
            ],
        },
    )
    platform.run_until_idle()
    assert [m["summary"] for m in emails("api-1@example.com")] == ["ADA | <p>Hello Ada</p>"]
    assert [m["summary"] for m in emails("api-2@example.com")] == ["TOP | <p>Hello Robert</p>"]
    got = status(platform, out["dispatch_id"])
    assert got["status"] == "complete" and got["target"] == 2 and got["counts"] == {"sent": 2}
    sends = currents(platform, "users.messages.email.Send")
    assert Counter(e["dispatch_id"] for e in sends)[out["dispatch_id"]] == 2


def test_messaging_api_errors_are_braze_shaped(platform: LocalPlatform) -> None:
    code, _, out = platform.request(
        "POST", "/campaigns/trigger/send", {"campaign_id": "nope", "broadcast": True}
    )
    assert (code, out["message"]) == (400, "Invalid Campaign ID")
    recipients = [{"external_user_id": f"x{i}"} for i in range(51)]
    ok(platform, "PUT", "/campaigns/err-c", {"name": "E", "messages": {"email": EMAIL}}, status=201)
    code, _, out = platform.request(
        "POST", "/campaigns/trigger/send", {"campaign_id": "err-c", "recipients": recipients}
    )
    assert (code, out["message"]) == (
        400,
        "The max number of external_ids and aliases per request was exceeded",
    )
    code, _, out = platform.request("POST", "/messages/send", {"external_user_ids": ["a"], "messages": {}})
    assert code == 400
    code, _, _ = platform.request("POST", "/campaigns/trigger/send", {"campaign_id": "err-c"}, key="")
    assert code == 401


def test_broadcast_runs_the_state_machine_over_segment_shards(platform: LocalPlatform) -> None:
    verify_sender(platform)
    track(platform, *({"external_id": f"seg-{i}", "email": f"seg-{i}@example.com"} for i in range(40)))
    members = MembershipStore(platform.refs[("table", "memberships", "name")])
    out = ok(
        platform, "POST", "/users/export/ids", {"external_ids": [f"seg-{i}" for i in range(25)]}, status=200
    )
    for user in out["users"]:
        members.add("seg-vip", user["braze_id"])
    ok(
        platform,
        "PUT",
        "/campaigns/seg-c",
        {"name": "S", "segment_id": "seg-vip", "messages": {"email": EMAIL}},
        status=201,
    )
    sent = ok(platform, "POST", "/campaigns/trigger/send", {"campaign_id": "seg-c", "broadcast": True})
    platform.run_until_idle()
    platform.advance(60)  # the run's poll wait
    got = status(platform, sent["dispatch_id"])
    assert got["target"] == 25 and got["counts"] == {"sent": 25} and got["status"] == "complete"
    assert sorted(m["to"] for m in emails() if m["to"].startswith("seg-")) == sorted(
        f"seg-{i}@example.com" for i in range(25)
    )
    [run] = [e for e in executions(platform) if e["name"] == sent["dispatch_id"]]
    assert run["status"] == "SUCCEEDED"


def test_scheduled_send_fires_from_the_scheduler(platform: LocalPlatform) -> None:
    verify_sender(platform)
    track(platform, {"external_id": "sched-1", "email": "sched-1@example.com"})
    at = platform.clock.now().replace(microsecond=0)
    from datetime import timedelta

    when = (at + timedelta(minutes=30)).isoformat().replace("+00:00", "Z")
    body: dict[str, Any] = {
        "external_user_ids": ["sched-1"],
        "messages": {"email": EMAIL},
        "schedule": {"time": when},
    }
    out = ok(platform, "POST", "/messages/schedule/create", body)
    assert set(out) == {"dispatch_id", "schedule_id", "message"}
    platform.advance(20 * 60)
    assert emails("sched-1@example.com") == []
    platform.advance(11 * 60)
    assert len(emails("sched-1@example.com")) == 1
    assert status(platform, out["dispatch_id"])["counts"] == {"sent": 1}
    gone = platform.request("POST", "/messages/schedule/delete", {"schedule_id": out["schedule_id"]})
    assert gone[0] == 404


def test_send_ids(platform: LocalPlatform) -> None:
    ok(platform, "PUT", "/campaigns/sid-c", {"name": "S", "messages": {"email": EMAIL}}, status=201)
    out = ok(platform, "POST", "/sends/id/create", {"campaign_id": "sid-c", "send_id": "week-1"})
    assert out == {"message": "success", "send_id": "week-1"}
    code, _, err = platform.request(
        "POST", "/campaigns/trigger/send", {"campaign_id": "sid-c", "send_id": "other", "broadcast": True}
    )
    assert code == 400 and "send_id" in err["message"]


def test_content_cards_land_in_the_inbox_and_sync(platform: LocalPlatform) -> None:
    track(platform, {"external_id": "card-1"})
    ok(
        platform,
        "POST",
        "/messages/send",
        {
            "external_user_ids": ["card-1"],
            "messages": {"content_card": {"title": "Hi", "description": "For {{${user_id}}}"}},
        },
    )
    platform.run_until_idle()
    out = ok(platform, "GET", "/content_cards/sync?external_id=card-1", status=200)
    [card] = out["cards"]
    assert card["description"] == "For card-1" and card["title"] == "Hi"
    assert ok(platform, "GET", "/content_cards/sync?external_id=nobody", status=200)["cards"] == []
    assert platform.request("GET", "/content_cards/sync")[0] == 400


def test_messages_send_with_broken_liquid_is_a_400_and_sends_nothing(platform: LocalPlatform) -> None:
    """Braze: a fatal error is a 400 and nothing is sent; the same check as PUT /campaigns."""
    track(platform, {"external_id": "card-bad"})
    card = {"title": "{% if %}", "description": "For {{${user_id}}}"}
    body = {"external_user_ids": ["card-bad"], "messages": {"content_card": card}}
    code, _, out = platform.request("POST", "/messages/send", body)
    assert code == 400 and "dispatch_id" not in out
    [error] = out["errors"]
    assert error["field"] == "messages.content_card.title"
    assert (error["line"], error["column"]) == (1, 4)
    code, _, put = platform.request(
        "PUT", "/campaigns/bad-card", {"name": "x", "messages": {"content_card": card}}
    )
    assert (code, put["errors"]) == (400, out["errors"])
    schedule = {**body, "schedule": {"time": "2026-03-01T13:00:00Z"}}
    assert platform.request("POST", "/messages/schedule/create", schedule)[0] == 400
    platform.run_until_idle()
    assert ok(platform, "GET", "/content_cards/sync?external_id=card-bad", status=200)["cards"] == []


@pytest.mark.parametrize("case", CLAIMS, ids=lambda c: c.id)
def test_dynamodb_ledger_claim_rules(platform: LocalPlatform, case: Case) -> None:
    check_claim(DynamoLedger(platform.refs[("table", "sends", "name")]), case, "dyn-1")


def test_dynamodb_ledger_take_over_history_and_rate(platform: LocalPlatform) -> None:
    ledger = DynamoLedger(platform.refs[("table", "sends", "name")])
    check_take_over(ledger, "dyn-2")
    check_history_and_rate(ledger, "dyn-3")


def test_a_failed_send_does_not_use_up_reeligibility(platform: LocalPlatform) -> None:
    """SES refuses mail from an unverified domain (email.Bounce, is_drop): the user has not received
    the campaign, so the next trigger sends; once sent, re-eligibility (off) stops the third."""
    sender = "news@unverified-reel.example"
    track(platform, {"external_id": "reel-1", "email": "reel-1@example.com", "first_name": "Ria"})
    body = {"name": "Once", "messages": {"email": {**EMAIL, "from": f"Shop <{sender}>"}}}
    ok(platform, "PUT", "/campaigns/reel-c", body, status=201)
    trigger = {"campaign_id": "reel-c", "recipients": [{"external_user_id": "reel-1"}]}

    first = ok(platform, "POST", "/campaigns/trigger/send", trigger)["dispatch_id"]
    platform.run_until_idle()
    assert status(platform, first)["counts"] == {"failed": 1}
    drops = [e for e in currents(platform, "users.messages.email.Bounce") if e["dispatch_id"] == first]
    assert len(drops) == 1 and drops[0]["is_drop"] is True

    verify_sender(platform, "unverified-reel.example")
    second = ok(platform, "POST", "/campaigns/trigger/send", trigger)["dispatch_id"]
    platform.run_until_idle()
    assert status(platform, second)["counts"] == {"sent": 1}
    assert [m["summary"] for m in emails("reel-1@example.com")] == ["Hi Ria | <p>Hello Ria</p>"]

    third = ok(platform, "POST", "/campaigns/trigger/send", trigger)["dispatch_id"]
    platform.run_until_idle()
    assert status(platform, third)["counts"] == {"aborted": 1}
    aborts = [e for e in currents(platform, "users.messages.email.Abort") if e["dispatch_id"] == third]
    assert [e["abort_type"] for e in aborts] == ["not_reeligible"]
