"""Both user exports share ONE profile -> JSON projection (issue 7, deliverable 5).

``POST /users/export/ids`` and ``POST /users/export/segment`` (braze-api.md §1.6, §1.7) must return
the same user object for the same profile: both go through
:func:`engagekit.profiles.projection.export_user`. These tests put a spy around it and check that
each export path's output *is* what the projection returned (same objects, not a copy re-shaped
elsewhere).
"""

from __future__ import annotations

import ast
import importlib.util
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from engagekit import clock
from engagekit.currents.exporter import FakeFirehose, FirehoseExporter
from engagekit.domain.profile import Profile
from engagekit.profiles import projection
from engagekit.profiles.store import InMemoryProfileStore
from engagekit.users.export import export_ids
from engagekit.users.models import ExportIdsRequest
from engagekit.users.service import UsersService
from engagekit.users.track import track

from infra.manifest import MANIFEST

ROOT = Path(__file__).resolve().parents[3]
SEGMENT_EXPORT = "POST /users/export/segment"


class Spy:
    """Wraps the real projection; remembers every call and the object it returned."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, frozenset[str] | None, dict[str, Any]]] = []

    def __call__(self, profile: Profile, fields: Any, now: datetime) -> dict[str, Any]:
        out = projection.export_user(profile, fields, now)
        self.calls.append((profile.user_id, None if fields is None else frozenset(fields), out))
        return out


@pytest.fixture(autouse=True)
def manual_clock() -> Iterator[clock.ManualClock]:
    fixed = clock.ManualClock(datetime(2026, 3, 1, 12, tzinfo=UTC))
    previous = clock.set_clock(fixed)
    yield fixed
    clock.set_clock(previous)


def service_with_users() -> UsersService:
    svc = UsersService(InMemoryProfileStore(), FirehoseExporter(FakeFirehose()))
    track(
        {
            "attributes": [
                {"external_id": "p-1", "first_name": "Ada", "tier": "gold"},
                {"external_id": "p-2", "first_name": "Bo"},
            ],
            "events": [{"external_id": "p-1", "name": "played", "time": "2026-03-01T10:00:00Z"}],
        },
        svc,
    )
    return svc


def test_export_ids_returns_exactly_what_the_projection_built(monkeypatch: pytest.MonkeyPatch) -> None:
    # given the shared projection under a spy
    spy = Spy()
    monkeypatch.setattr("engagekit.users.export.export_user", spy)
    # when two users are exported by id, with a field selection
    request = ExportIdsRequest(external_ids=["p-1", "p-2"], fields_to_export=["first_name", "custom_events"])
    body = export_ids(request, service_with_users())
    # then each user object in the response is the projection's own output, for the fields asked
    assert [id(u) for u in body["users"]] == [id(out) for _, _, out in spy.calls]
    assert {fields for _, fields, _ in spy.calls} == {frozenset({"first_name", "custom_events"})}
    assert [u["first_name"] for u in body["users"]] == ["Ada", "Bo"]


def test_export_user_is_defined_once() -> None:
    # given every module of the library, then only engagekit.profiles.projection defines export_user
    # (a second definition would be a second projection, drifting from the first)
    defining = sorted(
        str(path.relative_to(ROOT))
        for path in (ROOT / "shared" / "engagekit").rglob("*.py")
        if any(
            isinstance(node, ast.FunctionDef) and node.name == "export_user"
            for node in ast.walk(ast.parse(path.read_text()))
        )
    )
    assert defining == ["shared/engagekit/profiles/projection.py"]


def test_segment_export_returns_exactly_what_the_projection_built(monkeypatch: pytest.MonkeyPatch) -> None:
    if SEGMENT_EXPORT not in {route.route_key for route, _ in MANIFEST.routes()}:
        pytest.skip(f"{SEGMENT_EXPORT} is not in infra/manifest.py yet (segments engineer, issue 5)")
    if importlib.util.find_spec("engagekit.segments.jobs") is None:
        pytest.fail(f"{SEGMENT_EXPORT} is routed but engagekit.segments.jobs (its projection step) is gone")
    from engagekit.segments import jobs

    spy = Spy()
    monkeypatch.setattr(jobs, "export_user", spy)
    profile = Profile(user_id="u-1", external_id="p-1", created_at=clock.now(), first_name="Ada")
    profile.custom_attributes.update({"tier": "gold", "plan": "pro"})
    # when one member is projected with every field, then with a field list and named attributes
    whole = jobs.project(
        profile,
        jobs.Job.model_construct(fields_to_export=None, custom_attributes_to_export=None),
        clock.now(),
    )
    narrowed = jobs.project(
        profile,
        jobs.Job.model_construct(fields_to_export=["first_name"], custom_attributes_to_export=["tier"]),
        clock.now(),
    )
    # then the first line is the projection's own output; the second narrows the projection's output
    assert whole is spy.calls[0][2]
    assert spy.calls[1][1] == frozenset({"first_name", "custom_attributes"})
    assert narrowed == {
        **{k: v for k, v in spy.calls[1][2].items() if k != "custom_attributes"},
        "custom_attributes": {"tier": "gold"},
    }
