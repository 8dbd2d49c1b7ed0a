"""Ports Connected Content needs besides HTTP: stored credentials and the response cache.

- :class:`CredentialStore` — ``:basic_auth name`` refers to a credential stored by name; a
  deleted credential aborts the call (braze-api.md §5.4).
- :class:`ResponseCache` — cached responses keyed by request, expiring on
  :func:`engagekit.clock.now` (best effort, like Braze's Memcached-backed cache).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from engagekit import clock
from engagekit.liquid.connected.http import HttpResponse


@dataclass(frozen=True, slots=True)
class BasicAuthCredential:
    """A stored HTTP basic-auth credential."""

    username: str
    password: str


class CredentialStore(Protocol):
    """Named credentials for ``:basic_auth``."""

    def get_basic_auth(self, name: str) -> BasicAuthCredential | None:
        """The credential called ``name``, or ``None`` when it does not exist (or was deleted)."""
        ...


class InMemoryCredentialStore:
    """A dict-backed :class:`CredentialStore` for tests and the local runtime."""

    def __init__(self, credentials: Mapping[str, BasicAuthCredential] | None = None) -> None:
        self._credentials = dict(credentials or {})

    def put(self, name: str, credential: BasicAuthCredential) -> None:
        self._credentials[name] = credential

    def delete(self, name: str) -> None:
        self._credentials.pop(name, None)

    def get_basic_auth(self, name: str) -> BasicAuthCredential | None:
        return self._credentials.get(name)


class ResponseCache(Protocol):
    """Cached Connected Content responses."""

    def get(self, key: str) -> HttpResponse | None:
        """The response stored under ``key`` if it has not expired."""
        ...

    def put(self, key: str, response: HttpResponse, ttl_seconds: float) -> None:
        """Store ``response`` for ``ttl_seconds`` (seconds of :mod:`engagekit.clock` time)."""
        ...


class InMemoryResponseCache:
    """A per-process LRU :class:`ResponseCache` bounded by entries and bytes.

    ``max_entries`` (default 1,024) and ``max_bytes`` (default 64 MiB of bodies) bound memory in a
    Lambda container; the least recently used entries go first.
    """

    def __init__(self, max_entries: int = 1024, max_bytes: int = 64 * 1024 * 1024) -> None:
        self._entries: OrderedDict[str, tuple[float, HttpResponse]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.max_entries = max_entries
        self.max_bytes = max_bytes

    def get(self, key: str) -> HttpResponse | None:
        entry = self._entries.get(key)  # the hit path takes no lock: dict operations are atomic
        if entry is None:
            return None
        expires, response = entry
        if expires <= clock.now_epoch():
            with self._lock:
                if self._entries.get(key) is entry:
                    self._drop(key)
            return None
        try:  # noqa: SIM105 (contextlib.suppress costs ~1 µs on this per-render hot path)
            self._entries.move_to_end(key)
        except KeyError:  # evicted by another thread meanwhile
            pass
        return response

    def put(self, key: str, response: HttpResponse, ttl_seconds: float) -> None:
        if ttl_seconds <= 0 or len(response.body) > self.max_bytes:
            return
        expires = clock.now_epoch() + ttl_seconds
        with self._lock:
            if key in self._entries:
                self._drop(key)
            self._entries[key] = (expires, response)
            self._bytes += len(response.body)
            while self._entries and (len(self._entries) > self.max_entries or self._bytes > self.max_bytes):
                self._drop(next(iter(self._entries)))

    def _drop(self, key: str) -> None:
        _, response = self._entries.pop(key)
        self._bytes -= len(response.body)

    def __len__(self) -> int:
        return len(self._entries)
