"""``make bench``: run every ``bench/bench_*.py`` module's ``run()`` and publish the numbers.

Writes ``bench/results/latest.json`` (everything, with the machine described) and
``docs/benchmarks.md`` (a readable report). Each module compares its figures with a floor or a
peer measured in the same run; nothing here asserts a timing.

The report keeps what is written by hand: ``docs/benchmarks-notes.md`` (machine, commands, how to
read the cost model) is copied into it verbatim after the header, and the last full-data-set replay
(``bench/results/full_replay.json``, written by ``python -m bench.full_replay``, which takes 30-60
minutes and is not part of ``make bench``) is summarized. ``bench_cost`` runs last and receives the
other modules' results of the same run (a module whose ``run`` takes ``results``).

    python -m bench                 # all modules
    python -m bench runtime users   # only bench_runtime and bench_users
"""

from __future__ import annotations

import importlib
import inspect
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
NOTES = ROOT / "docs" / "benchmarks-notes.md"
FULL_REPLAY = ROOT / "bench" / "results" / "full_replay.json"
LAST = ("bench_cost",)  # modules that read the others' results: run after them


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> dict[str, Any]:
    import psutil

    return {
        "cores": os.cpu_count(),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "cpu": _cpu_model(),
        "python": sys.version.split()[0],
        "os": platform.platform(),
    }


def modules(selected: list[str]) -> list[str]:
    names = sorted(p.stem for p in (ROOT / "bench").glob("bench_*.py"))
    if selected:
        names = [n for n in names if n.removeprefix("bench_") in selected or n in selected]
    return sorted(names, key=lambda n: n in LAST)


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
    if NOTES.exists():
        lines += [NOTES.read_text().strip(), ""]
    if FULL_REPLAY.exists():
        lines += full_replay_section(json.loads(FULL_REPLAY.read_text()))
    cost = report["modules"].get("bench_cost")
    if cost and "error" not in cost and "skipped" not in cost:
        lines += cost_section(cost)
    for name, result in report["modules"].items():
        lines += [f"## {name}", ""]
        if "error" in result:
            lines += ["```", result["error"].strip()[-2000:], "```", ""]
            continue
        lines += [
            f"_{result.get('_seconds', '?')} s wall · reproduce: `python -m bench.{name}`_",
            "",
            "| figure | value |",
            "|---|---|",
        ]
        rows: list[tuple[str, str]] = []
        _flatten("", {k: v for k, v in result.items() if k != "_seconds"}, rows)
        lines += [f"| `{k}` | {v} |" for k, v in rows]
        lines.append("")
    return "\n".join(lines) + "\n"


def _results_so_far(report: dict[str, Any]) -> dict[str, Any]:
    """This run's module results, completed by the previous run's for modules not run now."""
    previous: dict[str, Any] = {}
    if RESULTS.exists():
        previous = json.loads(RESULTS.read_text()).get("modules", {})
    return {**previous, **report["modules"]}


def full_replay_section(r: dict[str, Any]) -> list[str]:
    """The last full-data-set replay (bench/results/full_replay.json), as written by bench.full_replay."""
    rss = r.get("rss_mb", {})
    last = (r.get("samples") or [{}])[-1]
    state = f"{last.get('lake_mb', '?')} MB of Currents in the lake, {last.get('items', {})}" if last else ""
    done = "finished" if r.get("finished") else f"stopped ({r.get('stopped')})"
    return [
        "## The full data set through `engagekit local`",
        "",
        f"_Measured {r.get('started_at')} · reproduce: `{r.get('command')}` "
        f"(what `{r.get('equivalent_cli')}` does, with RSS sampled every {r.get('sample_every_s')} s)_",
        "",
        "| figure | value |",
        "|---|---|",
        f"| lines sent / in the file | {r.get('lines_sent', 0):,} / {r.get('lines_in_file', 0):,} ({done}) |",
        f"| wall time | {r.get('wall_s')} s ({r.get('wall_min')} min) |",
        f"| lines per second | {r.get('lines_per_s')} |",
        f"| `/users/track` requests | {r.get('requests', 0):,} |",
        f"| errors | {r.get('errors')} |",
        f"| platform CPU seconds | {r.get('platform_cpu_s')} |",
        f"| platform RSS first / max / last (MB) | {rss.get('first')} / {rss.get('max')} / "
        f"{rss.get('last')} |",
        f"| RSS mean, second quarter → last quarter (MB) | {rss.get('mean_second_quarter')} → "
        f"{rss.get('mean_last_quarter')} ({rss.get('growth_last_vs_second_quarter_pct')} %) |",
        f"| data held in the process at the end | {state} |",
        "",
    ]


def cost_section(cost: dict[str, Any]) -> list[str]:
    """The cost model of bench_cost as two readable tables."""
    from bench.bench_cost import PRICES

    tracked, messages = cost["tracked_events"], cost["messages"]
    per_event, per_message = tracked["per_1m_events"], messages["per_1m_messages"]
    amortized = messages.get("per_1m_messages_at_100k_broadcasts") or {}
    lines = [
        "## Cost model: AWS requests and dollars per million",
        "",
        f"_Counted in this run by `python -m bench.bench_cost`; prices: {cost.get('prices_as_of')}_",
        "",
        f"- tracked events: {tracked['workload']};",
        f"- messages: {messages['workload']} ({messages['messages_sent']} sent).",
        "",
        "| line | unit price | per 1M tracked events | USD | per 1M messages (255-user broadcasts) | USD |",
        "|---|---|---|---|---|---|",
    ]
    for key, p in PRICES.items():
        e, m = per_event["lines"][key], per_message["lines"][key]
        lines.append(
            f"| `{key}` | {p['source']} | {e['per_1m']:,} | {e['usd']:.4f} | {m['per_1m']:,} "
            f"| {m['usd']:.4f} |"
        )
    lines.append(
        f"| **total** | | | **{per_event['usd_total']:.2f}** | | **{per_message['usd_total']:.2f}** |"
    )
    if amortized:
        lines += [
            "",
            f"In broadcasts of 100,000 recipients (bench_sends, same run), the dispatch's fixed part is "
            f"amortized: {amortized['sqs_request']:,} SQS requests and {amortized['sfn_transition']:,} state "
            f"transitions per million messages, **{amortized['usd_total']:.2f} USD per million messages** "
            "(every other line as above).",
        ]
    lines.append("")
    return lines


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
            fn = importlib.import_module(f"bench.{name}").run
            if "results" in inspect.signature(fn).parameters:
                result = fn(results=_results_so_far(report))
            else:
                result = fn()
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
