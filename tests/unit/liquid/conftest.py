"""Fixtures for the personalization unit tests: a manual clock, a profile and a renderer."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
from engagekit.clock import ManualClock, set_clock
from engagekit.domain.profile import Profile, PushToken
from engagekit.liquid import (
    ConnectedContentClient,
    FakeFetcher,
    InMemoryCredentialStore,
    InMemoryTemplateStore,
    Renderer,
)

NOW = datetime(2026, 3, 15, 17, 13, 41, tzinfo=UTC)


@pytest.fixture
def manual_clock() -> Iterator[ManualClock]:
    clock = ManualClock(NOW)
    previous = set_clock(clock)
    yield clock
    set_clock(previous)


@pytest.fixture
def profile() -> Profile:
    p = Profile(
        user_id="65f0c0ffee0000000000abcd",
        external_id="user-42",
        created_at=datetime(2025, 1, 1, tzinfo=UTC),
        first_name="Janet",
        last_name="Doe",
        email="janet@example.com",
        phone="+15555550100",
        country="US",
        language="en",
        time_zone="America/Los_Angeles",
        dob=date(1990, 6, 3),
        gender="F",
        home_city="Portland",
        email_subscribe="opted_in",
        subscription_groups={"sg-news": "subscribed", "sg-sms": "unsubscribed"},
        push_tokens=[PushToken(app_id="app-1", token="tok", device_id="device-9")],
        custom_attributes={
            "zip code": "97201",
            "balance": 17.8,
            "visits": 3,
            "address": {"city": "Portland", "street": "1 Main St"},
            "pets": [{"name": "Rex", "kind": "dog"}, {"name": "Tom", "kind": "cat"}],
            "most_played_song": [{"artist_name": "Nina Simone"}],
            "signup": "2021-08-04T09:00:00Z",
            "tags": ["a", "b"],
            "blank": " ",
            "empty": "",
        },
    )
    p.record_event("added_to_cart", datetime(2026, 3, 14, 10, tzinfo=UTC), {"sku": "X1"})
    p.record_event("added_to_cart", datetime(2026, 3, 15, 10, tzinfo=UTC), {"sku": "X2"})
    p.record_purchase("sku-1", datetime(2026, 3, 10, tzinfo=UTC), price=9.5, quantity=2, currency="USD")
    return p


@pytest.fixture
def store() -> InMemoryTemplateStore:
    return InMemoryTemplateStore()


@pytest.fixture
def fetcher() -> FakeFetcher:
    return FakeFetcher()


@pytest.fixture
def credentials() -> InMemoryCredentialStore:
    return InMemoryCredentialStore()


@pytest.fixture
def renderer(
    store: InMemoryTemplateStore,
    fetcher: FakeFetcher,
    credentials: InMemoryCredentialStore,
    manual_clock: ManualClock,
) -> Renderer:
    return Renderer(store, connected=ConnectedContentClient(fetcher, credentials=credentials))
