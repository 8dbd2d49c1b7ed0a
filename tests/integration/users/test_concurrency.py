"""Concurrent writers against DynamoDB (in-process moto) lose nothing (ARCHITECTURE: one write per
user, conditional on the version read).

The local runtime runs one request per function at a time, so these tests drive the use case from
threads directly, with the real DynamoDB adapter. A barrier makes every thread read the identities
(and then the profile) before any of them writes, so the races are certain, not left to
scheduling: all but one conditional write fail, and the losers re-read and re-apply.
"""

from __future__ import annotations

import threading
from typing import Any

from engagekit.currents.exporter import FakeFirehose, FirehoseExporter
from engagekit.profiles.store import DynamoProfileStore, IdentityRecord
from engagekit.users.service import UsersService
from engagekit.users.track import track

from infra.local.runtime import LocalPlatform
from tests.integration.users.conftest import export

THREADS = 6
T = "2026-03-01T10:00:00Z"


class BarrierStore(DynamoProfileStore):
    """Each thread's first identity read waits until every thread has read (then each reads the
    profile, so all of them hold the same version, or all found no user)."""

    def __init__(self, barrier: threading.Barrier) -> None:
        super().__init__("profiles", "identities")
        self._barrier = barrier
        self._seen = threading.local()

    def get_identities(self, keys: Any) -> dict[str, IdentityRecord]:
        found = super().get_identities(keys)
        if not getattr(self._seen, "done", False):
            self._seen.done = True
            self._barrier.wait(timeout=30)
        return found


def run_threads(platform: LocalPlatform, body: dict[str, Any], requests_each: int) -> tuple[list[Any], Any]:
    barrier = threading.Barrier(THREADS)
    store = BarrierStore(barrier)
    calls = store.watch_requests()
    svc = UsersService(store, FirehoseExporter(FakeFirehose()))
    failures: list[Any] = []

    def writer() -> None:
        try:
            for _ in range(requests_each):
                track(body, svc)
        except Exception as exc:  # reported below; a thread must not die silently
            failures.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=writer) for _ in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return failures, calls


def test_concurrent_updates_to_one_user_lose_nothing(platform: LocalPlatform) -> None:
    # given an existing user
    status, _, _ = platform.request("POST", "/users/track", {"attributes": [{"external_id": "hot", "n": 0}]})
    assert status == 201
    # when 6 threads each send 3 requests that increment and record an event, racing on purpose
    body = {
        "attributes": [{"external_id": "hot", "n": {"inc": 1}}],
        "events": [{"external_id": "hot", "name": "hit", "time": T}],
    }
    failures, calls = run_threads(platform, body, requests_each=3)
    # then the races happened (more conditional writes than requests) ...
    assert failures == []
    assert calls["PutItem"] > THREADS * 3
    # ... and every increment and every event is there
    [user] = export(platform, external_ids=["hot"])["users"]
    assert user["custom_attributes"]["n"] == THREADS * 3
    assert user["custom_events"][0]["count"] == THREADS * 3


def test_concurrent_creation_of_one_new_user_makes_one_profile(platform: LocalPlatform) -> None:
    # when 6 threads create the same new user at once, twice each
    body = {"attributes": [{"external_id": "born-once", "n": {"inc": 1}}]}
    failures, calls = run_threads(platform, body, requests_each=2)
    # then the identity claims raced, one profile exists, and it holds every increment
    assert failures == []
    assert calls["UpdateItem"] >= THREADS
    [user] = export(platform, external_ids=["born-once"])["users"]
    assert user["custom_attributes"]["n"] == THREADS * 2
