"""Fixtures for the channel sender unit tests (shared with tests/unit/campaigns)."""

from __future__ import annotations

from tests.unit.campaigns.conftest import clock, world

__all__ = ["clock", "world"]
