"""The documented limits of the user data API, in one place (braze-api.md §1.1, §9).

:class:`Limits` carries the values that are configurable per deployment (Braze lets a workspace
raise the array cap up to 100); the rest are constants. ``docs/users-api.md`` lists them all.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_OBJECTS_PER_ARRAY = 75
"""/users/track: at most 75 attributes, 75 events and 75 purchases objects (braze-api.md §1.1, §9)."""
MAX_IDS_PER_REQUEST = 50
"""identify, alias/new, alias/update, delete, merge, export/ids, external_ids/*: at most 50 (§1.2-§1.6)."""
MAX_STRING_CHARS = 255
"""Custom attribute strings, event/purchase property names and string values (braze-api.md §9)."""
MAX_NESTED_BYTES = 100 * 1024
"""A nested object or an array of objects, serialized (braze-api.md §1.1.1, §11.2: 100 KB chosen)."""
MAX_EVENT_PROPERTIES_BYTES = 100 * 1024
"""Event properties, serialized (braze-api.md §1.1.2)."""
MAX_PURCHASE_PROPERTIES_BYTES = 50 * 1024
"""Purchase properties, serialized (braze-api.md §1.1.3)."""
MAX_PURCHASE_QUANTITY = 100
"""A purchase object's quantity is 1..100 (braze-api.md §1.1.3)."""
MAX_LAST_PROPERTIES_BYTES = 1024
"""Event properties kept on the profile as the latest occurrence's (larger ones are not kept)."""
MAX_PUSH_TOKENS = 20
"""Push tokens kept per profile (the newest); bounds the item."""
MAX_SUBSCRIPTION_GROUPS = 450
"""Subscription groups per workspace (braze-api.md §8: 350, DRIFT 450; the higher is used)."""
MAX_NESTING_DEPTH = 32
"""Deepest nesting accepted in an attribute value or properties object."""
DEFAULT_ARRAY_MAX_LENGTH = 25
"""Braze's default cap on a simple array attribute; configurable up to 100 (braze-api.md §1.1.1)."""


@dataclass(frozen=True)
class Limits:
    """Per-deployment limits. ``array_max_length``: 1..100, default 25 (braze-api.md §1.1.1)."""

    array_max_length: int = DEFAULT_ARRAY_MAX_LENGTH

    def __post_init__(self) -> None:
        if not 1 <= self.array_max_length <= 100:
            raise ValueError("array_max_length must be 1..100 (braze-api.md §1.1.1)")


DEFAULT_LIMITS = Limits()
