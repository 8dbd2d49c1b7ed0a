"""bench/bench_segments.py's platform measurements run (they import a handler, so not in the unit tier)."""

from __future__ import annotations

from bench.bench_segments import run


def test_bench_reports_handler_sweep_and_backfill_numbers() -> None:
    result = run(records=100, flip_calls=2, segment_counts=(2, 20), platform=True)
    assert set(result["handler"]["per_record_us"]) == {"2_segments", "20_segments"}
    assert result["handler"]["ratio"] > 0
    assert result["timer_sweep"]["fired"] == result["timer_sweep"]["due_timers"] > 0
    assert result["timer_sweep"]["exited"] == result["timer_sweep"]["fired"]
    assert result["backfill"]["members_after"] == result["backfill"]["profiles"]
    assert result["backfill"]["profiles_per_s"] > 0
