"""Subscription groups and email state through the local runtime (braze-api.md §8)."""

from __future__ import annotations

from typing import Any

from engagekit.users import subscriptions

from infra.local.runtime import LocalPlatform
from tests.integration.users.conftest import service_of, track, user


def call(platform: LocalPlatform, method: str, path: str, body: Any, status: int) -> dict[str, Any]:
    got, _, out = platform.request(method, path, body)
    assert got == status, out
    assert isinstance(out, dict)
    return out


def test_status_set_by_external_id_and_by_shared_email(platform: LocalPlatform) -> None:
    # given two profiles sharing an email and a third by external id
    track(
        platform,
        {
            "attributes": [
                {"external_id": "sg-1", "email": "family@example.com"},
                {"external_id": "sg-2", "email": "family@example.com"},
                {"external_id": "sg-3"},
            ]
        },
    )
    body = {
        "subscription_group_id": "news",
        "subscription_state": "subscribed",
        "email": "family@example.com",
    }
    assert call(platform, "POST", "/subscription/status/set", body, 201) == {"message": "success"}
    body = {"subscription_group_id": "news", "subscription_state": "unsubscribed", "external_id": ["sg-3"]}
    call(platform, "POST", "/subscription/status/set", body, 201)
    # then every profile with the email is subscribed, and sg-3 unsubscribed
    for ext, state in (("sg-1", "subscribed"), ("sg-2", "subscribed"), ("sg-3", "unsubscribed")):
        assert user(platform, ext, "subscription_groups")["subscription_groups"] == [
            {"id": "news", "state": state}
        ]
    # and the user status endpoint reports them
    out = call(platform, "GET", "/subscription/user/status?external_id=sg-1,sg-3", None, 200)
    assert {(u["external_id"], u["subscription_groups"][0]["status"]) for u in out["users"]} == {
        ("sg-1", "Subscribed"),
        ("sg-3", "Unsubscribed"),
    }


def test_status_set_for_unknown_users_stores_nothing_and_reports_them(platform: LocalPlatform) -> None:
    track(platform, {"attributes": [{"external_id": "sgu-known"}]})
    body = {
        "subscription_group_id": "news-u",
        "subscription_state": "subscribed",
        "external_id": ["sgu-ghost", "sgu-known"],
        "email": ["nobody-sgu@example.com"],
    }
    out = call(platform, "POST", "/subscription/status/set", body, 201)
    assert out == {
        "message": "success",
        "errors": [
            {
                "type": "no user with external_id 'sgu-ghost'; nothing stored",
                "input_array": "external_id",
                "index": 0,
            },
            {
                "type": "no user with email 'nobody-sgu@example.com'; nothing stored",
                "input_array": "email",
                "index": 0,
            },
        ],
    }
    # the known user is updated; no profile was created for the unknown ones
    assert user(platform, "sgu-known", "subscription_groups")["subscription_groups"] == [
        {"id": "news-u", "state": "subscribed"}
    ]
    store = service_of(platform, "subscriptions").store
    assert not [p for p in store.scan_profiles() if p.external_id == "sgu-ghost"]
    assert not [p for p in store.scan_profiles() if p.email == "nobody-sgu@example.com"]


def test_status_set_refuses_email_and_phone_together(platform: LocalPlatform) -> None:
    body = {
        "subscription_group_id": "g",
        "subscription_state": "subscribed",
        "email": "a@b.co",
        "phone": "+15555550100",
    }
    out = call(platform, "POST", "/subscription/status/set", body, 400)
    assert out == {"message": "Either an email address or a phone number should be provided, but not both."}


def test_email_status_applies_now_and_to_later_profiles(platform: LocalPlatform) -> None:
    track(platform, {"attributes": [{"external_id": "es-1", "email": "es@example.com"}]})
    body = {"email": ["es@example.com", "later@example.com"], "subscription_state": "unsubscribed"}
    assert call(platform, "POST", "/email/status", body, 201) == {"message": "success"}
    assert user(platform, "es-1", "email_subscribe")["email_subscribe"] == "unsubscribed"
    # a profile that takes the address later gets its state
    track(platform, {"attributes": [{"external_id": "es-2", "email": "later@example.com"}]})
    assert user(platform, "es-2", "email_subscribe")["email_subscribe"] == "unsubscribed"
    # and both addresses are listed as unsubscribed today
    out = call(platform, "GET", "/email/unsubscribes?start_date=2026-03-01&end_date=2026-03-01", None, 200)
    listed = {e["email"] for e in out["emails"]}
    assert {"es@example.com", "later@example.com"} <= listed
    assert all(e["unsubscribed_at"].startswith("2026-03-01") for e in out["emails"])
    # but not on another day
    out = call(platform, "GET", "/email/unsubscribes?start_date=2026-02-01&end_date=2026-02-02", None, 200)
    assert out["emails"] == []


def test_unsubscribe_through_track_is_listed(platform: LocalPlatform) -> None:
    track(platform, {"attributes": [{"external_id": "es-3", "email": "viatrack@example.com"}]})
    track(platform, {"attributes": [{"external_id": "es-3", "email_subscribe": "unsubscribed"}]})
    out = call(platform, "GET", "/email/unsubscribes?email=viatrack@example.com", None, 200)
    assert [e["email"] for e in out["emails"]] == ["viatrack@example.com"]


def test_hard_bounces_are_recorded_and_listed(platform: LocalPlatform) -> None:
    track(platform, {"attributes": [{"external_id": "hb-1", "email": "bounce@example.com"}]})
    svc = service_of(platform, "subscriptions")
    assert subscriptions.record_hard_bounce(svc, "bounce@example.com") == 1
    out = call(platform, "GET", "/email/hard_bounces?start_date=2026-03-01&end_date=2026-03-02", None, 200)
    assert [e["email"] for e in out["emails"]] == ["bounce@example.com"]
    # a hard bounce does not change the subscription state
    assert user(platform, "hb-1", "email_subscribe")["email_subscribe"] == "subscribed"


def test_email_lists_validate_their_query(platform: LocalPlatform) -> None:
    out = call(platform, "GET", "/email/hard_bounces", None, 400)
    assert out["message"] == "Provide start_date and end_date (YYYY-MM-DD), or an email"
    out = call(platform, "GET", "/email/unsubscribes?start_date=2026-03-02&end_date=2026-03-01", None, 400)
    assert out["message"] == "start_date must not be after end_date"
    assert call(platform, "GET", "/email/unsubscribes?limit=9999&email=a@b.co", None, 400)[
        "message"
    ].startswith("Bad Request")
