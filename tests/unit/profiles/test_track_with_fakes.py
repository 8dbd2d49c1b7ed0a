"""The /users/track use case on the in-memory store and fake Firehose: write and call counts,
lost races, oversized profiles (braze-api.md §1.1; ARCHITECTURE: one write per user)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from engagekit import clock
from engagekit.currents.exporter import FakeFirehose, FirehoseExporter
from engagekit.domain.profile import Profile
from engagekit.profiles.store import InMemoryProfileStore, VersionConflict, decode_profile, encode_profile
from engagekit.users.service import UsersService
from engagekit.users.track import track

T = "2026-03-01T10:00:00Z"


@pytest.fixture(autouse=True)
def manual_clock() -> Iterator[clock.ManualClock]:
    fixed = clock.ManualClock(datetime(2026, 3, 1, 12, tzinfo=UTC))
    previous = clock.set_clock(fixed)
    yield fixed
    clock.set_clock(previous)


def make_service() -> tuple[UsersService, InMemoryProfileStore, FakeFirehose]:
    store, firehose = InMemoryProfileStore(), FakeFirehose()
    return UsersService(store, FirehoseExporter(firehose)), store, firehose


def body(users: int, per_user: int) -> dict[str, Any]:
    return {
        "attributes": [{"external_id": f"u{u}", "n": {"inc": 1}} for u in range(users)],
        "events": [{"external_id": f"u{u % users}", "name": "e", "time": T} for u in range(users * per_user)][
            :75
        ],
    }


def test_writes_equal_distinct_users_plus_new_identities() -> None:
    svc, store, firehose = make_service()
    # given a request of 5 new users, 75 events spread over them
    track(body(5, 15), svc)
    # then one claim and one profile write per user, and one Firehose call
    assert store.stats.writes == 10 and firehose.calls == 1
    # and the same request again writes each profile once
    store.stats.writes = 0
    outcome = track(body(5, 15), svc)
    assert store.stats.writes == 5 and firehose.calls == 2
    assert outcome.counts == {"attributes_processed": 5, "events_processed": 75}


def test_a_lost_race_is_reapplied_not_lost() -> None:
    svc, store, _ = make_service()
    track({"attributes": [{"external_id": "race", "n": 1}]}, svc)
    real_save = store.save_profile
    raced = {"done": False}

    def save_after_a_concurrent_writer(profile: Profile) -> None:
        if not raced["done"]:
            raced["done"] = True
            # another writer increments first
            other = store.get_profiles([profile.user_id])[profile.user_id]
            other.custom_attributes["n"] += 10
            real_save(other)
        real_save(profile)

    store.save_profile = save_after_a_concurrent_writer  # type: ignore[method-assign]
    track({"attributes": [{"external_id": "race", "n": {"inc": 1}}]}, svc)
    [saved] = list(store.scan_profiles())
    assert saved.custom_attributes["n"] == 12


def test_store_refuses_a_stale_version() -> None:
    store = InMemoryProfileStore()
    p = Profile(user_id="a" * 24, created_at=datetime(2026, 1, 1, tzinfo=UTC))
    store.save_profile(p)
    stale = p.model_copy(update={"version": 0})
    with pytest.raises(VersionConflict):
        store.save_profile(stale)


def test_large_profiles_are_compressed_and_round_trip() -> None:
    p = Profile(user_id="b" * 24, created_at=datetime(2026, 1, 1, tzinfo=UTC))
    for i in range(250):
        p.record_event(f"event-{i:03d}", datetime(2026, 2, 1 + i % 28, tzinfo=UTC))
    p.custom_attributes["blob"] = [f"{i:03d}" + "x" * 250 for i in range(400)]
    doc, docz = encode_profile(p)
    assert doc is None and docz is not None and len(docz) < 100_000
    assert decode_profile(doc, docz, 3).events == p.events


def test_all_invalid_request_writes_nothing() -> None:
    svc, store, firehose = make_service()
    from engagekit.errors import ValidationError

    with pytest.raises(ValidationError):
        track({"events": [{"external_id": "x", "name": "e"}]}, svc)
    assert store.stats.writes == 0 and firehose.calls == 0


def test_stream_image_with_compressed_doc_decodes() -> None:
    import base64

    from engagekit.profiles.store import profile_from_image

    p = Profile(user_id="c" * 24, created_at=datetime(2026, 1, 1, tzinfo=UTC))
    p.custom_attributes["blob"] = [f"{i:03d}" + "x" * 250 for i in range(400)]
    _, docz = encode_profile(p)
    assert docz is not None
    image = {
        "user_id": {"S": p.user_id},
        "version": {"N": "7"},
        "docz": {"B": base64.b64encode(docz).decode()},
    }
    decoded = profile_from_image(image)
    assert decoded is not None and decoded.version == 7
    assert decoded.custom_attributes == p.custom_attributes


class SizeCappedStore(InMemoryProfileStore):
    """Refuses profiles holding the custom attribute ``huge`` (or any profile, ``always``)."""

    def __init__(self, always: bool = False) -> None:
        super().__init__()
        self.always = always

    def save_profile(self, profile: Profile) -> None:
        from engagekit.profiles.store import ProfileTooLarge

        if self.always or "huge" in profile.custom_attributes:
            raise ProfileTooLarge("too large")
        super().save_profile(profile)


def test_attributes_that_would_overflow_the_item_are_refused_and_behaviour_kept() -> None:
    store = SizeCappedStore()
    svc = UsersService(store, FirehoseExporter(FakeFirehose()))
    outcome = track(
        {
            "attributes": [{"external_id": "big", "huge": 1}],
            "events": [{"external_id": "big", "name": "e", "time": T}],
        },
        svc,
    )
    assert outcome.errors == [
        {"type": "the profile would exceed its size limit", "input_array": "attributes", "index": 0}
    ]
    assert outcome.counts == {"attributes_processed": 0, "events_processed": 1}
    [saved] = list(store.scan_profiles())
    assert "huge" not in saved.custom_attributes and saved.events["e"].count == 1


def test_a_profile_at_the_limit_refuses_everything_for_that_user_only() -> None:
    svc = UsersService(SizeCappedStore(always=True), FirehoseExporter(FakeFirehose()))
    outcome = track({"events": [{"external_id": "full", "name": "e", "time": T}]}, svc)
    assert outcome.counts == {"events_processed": 0}
    assert [e["type"] for e in outcome.errors] == ["the profile would exceed its size limit"]
