"""Per-container caches of templates and credentials on in-memory repositories and a manual clock:
entries live ``ttl_seconds``, misses are cached, a write through a cache is seen at once by it and by
other containers only after their entries expire (engagekit.templates.cache)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from engagekit.clock import ManualClock, set_clock
from engagekit.liquid import BasicAuthCredential, Rendered, Renderer, StoredTemplate
from engagekit.templates import (
    CachedCredentials,
    CachedTemplates,
    CredentialRecord,
    InMemoryCredentialRepository,
    InMemoryTemplateRepository,
    TemplateRecord,
    TtlCache,
)

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> Iterator[ManualClock]:
    manual = ManualClock(T0)
    previous = set_clock(manual)
    try:
        yield manual
    finally:
        set_clock(previous)


def record(ident: str, source: str, kind: str = "template") -> TemplateRecord:
    stored = StoredTemplate.of(ident, source)
    return TemplateRecord(kind, ident, source, stored.version, None, (), T0, T0)  # type: ignore[arg-type]


@dataclass
class TtlCase:
    name: str
    after_seconds: float
    reloads: bool


TTL_CASES = [
    TtlCase("fresh_entry_is_served", 0, False),
    TtlCase("just_before_expiry", 29.9, False),
    TtlCase("at_expiry_reloads", 30, True),
    TtlCase("long_after_reloads", 3600, True),
]


@pytest.mark.parametrize("case", TTL_CASES, ids=lambda c: c.name)
def test_ttl_cache_serves_an_entry_for_ttl_seconds(clock: ManualClock, case: TtlCase) -> None:
    loads: list[str] = []
    cache: TtlCache[str, str] = TtlCache(30.0)
    cache.get("k", lambda: loads.append("k") or "v")
    clock.advance(case.after_seconds)
    cache.get("k", lambda: loads.append("k") or "v")
    assert len(loads) == (2 if case.reloads else 1)


def test_ttl_cache_caches_misses_and_stays_bounded(clock: ManualClock) -> None:
    loads = 0

    def missing() -> None:
        nonlocal loads
        loads += 1

    cache: TtlCache[int, str] = TtlCache(30.0, max_entries=3)
    assert cache.get(0, missing) is None and cache.get(0, missing) is None
    assert loads == 1
    for key in range(1, 10):
        cache.set(key, "v")
    assert len(cache) == 3


def test_a_missing_block_costs_one_read_per_ttl_not_per_render(clock: ManualClock) -> None:
    repo = InMemoryTemplateRepository()
    renderer = Renderer(CachedTemplates(repo, 30.0))
    for _ in range(5):
        result = renderer.render("[{{content_blocks.${nope}}}]", None)
        assert isinstance(result, Rendered) and result.text == "[]"
    assert repo.reads == 1


def test_a_write_is_seen_at_once_by_its_container_and_after_the_ttl_by_others(clock: ManualClock) -> None:
    repo = InMemoryTemplateRepository()
    repo.put(record("footer", "old", "content_block"))
    api, sender = CachedTemplates(repo, 30.0), CachedTemplates(repo, 30.0)
    renderer = Renderer(sender)
    assert sender.get_content_block("footer") == StoredTemplate.of("footer", "old")

    api.put(record("footer", "new", "content_block"))
    assert api.get_content_block("footer") == StoredTemplate.of("footer", "new")
    assert renderer.render("{{content_blocks.${footer}}}", None) == Rendered("old")
    clock.advance(30)
    assert renderer.render("{{content_blocks.${footer}}}", None) == Rendered("new")


def test_a_deleted_credential_stops_working_in_its_container_at_once(clock: ManualClock) -> None:
    repo = InMemoryCredentialRepository()
    api, sender = CachedCredentials(repo, 30.0), CachedCredentials(repo, 30.0)
    api.put(CredentialRecord("partner", "acme", "s3", T0, T0))
    assert sender.get_basic_auth("partner") == BasicAuthCredential("acme", "s3")

    assert api.delete("partner") is True and api.delete("partner") is False
    assert api.get_basic_auth("partner") is None
    assert sender.get_basic_auth("partner") == BasicAuthCredential("acme", "s3")
    clock.advance(30)
    assert sender.get_basic_auth("partner") is None
