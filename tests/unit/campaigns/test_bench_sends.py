"""Smoke test of bench/bench_sends.py: a small broadcast in process, every recipient sent once."""

from __future__ import annotations

from bench.bench_sends import run


def test_bench_runs_a_small_broadcast_exactly_once() -> None:
    out = run(users=600, moto=False)
    assert out["target"] == 600 and out["outcomes"] == {"sent": 600}
    assert out["provider_calls"] == 600 and out["duplicates"] == 0
    assert out["sqs_requests"] > 0 and out["sender_recipients_per_s_per_core"] > 0
