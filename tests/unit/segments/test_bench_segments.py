"""bench/bench_segments.py keeps working: a tiny run reports every measurement."""

from __future__ import annotations

from bench.bench_segments import FLIP_SHAPES, run


def test_bench_runs_small_and_reports_every_measurement() -> None:
    result = run(records=20, flip_calls=3, segment_counts=(2, 20))
    assert set(result["per_record_us"]) == {"2_segments", "20_segments"}
    assert result["ratio"] > 0
    assert isinstance(result["goal_met"], bool)
    assert set(result["next_flip"]) == set(FLIP_SHAPES)
    assert all(shape["next_flip"] is not None for shape in result["next_flip"].values())
