"""Integration tier: the functions in process against moto, through the local runtime.

One platform per test module (start-up costs about 2.5 s, mostly Step Functions' parser); tests in a
module share it, so they use distinct ids. The clock is manual: tests move it with
``platform.advance(seconds)``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from engagekit.clock import ManualClock

from infra.local.runtime import LocalPlatform

START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def platform() -> Iterator[LocalPlatform]:
    with LocalPlatform(clock=ManualClock(START), serve_http=False, background=False) as running:
        yield running
