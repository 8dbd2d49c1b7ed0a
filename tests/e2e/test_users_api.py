"""The user data API over real HTTP on the local runtime: the main flows a Braze client runs."""

from __future__ import annotations

import gzip
import json
from datetime import timedelta
from typing import Any

from engagekit import clock
from engagekit.auth import KeyStore
from engagekit.clock import utc_iso

from infra.local.runtime import LocalPlatform
from tests.e2e.conftest import Http


def recent() -> str:
    """An hour ago on the platform's clock (exports list events of the last 90 days)."""
    return utc_iso(clock.now() - timedelta(hours=1))


def ok(http: Http, method: str, path: str, body: Any = None, status: int = 201) -> dict[str, Any]:
    got, _, out = http.call(method, path, body)
    assert got == status, out
    assert isinstance(out, dict)
    return out


def exported(http: Http, external_id: str) -> dict[str, Any]:
    out = ok(http, "POST", "/users/export/ids", {"external_ids": [external_id]}, status=200)
    [found] = out["users"]
    assert isinstance(found, dict)
    return found


def test_track_then_export_and_currents_land_in_s3(platform: LocalPlatform, http: Http) -> None:
    # given a client tracking attributes, an event and a purchase in one request
    out = ok(
        http,
        "POST",
        "/users/track",
        {
            "attributes": [
                {"external_id": "e2e-1", "first_name": "Ada", "country": "France", "tier": "gold"}
            ],
            "events": [
                {"external_id": "e2e-1", "name": "signed_up", "time": recent(), "properties": {"via": "ad"}}
            ],
            "purchases": [
                {
                    "external_id": "e2e-1",
                    "product_id": "book",
                    "currency": "EUR",
                    "price": 12.5,
                    "quantity": 2,
                    "time": recent(),
                }
            ],
        },
    )
    assert out == {
        "message": "success",
        "attributes_processed": 1,
        "events_processed": 1,
        "purchases_processed": 1,
    }
    # then the export shows the profile with its aggregates
    user = exported(http, "e2e-1")
    assert (user["first_name"], user["country"], user["custom_attributes"]) == ("Ada", "FR", {"tier": "gold"})
    assert user["purchases"][0]["count"] == 2 and user["total_revenue"] == 25.0
    assert user["custom_events"][0]["name"] == "signed_up"
    # and the behaviour events reach the lake, partitioned by Currents event type
    platform.run_until_idle(flush_firehose=True)
    s3 = platform.client("s3")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="lake", Prefix="currents/")["Contents"]]
    purchases = [k for k in keys if "event_type=users.behaviors.Purchase/" in k]
    lines = [
        json.loads(line)
        for key in purchases
        for line in gzip.decompress(s3.get_object(Bucket="lake", Key=key)["Body"].read()).splitlines()
    ]
    mine = [line for line in lines if line.get("external_user_id") == "e2e-1"]
    assert len(mine) == 2 and {line["product_id"] for line in mine} == {"book"}


def test_partial_errors_and_limits_over_http(http: Http) -> None:
    got, _, out = http.call(
        "POST",
        "/users/track",
        {
            "events": [
                {"external_id": "e2e-2", "name": "ok", "time": recent()},
                {"external_id": "e2e-2", "name": "no time"},
            ]
        },
    )
    assert got == 201 and out["events_processed"] == 1
    assert out["errors"] == [{"type": "'time' is required", "input_array": "events", "index": 1}]
    got, _, out = http.call(
        "POST", "/users/track", {"attributes": [{"external_id": f"x{i}"} for i in range(76)]}
    )
    assert (got, out["message"]) == (400, "Max Input Length Exceeded")
    got, _, out = http.call("POST", "/users/track", b"{broken")
    assert got == 400 and out["message"].startswith("Request body is not valid JSON")


def test_identify_merge_and_delete_flow(http: Http) -> None:
    alias = {"alias_name": "cookie-42", "alias_label": "web"}
    # an anonymous visitor browses, then signs up
    ok(
        http,
        "POST",
        "/users/track",
        {"attributes": [{"user_alias": alias, "_update_existing_only": False, "seen": 3}]},
    )
    ok(http, "POST", "/users/track", {"attributes": [{"external_id": "e2e-3", "first_name": "Bo"}]})
    out = ok(
        http,
        "POST",
        "/users/identify",
        {"aliases_to_identify": [{"external_id": "e2e-3", "user_alias": alias}]},
    )
    assert out["aliases_processed"] == 1
    user = exported(http, "e2e-3")
    assert user["custom_attributes"] == {"seen": 3} and user["user_aliases"] == [alias]
    # a duplicate account is merged into it
    ok(http, "POST", "/users/track", {"attributes": [{"external_id": "e2e-3-dup", "plan": "pro"}]})
    merge = {
        "merge_updates": [
            {
                "identifier_to_merge": {"external_id": "e2e-3-dup"},
                "identifier_to_keep": {"external_id": "e2e-3"},
            }
        ]
    }
    ok(http, "POST", "/users/merge", merge, status=202)
    assert exported(http, "e2e-3")["custom_attributes"] == {"seen": 3, "plan": "pro"}
    # and the user asks to be forgotten
    assert ok(http, "POST", "/users/delete", {"external_ids": ["e2e-3"]}, status=202)["deleted"] == 1
    out = ok(
        http, "POST", "/users/export/ids", {"external_ids": ["e2e-3"], "user_aliases": [alias]}, status=200
    )
    assert out["users"] == [] and out["invalid_user_ids"] == ["e2e-3"]


def test_subscription_flows(http: Http) -> None:
    ok(http, "POST", "/users/track", {"attributes": [{"external_id": "e2e-4", "email": "e2e4@example.com"}]})
    body = {"subscription_group_id": "weekly", "subscription_state": "subscribed", "external_id": "e2e-4"}
    ok(http, "POST", "/subscription/status/set", body)
    status = ok(http, "GET", "/subscription/user/status?external_id=e2e-4", status=200)
    assert status["users"][0]["subscription_groups"] == [{"id": "weekly", "status": "Subscribed"}]
    ok(http, "POST", "/email/status", {"email": "e2e4@example.com", "subscription_state": "unsubscribed"})
    assert exported(http, "e2e-4")["email_subscribe"] == "unsubscribed"
    out = ok(http, "GET", "/email/unsubscribes?email=e2e4@example.com", status=200)
    assert [e["email"] for e in out["emails"]] == ["e2e4@example.com"]


def test_keys_are_checked_per_permission(platform: LocalPlatform, http: Http) -> None:
    limited = KeyStore("api_keys").create("e2e-limited", {"users.track"}).secret
    got, _, _ = http.call("POST", "/users/track", {"attributes": [{"external_id": "e2e-5"}]}, key=limited)
    assert got == 201
    got, _, out = http.call("POST", "/users/delete", {"external_ids": ["e2e-5"]}, key=limited)
    assert got == 403 and "users.delete" in out["message"]
    got, _, _ = http.call(
        "POST",
        "/users/track",
        {"attributes": [{"external_id": "e2e-5"}]},
        key="ek_unknown_key_123456789012345",
    )
    assert got == 401
