"""Per-key rate limits per endpoint group, with Braze's default limits (braze-api.md §9, §0).

Every authenticated request counts against its key's limit for the endpoint group of the route's
permission (``users.track``, ``users.export.ids``, ...). Windows are fixed and aligned to the UTC
epoch (a 60 s window starts on the minute); a request costs exactly one DynamoDB ``UpdateItem``
with an atomic ``ADD`` on the counter item of (key, group, window), which returns the new count.
The answer is ``(limit, remaining, reset)`` for the ``X-RateLimit-Limit/Remaining/Reset`` headers
(reset in UTC epoch seconds, braze-api.md §0); over the limit :class:`RateLimitExceeded` (429).

Limits are configuration (braze-api.md §11.1: Braze changed them over time): the ``RATE_LIMITS``
environment variable overrides groups, e.g. ``users.track=100/1s,default=1000/1h``, and
``RATE_LIMITS=off`` turns limiting off. See docs/rate-limits.md.

A DynamoDB item takes at most 1,000 write units per second (AWS DynamoDB quotas, "partition
throughput"): a group whose limit allows more than :data:`WRITES_PER_COUNTER_S` requests per second
spreads its count over several counter items (shards) chosen at random per request and estimates
the total as ``shard count x shards``; every other group counts exactly.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Protocol

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.models import Model

from engagekit import clock
from engagekit.auth import ApiKey
from engagekit.config import FunctionSettings, load_settings
from engagekit.dynamo import bind
from engagekit.errors import ConfigError, RateLimitedError

DEFAULT_GROUP = "default"
WRITES_PER_COUNTER_S = 250
TTL_GRACE_S = 60


@dataclass(frozen=True)
class Limit:
    """``requests`` per fixed window of ``window_s`` seconds."""

    requests: int
    window_s: int

    def __str__(self) -> str:
        return f"{self.requests}/{_format_window(self.window_s)}"


@dataclass(frozen=True)
class Group:
    """An endpoint group: the permissions whose requests share one counter per key."""

    name: str
    limit: Limit
    permissions: frozenset[str]
    source: str


# Braze's defaults (braze-api.md §9; D:_api/api_limits.md, I:rate_limits.md). Permission names are
# Braze's REST API key permissions (braze-api.md §0).
DEFAULT_GROUPS: tuple[Group, ...] = (
    Group("users.track", Limit(3_000, 3), frozenset({"users.track"}), "3,000 requests per 3 s"),
    Group("users.track.sync", Limit(500, 60), frozenset({"users.track.sync"}), "500 requests per minute"),
    Group(
        "users.identity",
        Limit(20_000, 60),
        frozenset({"users.delete", "users.alias.new", "users.alias.update", "users.identify", "users.merge"}),
        "20,000 requests per minute, shared",
    ),
    Group(
        "users.export.ids",
        Limit(250, 60),
        frozenset({"users.export.ids"}),
        "250 requests per minute (onboarded on or after 2024-08-22)",
    ),
    Group(
        "users.external_ids",
        Limit(1_000, 60),
        frozenset(
            {
                "users.external_ids.rename",
                "users.external_ids.remove",
                "users.external_id.rename",
                "users.external_id.remove",
            }
        ),
        "1,000 requests per minute",
    ),
    Group(
        "subscription.status.set",
        Limit(5_000, 60),
        frozenset({"subscription.status.set"}),
        "5,000 requests per minute",
    ),
    Group(
        "messaging",
        Limit(250_000, 3600),
        frozenset({"messages.send", "campaigns.trigger.send", "canvas.trigger.send"}),
        "250,000 requests per hour, shared (Braze's 250/min for broadcasts is not separated)",
    ),
    Group("sends.id.create", Limit(100, 86_400), frozenset({"sends.id.create"}), "100 requests per day"),
    Group(
        "catalog.lists",
        Limit(1_000, 3600),
        frozenset({"events.list", "purchases.product_list"}),
        "1,000 requests per hour, shared",
    ),
    Group(DEFAULT_GROUP, Limit(250_000, 3600), frozenset(), "250,000 requests per hour (any other endpoint)"),
)


class RateLimitExceeded(RateLimitedError):
    """Over the limit: ``limit`` requests per window, the window resets at ``reset`` (epoch s)."""

    def __init__(self, group: str, limit: int, reset: int) -> None:
        super().__init__(f"Rate Limited: over {limit} requests per window for '{group}'", reset)
        self.group = group
        self.limit = limit


class CounterStore(Protocol):
    """Atomic counters: add ``n`` to the counter ``counter_id`` and return its new value."""

    def incr(self, counter_id: str, expires_at: int) -> int: ...


# --- configuration ---------------------------------------------------------------------------------
_UNITS = {"": 1, "s": 1, "m": 60, "min": 60, "h": 3600, "d": 86_400}
_LIMIT = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*(s|m|min|h|d)?\s*$")


def _format_window(seconds: int) -> str:
    for unit, size in (("d", 86_400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def parse_limit(text: str) -> Limit:
    """``"3000/3s"``, ``"250/1m"``, ``"100/d"``, ``"500/60"`` (seconds) -> :class:`Limit`.

    Raises :class:`ConfigError` for anything else, a zero limit or a zero window.
    """
    m = _LIMIT.match(text)
    if not m:
        raise ConfigError(f"rate limit {text!r} is not REQUESTS/WINDOW, e.g. 3000/3s, 250/1m, 1000/1h")
    requests, count, unit = int(m.group(1)), int(m.group(2) or 1), m.group(3) or ""
    window_s = count * _UNITS[unit]
    if requests < 1 or window_s < 1:
        raise ConfigError(f"rate limit {text!r}: requests and window must both be at least 1")
    return Limit(requests, window_s)


def parse_groups(spec: str, base: Iterable[Group] = DEFAULT_GROUPS) -> tuple[Group, ...] | None:
    """Apply a ``RATE_LIMITS`` spec to ``base`` groups; ``None`` means limiting is off.

    The spec is comma-separated ``GROUP=REQUESTS/WINDOW`` items (group names as in
    :data:`DEFAULT_GROUPS`); empty keeps the defaults; ``off`` disables limiting. Raises
    :class:`ConfigError` naming an unknown group or a malformed item.
    """
    groups = {g.name: g for g in base}
    spec = spec.strip()
    if spec.lower() in ("off", "none", "disabled"):
        return None
    for item in filter(None, (part.strip() for part in spec.split(","))):
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep:
            raise ConfigError(f"RATE_LIMITS item {item!r} is not GROUP=REQUESTS/WINDOW")
        if name not in groups:
            raise ConfigError(f"RATE_LIMITS: unknown group {name!r}; groups are {', '.join(sorted(groups))}")
        old = groups[name]
        groups[name] = Group(name, parse_limit(value), old.permissions, f"configured ({value.strip()})")
    return tuple(groups.values())


# --- the limiter ---------------------------------------------------------------------------------------
class FixedWindowLimiter:
    """A :class:`engagekit.api.app.RateLimiter`: fixed windows over a :class:`CounterStore`.

    ``shard_choice(n)`` picks a shard in ``range(n)`` (random by default; tests pass a fixed one).
    """

    def __init__(
        self,
        store: CounterStore,
        groups: Iterable[Group] = DEFAULT_GROUPS,
        shard_choice: Callable[[int], int] | None = None,
    ) -> None:
        self._store = store
        self._groups = {g.name: g for g in groups}
        if DEFAULT_GROUP not in self._groups:
            raise ConfigError("rate limit groups need a 'default' group")
        self._by_permission: Mapping[str, Group] = {
            p: g for g in self._groups.values() for p in g.permissions
        }
        self._choose: Callable[[int], int] = shard_choice or random.randrange

    def group_for(self, permission: str) -> Group:
        """The group that counts requests for ``permission`` (``default`` for any other)."""
        return self._by_permission.get(permission, self._groups[DEFAULT_GROUP])

    def hit(self, key: ApiKey, permission: str) -> tuple[int, int, int]:
        """Count one request of ``key`` for ``permission``; one counter write.

        Returns ``(limit, remaining, reset_epoch_s)``; raises :class:`RateLimitExceeded` when this
        request is over the limit (it still counts). Time comes from :func:`engagekit.clock.now`.
        """
        group = self.group_for(permission)
        limit, window_s = group.limit.requests, group.limit.window_s
        window = int(clock.now_epoch() // window_s)
        reset = (window + 1) * window_s
        shards = shard_count(group.limit)
        shard = self._choose(shards) if shards > 1 else 0
        counter_id = f"{key.key_id}#{group.name}#{window_s}#{window}#{shard}"
        count = self._store.incr(counter_id, reset + TTL_GRACE_S) * shards
        if count > limit:
            raise RateLimitExceeded(group.name, limit, reset)
        return limit, max(0, limit - count), reset


def shard_count(limit: Limit) -> int:
    """Counter items for ``limit``: 1 unless it allows more than :data:`WRITES_PER_COUNTER_S` req/s."""
    return max(1, math.ceil(limit.requests / limit.window_s / WRITES_PER_COUNTER_S))


# --- DynamoDB ------------------------------------------------------------------------------------------
class RateCounterItem(Model):
    """Persistence shape of one counter (table from ``RATE_LIMITS_TABLE``, TTL on ``expires_at``)."""

    class Meta:
        table_name = "rate_limits"

    pk = UnicodeAttribute(hash_key=True)
    hits = NumberAttribute(null=True)
    expires_at = NumberAttribute(null=True)


class DynamoCounterStore:
    """Counters in DynamoDB: one ``UpdateItem`` (``ADD hits :1``, ``SET expires_at``) per increment."""

    def __init__(self, table_name: str, host: str | None = None) -> None:
        self._model = bind(RateCounterItem, table_name, host)

    def incr(self, counter_id: str, expires_at: int) -> int:
        """Atomically add one to ``counter_id``; returns the new count. The item expires (TTL) at
        ``expires_at`` epoch seconds. Raises pynamodb's ``UpdateError`` when DynamoDB fails."""
        item = self._model(counter_id)
        item.update(actions=[self._model.hits.add(1), self._model.expires_at.set(expires_at)])
        return int(item.hits or 0)


class RateLimitSettings(FunctionSettings):
    """``RATE_LIMITS_TABLE`` (set on every API function by the manifest) and ``RATE_LIMITS``."""

    rate_limits_table: str | None = None
    rate_limits: str = ""


def limiter_from_settings() -> FixedWindowLimiter | None:
    """The limiter for this function's environment, or ``None`` when it has no ``RATE_LIMITS_TABLE``
    or ``RATE_LIMITS=off``. Cached per (table, spec). Raises :class:`ConfigError` for a bad spec."""
    settings = load_settings(RateLimitSettings)
    if not settings.rate_limits_table:
        return None
    return _limiter(settings.rate_limits_table, settings.rate_limits)


@cache
def _limiter(table: str, spec: str) -> FixedWindowLimiter | None:
    groups = parse_groups(spec)
    return None if groups is None else FixedWindowLimiter(DynamoCounterStore(table), groups)
