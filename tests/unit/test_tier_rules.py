"""The unit tier cannot open sockets; the clock never sleeps in tests."""

from __future__ import annotations

import socket
from datetime import UTC, datetime

import pytest
from engagekit.clock import ManualClock, ScaledClock
from pytest_socket import SocketBlockedError


def test_unit_tests_cannot_open_a_socket() -> None:
    with pytest.raises(SocketBlockedError):
        socket.socket(socket.AF_INET, socket.SOCK_STREAM)


def test_manual_clock_moves_only_when_told() -> None:
    clock = ManualClock(datetime(2026, 3, 29, 0, 30, tzinfo=UTC))
    before = clock.now()
    clock.sleep(3 * 86400)
    assert (clock.now() - before).total_seconds() == 3 * 86400
    with pytest.raises(ValueError):
        clock.advance(-1)


def test_scaled_clock_advance_jumps_ahead() -> None:
    clock = ScaledClock(scale=1000, start=datetime(2026, 1, 1, tzinfo=UTC))
    clock.advance(3600)
    assert clock.now() >= datetime(2026, 1, 1, 1, tzinfo=UTC)
