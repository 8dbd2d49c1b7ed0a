"""bench/bench_liquid.py keeps working: every engine renders the same text for each template."""

from __future__ import annotations

from bench.bench_liquid import TEMPLATES, run


def test_bench_runs_and_engines_agree() -> None:
    report = run(seconds_per_measurement=0.02)

    assert set(report["templates"]) == set(TEMPLATES)
    for name, row in report["templates"].items():
        assert row["same_output"], name
        assert row["http_fetches_during_measurement"] == 0, name
        assert row["engagekit_rps"] > 0 and row["python_liquid_rps"] > 0 and row["jinja2_rps"] > 0
