"""Template store, content block limits, caches (braze-api.md §5.5; per-process caching)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from engagekit.clock import ManualClock
from engagekit.errors import ValidationError
from engagekit.liquid import (
    HttpResponse,
    InMemoryResponseCache,
    InMemoryTemplateStore,
    ParsedTemplateCache,
    StoredTemplate,
    TtlCachedTemplateStore,
)


@dataclass
class BlockCase:
    name: str
    block_name: str
    source: str


INVALID_BLOCKS = [
    BlockCase("empty name", "", "x"),
    BlockCase("name over 100 characters", "n" * 101, "x"),
    BlockCase("content over 50 KB", "big", "x" * (50 * 1024 + 1)),
]


@pytest.mark.parametrize("case", INVALID_BLOCKS, ids=[c.name for c in INVALID_BLOCKS])
def test_content_block_limits_are_enforced(case: BlockCase) -> None:
    with pytest.raises(ValidationError):
        InMemoryTemplateStore().put_content_block(case.block_name, case.source)


def test_content_block_at_the_limits_is_accepted() -> None:
    stored = InMemoryTemplateStore().put_content_block("n" * 100, "x" * (50 * 1024))

    assert stored.template_id == "n" * 100


def test_version_changes_with_the_source() -> None:
    assert StoredTemplate.of("t", "a").version != StoredTemplate.of("t", "b").version
    assert StoredTemplate.of("t", "a").version == StoredTemplate.of("t", "a").version


def test_ttl_store_serves_stale_data_until_the_ttl_passes(manual_clock: ManualClock) -> None:
    inner = InMemoryTemplateStore()
    inner.put_content_block("b", "v1")
    cached = TtlCachedTemplateStore(inner, ttl_seconds=30)
    assert cached.get_content_block("b") == StoredTemplate.of("b", "v1")

    inner.put_content_block("b", "v2")
    stale = cached.get_content_block("b")
    manual_clock.advance(30)
    fresh = cached.get_content_block("b")

    assert (stale, fresh) == (StoredTemplate.of("b", "v1"), StoredTemplate.of("b", "v2"))


def test_parsed_cache_is_bounded() -> None:
    from engagekit.liquid import BrazeEnvironment

    env = BrazeEnvironment()
    cache = ParsedTemplateCache(max_entries=2)
    for key in ("a", "b", "c"):
        cache.get_or_parse(key, "1", lambda k=key: env.from_string(k))  # type: ignore[misc]

    assert len(cache) == 2


def test_response_cache_expires_on_the_engagekit_clock(manual_clock: ManualClock) -> None:
    cache = InMemoryResponseCache()
    cache.put("k", HttpResponse(200, b"x"), ttl_seconds=300)

    manual_clock.advance(299)
    before = cache.get("k")
    manual_clock.advance(1)
    after = cache.get("k")

    assert (before, after) == (HttpResponse(200, b"x"), None)


def test_response_cache_evicts_least_recently_used_by_count_and_bytes(manual_clock: ManualClock) -> None:
    cache = InMemoryResponseCache(max_entries=2, max_bytes=10)
    cache.put("a", HttpResponse(200, b"1234"), 300)
    cache.put("b", HttpResponse(200, b"1234"), 300)
    cache.get("a")
    cache.put("c", HttpResponse(200, b"1234"), 300)

    assert (cache.get("a") is not None, cache.get("b"), cache.get("c") is not None) == (True, None, True)
    cache.put("d", HttpResponse(200, b"123456789"), 300)
    assert len(cache) == 1
