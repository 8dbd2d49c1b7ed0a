"""Reading profiles for segments: consistent reads by id (timer sweep, exports) and parallel-scan
pages (backfill), decoded with :func:`engagekit.profiles.store.profile_from_image` -- the same
decoder the stream handler uses, so the three paths see one profile format.

A parallel scan splits the ``profiles`` table into ``parts`` disjoint segments (DynamoDB's
``Segment``/``TotalSegments``, at most 1,000,000); each page reads up to ``limit`` items and returns
an opaque cursor (the ``LastEvaluatedKey``) or ``None`` after the segment's last page.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterable
from typing import Any, Protocol

from engagekit import aws
from engagekit.domain.profile import Profile
from engagekit.profiles.store import BATCH_GET_KEYS, ProfileStore, profile_from_image

MAX_SCAN_PARTS = 1_000_000
"""DynamoDB's ``TotalSegments`` limit."""


class ProfileSource(Protocol):
    """The profile-reading port of segments (:class:`DynamoProfileSource`, :class:`StoreProfileSource`)."""

    def get(self, user_ids: Iterable[str]) -> dict[str, Profile]:
        """The existing profiles among ``user_ids`` (strongly consistent, BatchGetItem per 100)."""
        ...

    def scan_page(
        self, part: int, parts: int, cursor: str | None, limit: int
    ) -> tuple[list[Profile], str | None]:
        """One page of parallel-scan segment ``part`` of ``parts``: ``(profiles, next_cursor)``."""
        ...


class DynamoProfileSource:
    """:class:`ProfileSource` on the ``profiles`` table through the low-level DynamoDB client
    (the profile item's attributes are decoded by the profiles package's own image decoder)."""

    def __init__(self, table_name: str, client: Any = None) -> None:
        self._table = table_name
        self._client = client

    def _ddb(self) -> Any:
        return self._client or aws.client("dynamodb")

    def get(self, user_ids: Iterable[str]) -> dict[str, Profile]:
        wanted = sorted(set(user_ids))
        found: dict[str, Profile] = {}
        for start in range(0, len(wanted), BATCH_GET_KEYS):
            chunk = wanted[start : start + BATCH_GET_KEYS]
            keys: list[dict[str, Any]] = [{"user_id": {"S": u}} for u in chunk]
            request: dict[str, Any] = {self._table: {"Keys": keys, "ConsistentRead": True}}
            while request:
                out = self._ddb().batch_get_item(RequestItems=request)
                for image in out.get("Responses", {}).get(self._table, []):
                    profile = profile_from_image(image)
                    if profile is not None:
                        found[profile.user_id] = profile
                request = out.get("UnprocessedKeys") or {}
        return found

    def scan_page(
        self, part: int, parts: int, cursor: str | None, limit: int
    ) -> tuple[list[Profile], str | None]:
        params: dict[str, Any] = {
            "TableName": self._table,
            "Segment": part,
            "TotalSegments": parts,
            "Limit": limit,
        }
        if cursor:
            params["ExclusiveStartKey"] = json.loads(cursor)
        out = self._ddb().scan(**params)
        profiles = [p for p in (profile_from_image(i) for i in out.get("Items", [])) if p is not None]
        last = out.get("LastEvaluatedKey")
        return profiles, (json.dumps(last, sort_keys=True) if last else None)


class StoreProfileSource:
    """:class:`ProfileSource` over any :class:`~engagekit.profiles.store.ProfileStore` (the
    in-memory fake in tests and the bench). Parts split users by ``crc32(user_id) % parts``;
    the cursor is the last user id returned."""

    def __init__(self, store: ProfileStore) -> None:
        self.store = store

    def get(self, user_ids: Iterable[str]) -> dict[str, Profile]:
        return self.store.get_profiles(user_ids)

    def scan_page(
        self, part: int, parts: int, cursor: str | None, limit: int
    ) -> tuple[list[Profile], str | None]:
        mine = sorted(
            (p for p in self.store.scan_profiles() if zlib.crc32(p.user_id.encode()) % parts == part),
            key=lambda p: p.user_id,
        )
        if cursor:
            mine = [p for p in mine if p.user_id > cursor]
        page = mine[:limit]
        return page, (page[-1].user_id if len(mine) > limit else None)
