"""Per-key rate limits through the API (braze-api.md §0, §9), with tiny limits set by RATE_LIMITS.

The platform of this module runs with ``RATE_LIMITS=default=3/1m,users.export.ids=2/1m``; every test
uses its own key so the tests share the platform without sharing counters.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from engagekit.auth import KeyStore
from engagekit.clock import ManualClock
from engagekit.config import load_settings

from infra.local.runtime import LocalPlatform
from infra.manifest import MANIFEST
from infra.spec import Ref

START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
WINDOW_END = int(START.timestamp()) + 60
HAS_TRACK = any(route.path == "/users/track" for route, _ in MANIFEST.routes())


@pytest.fixture(scope="module")
def platform() -> Iterator[LocalPlatform]:
    with pytest.MonkeyPatch.context() as env:
        env.setenv("RATE_LIMITS", "default=3/1m, users.track=2/1m")
        load_settings.cache_clear()
        try:
            with LocalPlatform(clock=ManualClock(START), serve_http=False, background=False) as running:
                yield running
        finally:
            env.delenv("RATE_LIMITS")
            load_settings.cache_clear()


def new_key(platform: LocalPlatform, name: str, permissions: set[str] | None = None) -> str:
    return KeyStore(platform.resolve(Ref("table", "api_keys"))).create(name, permissions or {"*"}).secret


def rate(headers: dict[str, str]) -> tuple[str, str, str]:
    return headers["X-RateLimit-Limit"], headers["X-RateLimit-Remaining"], headers["X-RateLimit-Reset"]


def test_every_success_carries_the_limit_headers_counting_down(platform: LocalPlatform) -> None:
    secret = new_key(platform, "count-down")
    answers = [platform.request("GET", "/health", key=secret) for _ in range(3)]
    assert [a[0] for a in answers] == [200, 200, 200]
    assert [rate(a[1]) for a in answers] == [
        ("3", "2", str(WINDOW_END)),
        ("3", "1", str(WINDOW_END)),
        ("3", "0", str(WINDOW_END)),
    ]


def test_over_the_limit_is_429_rate_limited_until_the_window_resets(platform: LocalPlatform) -> None:
    secret = new_key(platform, "over")
    for _ in range(3):
        assert platform.request("GET", "/health", key=secret)[0] == 200
    status, headers, body = platform.request("GET", "/health", key=secret)
    assert (status, body) == (429, {"message": "Rate Limited"})
    assert headers["X-RateLimit-Remaining"] == "0"
    assert int(headers["X-RateLimit-Reset"]) >= WINDOW_END
    assert headers["X-RateLimit-Limit"] == "3"
    # when the clock reaches the next window
    platform.advance(int(headers["X-RateLimit-Reset"]) - platform.clock.now().timestamp())
    status, headers, _ = platform.request("GET", "/health", key=secret)
    assert status == 200 and headers["X-RateLimit-Remaining"] == "2"


def test_error_responses_carry_the_headers_too(platform: LocalPlatform) -> None:
    secret = new_key(platform, "errors")
    status, headers, body = platform.request("POST", "/skeleton/ping", "{not json", key=secret)
    assert status == 400 and "not valid JSON" in body["message"]
    assert rate(headers)[:2] == ("3", "2")
    status, headers, _ = platform.request("GET", "/skeleton/ping/missing-one", key=secret)
    assert status == 404 and rate(headers)[:2] == ("3", "1")


def test_unauthenticated_responses_have_no_rate_headers(platform: LocalPlatform) -> None:
    status, headers, _ = platform.request("GET", "/health", key="ek_unknown_key_unknown_key_unknown")
    assert status == 401
    assert not any(name.lower().startswith("x-ratelimit") for name in headers)


def test_each_key_has_its_own_counter(platform: LocalPlatform) -> None:
    first, second = new_key(platform, "first"), new_key(platform, "second")
    for _ in range(3):
        platform.request("GET", "/health", key=first)
    assert platform.request("GET", "/health", key=first)[0] == 429
    status, headers, _ = platform.request("GET", "/health", key=second)
    assert status == 200 and headers["X-RateLimit-Remaining"] == "2"


def test_counters_are_items_with_a_ttl_in_the_rate_limits_table(platform: LocalPlatform) -> None:
    secret = new_key(platform, "stored")
    platform.request("GET", "/health", key=secret)
    platform.request("GET", "/health", key=secret)
    ddb = platform.client("dynamodb")
    ttl = ddb.describe_time_to_live(TableName="rate_limits")["TimeToLiveDescription"]
    assert ttl["AttributeName"] == "expires_at" and ttl["TimeToLiveStatus"] == "ENABLED"
    items = ddb.scan(TableName="rate_limits")["Items"]
    from engagekit.auth import hash_secret

    mine = [i for i in items if i["pk"]["S"].startswith(hash_secret(secret)[:12] + "#default#")]
    assert len(mine) == 1
    assert mine[0]["hits"]["N"] == "2"
    window_end = (int(platform.clock.now().timestamp()) // 60 + 1) * 60
    assert int(mine[0]["expires_at"]["N"]) > window_end - 1


@pytest.mark.skipif(not HAS_TRACK, reason="/users/track is not in the manifest yet")
def test_users_track_has_its_own_group(platform: LocalPlatform) -> None:
    secret = new_key(platform, "track")
    body = {"attributes": [{"external_id": "rl-user-1", "first_name": "Rate"}]}
    statuses = [platform.request("POST", "/users/track", body, key=secret)[0] for _ in range(3)]
    assert statuses[:2] == [201, 201] or statuses[:2] == [200, 200]
    assert statuses[2] == 429
    # the default group of the same key is untouched
    assert platform.request("GET", "/health", key=secret)[1]["X-RateLimit-Remaining"] == "2"


def test_a_malformed_rate_limits_setting_is_a_500_that_leaks_nothing(platform: LocalPlatform) -> None:
    secret = new_key(platform, "misconfigured")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("RATE_LIMITS", "no_such_group=1/1s")
        load_settings.cache_clear()
        try:
            status, _, body = platform.request("GET", "/health", key=secret)
        finally:
            env.undo()
            load_settings.cache_clear()
    assert (status, body) == (500, {"message": "Internal Server Error"})
    assert platform.request("GET", "/health", key=secret)[0] == 200
