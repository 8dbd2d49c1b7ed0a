"""Stored templates and content blocks: the port, an in-memory fake, a TTL read-through cache,
the per-process parsed-template cache and the python-liquid loader that ties them together.

Content blocks (braze-api.md §5.5): names ≤ 100 characters, content ≤ 50 KB, referenced as
``{{content_blocks.${name}}}``; updating a block updates every message that references it, so parsed
blocks are cached by ``(name, version)`` and a new version replaces the old parse.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from liquid.exceptions import TemplateNotFoundError
from liquid.loader import BaseLoader, TemplateSource

from engagekit import clock
from engagekit.errors import ValidationError

if TYPE_CHECKING:
    from liquid import BoundTemplate, Environment
    from liquid.context import RenderContext

MAX_CONTENT_BLOCK_NAME = 100
"""Characters in a content block name (braze-api.md §5.5)."""

MAX_CONTENT_BLOCK_BYTES = 50 * 1024
"""UTF-8 bytes of content block source (50 KB, braze-api.md §5.5)."""


@dataclass(frozen=True, slots=True)
class StoredTemplate:
    """A template or content block as stored: ``version`` changes whenever ``source`` changes."""

    template_id: str
    source: str
    version: str

    @classmethod
    def of(cls, template_id: str, source: str) -> StoredTemplate:
        """A template whose version is the SHA-256 of its source (first 16 hex digits)."""
        return cls(template_id, source, hashlib.sha256(source.encode()).hexdigest()[:16])


class TemplateStore(Protocol):
    """Where message templates and content blocks live (DynamoDB in the cloud)."""

    def get_template(self, template_id: str) -> StoredTemplate | None:
        """The current version of template ``template_id``, or ``None``."""
        ...

    def get_content_block(self, name: str) -> StoredTemplate | None:
        """The current version of content block ``name``, or ``None``."""
        ...


def validate_content_block(name: str, source: str) -> None:
    """Check braze-api.md §5.5 limits.

    Raises:
        ValidationError: empty or over-long name, or source over 50 KB.
    """
    if not name or len(name) > MAX_CONTENT_BLOCK_NAME:
        raise ValidationError(f"content block name must be 1 to {MAX_CONTENT_BLOCK_NAME} characters")
    if len(source.encode()) > MAX_CONTENT_BLOCK_BYTES:
        raise ValidationError(f"content block {name!r} is over {MAX_CONTENT_BLOCK_BYTES} bytes")


class InMemoryTemplateStore:
    """A dict-backed :class:`TemplateStore` for tests, previews and the local runtime."""

    def __init__(self) -> None:
        self._templates: dict[str, StoredTemplate] = {}
        self._blocks: dict[str, StoredTemplate] = {}

    def put_template(self, template_id: str, source: str) -> StoredTemplate:
        stored = StoredTemplate.of(template_id, source)
        self._templates[template_id] = stored
        return stored

    def put_content_block(self, name: str, source: str) -> StoredTemplate:
        """Create or update block ``name``. Raises ValidationError past the §5.5 limits."""
        validate_content_block(name, source)
        stored = StoredTemplate.of(name, source)
        self._blocks[name] = stored
        return stored

    def delete_content_block(self, name: str) -> None:
        self._blocks.pop(name, None)

    def get_template(self, template_id: str) -> StoredTemplate | None:
        return self._templates.get(template_id)

    def get_content_block(self, name: str) -> StoredTemplate | None:
        return self._blocks.get(name)


class TtlCachedTemplateStore:
    """Read-through cache over a slow :class:`TemplateStore` (misses cached too).

    A change becomes visible within ``ttl_seconds`` (seconds of :mod:`engagekit.clock` time).
    """

    def __init__(self, inner: TemplateStore, ttl_seconds: float = 30.0) -> None:
        self.inner = inner
        self.ttl_seconds = ttl_seconds
        self._entries: dict[tuple[str, str], tuple[float, StoredTemplate | None]] = {}

    def _get(
        self, kind: str, key: str, load: Callable[[str], StoredTemplate | None]
    ) -> StoredTemplate | None:
        now = clock.now_epoch()
        entry = self._entries.get((kind, key))
        if entry is not None and entry[0] > now:
            return entry[1]
        value = load(key)
        self._entries[(kind, key)] = (now + self.ttl_seconds, value)
        return value

    def get_template(self, template_id: str) -> StoredTemplate | None:
        return self._get("template", template_id, self.inner.get_template)

    def get_content_block(self, name: str) -> StoredTemplate | None:
        return self._get("block", name, self.inner.get_content_block)


class ParsedTemplateCache:
    """Parsed templates per process, keyed by ``(key, version)``; a new version evicts the old.

    Bounded LRU (``max_entries``, default 2,048) so a container never grows without limit.
    """

    def __init__(self, max_entries: int = 2048) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[Hashable, tuple[str, BoundTemplate]] = OrderedDict()
        self._lock = threading.Lock()
        self.parses = 0

    def get_or_parse(self, key: Hashable, version: str, parse: Callable[[], BoundTemplate]) -> BoundTemplate:
        """The cached parse of ``key`` at ``version``, parsing (and caching) on a miss.

        Raises:
            liquid.exceptions.LiquidSyntaxError: from ``parse``; failures are not cached.
        """
        entry = self._entries.get(key)  # the hit path takes no lock: dict reads are atomic
        if entry is not None and entry[0] == version:
            try:  # noqa: SIM105 (contextlib.suppress costs ~1 µs on this per-render hot path)
                self._entries.move_to_end(key)
            except KeyError:  # evicted by another thread meanwhile
                pass
            return entry[1]
        template = parse()
        with self._lock:
            self.parses += 1
            self._entries[key] = (version, template)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
        return template

    def __len__(self) -> int:
        return len(self._entries)


class ContentBlockLoader(BaseLoader):
    """python-liquid loader for content blocks, parsing each ``(name, version)`` once."""

    def __init__(self, store: TemplateStore, cache: ParsedTemplateCache) -> None:
        self.store = store
        self.cache = cache

    def _stored(self, name: str) -> StoredTemplate:
        stored = self.store.get_content_block(name)
        if stored is None:
            raise TemplateNotFoundError(f"content block {name!r} does not exist", filename=name)
        return stored

    def get_source(
        self,
        env: Environment,
        template_name: str,
        *,
        context: RenderContext | None = None,
        **kwargs: object,
    ) -> TemplateSource:
        stored = self._stored(template_name)
        return TemplateSource(stored.source, template_name, None)

    def load(
        self,
        env: Environment,
        name: str,
        *,
        globals: object = None,
        context: RenderContext | None = None,
        **kwargs: object,
    ) -> BoundTemplate:
        stored = self._stored(name)
        return self.cache.get_or_parse(
            ("block", id(env), name), stored.version, lambda: env.from_string(stored.source, name=name)
        )
