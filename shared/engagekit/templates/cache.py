"""Per-container caches in front of the repositories, as the Liquid library's ports.

A sender renders one message per recipient; reading the template and every content block it uses
from DynamoDB per render would cost a read per recipient per block. So each container keeps what it
read for ``ttl_seconds`` (default :data:`DEFAULT_TTL_SECONDS`, setting ``TEMPLATE_CACHE_SECONDS``):

- :class:`CachedTemplates` is the :class:`engagekit.liquid.TemplateStore` of a container's
  :class:`~engagekit.liquid.Renderer`. Records carry their ``version`` (hash of the source) and the
  renderer's parsed-template cache is keyed by it, so a changed template or block is re-parsed the
  first time its new version is read, and never before.
- :class:`CachedCredentials` is the :class:`engagekit.liquid.CredentialStore` of the container's
  Connected Content client.

Invalidation: a write through a cache (the API's PUT/DELETE) replaces its own entry at once, so the
container that served the write reads its own writes; other containers see the change when their
entry expires, at most ``ttl_seconds`` later (docs/liquid.md "Caching"). Misses are cached too, so
a missing block does not cost a read per recipient. Times are :mod:`engagekit.clock` seconds.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from engagekit import clock
from engagekit.liquid import BasicAuthCredential, StoredTemplate
from engagekit.templates.records import (
    CredentialRecord,
    CredentialRepository,
    Kind,
    TemplateRecord,
    TemplateRepository,
)

DEFAULT_TTL_SECONDS = 30.0
"""How long a container trusts what it read (seconds): the bound on cross-container staleness."""

MAX_ENTRIES = 4096
"""Entries per cache before the oldest are dropped (bounds a container's memory)."""

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class TtlCache(Generic[K, V]):
    """A small read-through cache with expiry on :func:`engagekit.clock.now_epoch` (seconds).

    ``None`` values (misses) are cached like any other. Thread-safe; bounded to ``max_entries``
    (insertion order, oldest dropped first).
    """

    def __init__(self, ttl_seconds: float, max_entries: int = MAX_ENTRIES) -> None:
        self.ttl_seconds = ttl_seconds
        self.max_entries = max_entries
        self._entries: dict[K, tuple[float, V | None]] = {}
        self._lock = threading.Lock()

    def get(self, key: K, load: Callable[[], V | None]) -> V | None:
        """The cached value of ``key`` if fresh, else ``load()`` (cached for ``ttl_seconds``)."""
        now = clock.now_epoch()
        entry = self._entries.get(key)
        if entry is not None and entry[0] > now:
            return entry[1]
        value = load()
        self.set(key, value, now)
        return value

    def set(self, key: K, value: V | None, now: float | None = None) -> None:
        """Replace ``key``'s entry with ``value`` (a write seen by this container)."""
        expires = (clock.now_epoch() if now is None else now) + self.ttl_seconds
        with self._lock:
            self._entries.pop(key, None)
            self._entries[key] = (expires, value)
            while len(self._entries) > self.max_entries:
                del self._entries[next(iter(self._entries))]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


class CachedTemplates:
    """:class:`engagekit.liquid.TemplateStore` over a :class:`TemplateRepository` (module docstring)."""

    def __init__(self, repository: TemplateRepository, ttl_seconds: float = DEFAULT_TTL_SECONDS) -> None:
        self.repository = repository
        self._cache: TtlCache[tuple[Kind, str], TemplateRecord] = TtlCache(ttl_seconds)

    def record(self, kind: Kind, ident: str) -> TemplateRecord | None:
        """The record ``(kind, ident)``, from the cache when fresh."""
        return self._cache.get((kind, ident), lambda: self.repository.get(kind, ident))

    def fresh_record(self, kind: Kind, ident: str) -> TemplateRecord | None:
        """The record read from the repository now (refreshing the cache): for GET and PUT."""
        record = self.repository.get(kind, ident)
        self._cache.set((kind, ident), record)
        return record

    def put(self, record: TemplateRecord) -> None:
        """Write ``record`` and make this container see it at once."""
        self.repository.put(record)
        self._cache.set((record.kind, record.id), record)

    def get_template(self, template_id: str) -> StoredTemplate | None:
        record = self.record("template", template_id)
        return record.stored() if record is not None else None

    def get_content_block(self, name: str) -> StoredTemplate | None:
        record = self.record("content_block", name)
        return record.stored() if record is not None else None


class CachedCredentials:
    """:class:`engagekit.liquid.CredentialStore` over a :class:`CredentialRepository`.

    A deleted credential stops working in this container at once and in others within
    ``ttl_seconds`` (then ``:basic_auth`` aborts the message, braze-api.md §5.4).
    """

    def __init__(self, repository: CredentialRepository, ttl_seconds: float = DEFAULT_TTL_SECONDS) -> None:
        self.repository = repository
        self._cache: TtlCache[str, CredentialRecord] = TtlCache(ttl_seconds)

    def record(self, name: str) -> CredentialRecord | None:
        return self._cache.get(name, lambda: self.repository.get(name))

    def fresh_record(self, name: str) -> CredentialRecord | None:
        record = self.repository.get(name)
        self._cache.set(name, record)
        return record

    def put(self, record: CredentialRecord) -> None:
        self.repository.put(record)
        self._cache.set(record.name, record)

    def delete(self, name: str) -> bool:
        existed = self.repository.delete(name)
        self._cache.set(name, None)
        return existed

    def get_basic_auth(self, name: str) -> BasicAuthCredential | None:
        record = self.record(name)
        return BasicAuthCredential(record.username, record.password) if record is not None else None
