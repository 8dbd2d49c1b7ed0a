"""``make bench``: run every ``bench/bench_*.py`` module's ``run()`` and publish the numbers.

Writes ``bench/results/latest.json`` (everything, with the machine described) and
``docs/benchmarks.md`` (a readable report). Each module compares its figures with a floor or a
peer measured in the same run; nothing here asserts a timing.

    python -m bench                 # all modules
    python -m bench runtime users   # only bench_runtime and bench_users
"""

from __future__ import annotations

import importlib
import json
import os
import platform
import sys
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "latest.json"
REPORT = ROOT / "docs" / "benchmarks.md"


def machine() -> dict[str, Any]:
    import psutil

    return {
        "cores": os.cpu_count(),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "cpu": platform.processor() or platform.machine(),
        "python": sys.version.split()[0],
        "os": platform.platform(),
    }


def modules(selected: list[str]) -> list[str]:
    names = sorted(p.stem for p in (ROOT / "bench").glob("bench_*.py"))
    if selected:
        names = [n for n in names if n.removeprefix("bench_") in selected or n in selected]
    return names


def _flatten(prefix: str, value: Any, rows: list[tuple[str, str]]) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            _flatten(f"{prefix}.{k}" if prefix else str(k), v, rows)
    elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        for i, v in enumerate(value):
            label = next(
                (str(v[k]) for k in ("name", "function", "template", "case", "shape") if k in v), str(i)
            )
            _flatten(f"{prefix}[{label}]", v, rows)
    else:
        rows.append((prefix, json.dumps(value) if not isinstance(value, str) else value))


def render(report: dict[str, Any]) -> str:
    m = report["machine"]
    lines = [
        "# Benchmarks",
        "",
        f"Measured {report['finished_at']} on {m['cores']} cores, {m['memory_gib']} GiB, "
        f"Python {m['python']} ({m['os']}). Reproduce with `make bench` "
        "(or `python -m bench <module>` for one module).",
        "",
        "Every figure sits beside the floor or peer it is compared with, measured in the same run. "
        "Numbers move with the machine's load; the ratios are what to read.",
        "",
    ]
    for name, result in report["modules"].items():
        lines += [f"## {name}", ""]
        if "error" in result:
            lines += ["```", result["error"].strip()[-2000:], "```", ""]
            continue
        lines += [f"_{result.get('_seconds', '?')} s wall_", "", "| figure | value |", "|---|---|"]
        rows: list[tuple[str, str]] = []
        _flatten("", {k: v for k, v in result.items() if k != "_seconds"}, rows)
        lines += [f"| `{k}` | {v} |" for k, v in rows]
        lines.append("")
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    sys.path.insert(0, str(ROOT))
    report: dict[str, Any] = {
        "machine": machine(),
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "modules": {},
    }
    for name in modules(argv):
        print(f"== {name}", flush=True)
        started = time.perf_counter()
        try:
            result = importlib.import_module(f"bench.{name}").run()
        except Exception:
            result = {"error": traceback.format_exc()}
        result["_seconds"] = round(time.perf_counter() - started, 1)
        report["modules"][name] = result
        print(json.dumps(result, indent=1, default=str)[:3000], flush=True)
    report["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    if argv and RESULTS.exists():
        previous = json.loads(RESULTS.read_text())
        previous["modules"].update(report["modules"])
        previous.update({k: v for k, v in report.items() if k != "modules"})
        report = previous
    RESULTS.write_text(json.dumps(report, indent=2, default=str) + "\n")
    REPORT.write_text(render(report))
    print(f"wrote {RESULTS.relative_to(ROOT)} and {REPORT.relative_to(ROOT)}")
    return 1 if any("error" in r for r in report["modules"].values()) else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
