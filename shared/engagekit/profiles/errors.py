"""Errors of the profiles package."""

from __future__ import annotations

from engagekit.errors import EngagekitError


class ItemError(EngagekitError):
    """One object of a request is invalid; ``type`` is the Braze-style message for its error item.

    The use case reports it as ``{"type": ..., "input_array": ..., "index": ...}`` and skips the
    object; the rest of the request goes on (braze-api.md §0, "success with non-fatal errors").
    """

    def __init__(self, type_: str) -> None:
        super().__init__(type_)
        self.type = type_
