"""The full Online Retail data set (541,909 lines) through ``engagekit local`` (issue 8).

Starts ``engagekit local`` as its own process (as ``make run`` does), then replays
``online-retail.csv.gz`` exactly as ``engagekit replay --full --shift-to-today`` does (the same
library calls, one request at a time), sampling every ``--every`` seconds: lines sent, requests,
errors, and the resident memory (RSS) of the platform process. Writes
``bench/results/full_replay.json``: wall time, requests, errors, the summary of the replay, the
RSS samples and their trend (flat memory: the RSS of the last quarter against the second quarter).

Not a ``bench_*`` module: it takes 30-60 minutes, so ``make bench`` does not run it; the report
(docs/benchmarks.md) shows the last recorded result.

    python -m bench.full_replay                 # ports 8100/5100
    python -m bench.full_replay --port 8200 --aws-port 5200 --every 10
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import shlex
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "results" / "full_replay.json"


def _rss_mb(pid: int) -> float:
    import psutil

    proc = psutil.Process(pid)
    total = proc.memory_info().rss
    for child in proc.children(recursive=True):
        with contextlib.suppress(psutil.Error):
            total += child.memory_info().rss
    return round(total / 2**20, 1)


def _state(aws_url: str) -> dict[str, Any]:
    """What the platform holds in memory (moto keeps every table and object in the process): bytes
    in the lake bucket (the Currents export, gzip) and items per DynamoDB table."""
    import boto3

    kw: dict[str, Any] = {
        "endpoint_url": aws_url,
        "region_name": "us-east-1",
        "aws_access_key_id": "local",
        "aws_secret_access_key": "local",
    }
    s3, ddb = boto3.client("s3", **kw), boto3.client("dynamodb", **kw)
    objects = lake = 0
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket="lake"):
        for obj in page.get("Contents", []):
            objects += 1
            lake += obj["Size"]
    items = {}
    for table in ("profiles", "identities", "memberships", "segment_timers", "sends"):
        try:
            items[table] = ddb.describe_table(TableName=table)["Table"].get("ItemCount", 0)
        except Exception:  # a table this manifest does not have
            continue
    return {"lake_objects": objects, "lake_mb": round(lake / 2**20, 1), "items": items}


def _wait_healthy(url: str, key: str, timeout_s: float = 180.0) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        try:
            req = urllib.request.Request(f"{url}/health", headers={"Authorization": f"Bearer {key}"})
            with urllib.request.urlopen(req, timeout=5) as resp:
                if resp.status == 200:
                    return time.monotonic() - started
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"platform not healthy at {url} after {timeout_s:.0f} s")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8100)
    parser.add_argument("--aws-port", type=int, default=5100)
    parser.add_argument("--every", type=float, default=15.0, help="seconds between samples")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)

    sys.path.insert(0, str(ROOT))
    import psutil
    from engagekit.errors import EngagekitError
    from engagekit.imports.track import HttpTransport
    from engagekit.replay import ReplaySummary, locate, read_records, replay
    from engagekit.replay.runner import ReplayProgress, platform_now, shift_to
    from engagekit.replay.source import scan

    path = locate(full=True)
    key = os.environ.get("ENGAGEKIT_API_KEY") or f"ek_bench_{secrets.token_hex(16)}"
    url = f"http://127.0.0.1:{args.port}"
    aws_url = f"http://127.0.0.1:{args.aws_port}"
    command = [str(ROOT / ".venv" / "bin" / "engagekit"), "local", "--port", str(args.port)]
    command += ["--aws-port", str(args.aws_port)]
    log = open(ROOT / "bench" / "results" / "full_replay.platform.log", "w")  # noqa: SIM115
    platform = subprocess.Popen(
        command, cwd=ROOT, env={**os.environ, "ENGAGEKIT_API_KEY": key}, stdout=log, stderr=subprocess.STDOUT
    )
    samples: list[dict[str, Any]] = []
    summary: ReplaySummary | None = None
    stopped: str | None = None
    state: dict[str, Any] = {"rows": 0, "requests": 0, "errors": 0}
    done = threading.Event()
    started_at = datetime.now(UTC)
    try:
        startup_s = _wait_healthy(url, key)
        transport = HttpTransport(url, key)
        total, last_day = scan(path)
        assert last_day is not None
        shift = shift_to(last_day, platform_now(transport).date())
        started = time.monotonic()
        proc = psutil.Process(platform.pid)
        cpu0 = proc.cpu_times()

        def sample() -> None:
            while True:
                elapsed = time.monotonic() - started
                try:
                    rss = _rss_mb(platform.pid)
                except psutil.Error:
                    return
                try:
                    held = _state(aws_url)
                except Exception as exc:  # a sample must not stop the run
                    held = {"error": str(exc)[:200]}
                samples.append({"t_s": round(elapsed, 1), "rss_mb": rss, **state, **held})
                print(
                    f"{elapsed:7.0f} s  {state['rows']:>7,}/{total:,} lines  {state['requests']:>6,} req  "
                    f"{state['errors']} err  rss {rss:,.0f} MB  lake {held.get('lake_mb', '?')} MB  "
                    f"profiles {held.get('items', {}).get('profiles', '?')}",
                    flush=True,
                )
                if done.wait(args.every):
                    return

        def progress(p: ReplayProgress) -> None:
            state.update(rows=p.rows, requests=p.requests, errors=p.errors)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
        try:
            summary = replay(read_records(path), transport, shift=shift or timedelta(0), on_progress=progress)
        except (KeyboardInterrupt, EngagekitError) as exc:
            stopped = f"{type(exc).__name__}: {exc}"
        finally:
            done.set()
            sampler.join()
            transport.close()
        wall = time.monotonic() - started
        cpu1 = proc.cpu_times()
        samples.append({"t_s": round(wall, 1), "rss_mb": _rss_mb(platform.pid), **state, **_state(aws_url)})
    finally:
        platform.terminate()
        try:
            platform.wait(timeout=60)
        except subprocess.TimeoutExpired:
            platform.kill()
        log.close()

    rss = [s["rss_mb"] for s in samples]
    quarter = max(1, len(rss) // 4)
    second_q = rss[quarter : 2 * quarter] or rss
    last_q = rss[-quarter:]
    result = {
        "command": "python -m bench.full_replay " + shlex.join(argv),
        "equivalent_cli": "engagekit local & engagekit replay --full --shift-to-today",
        "data": path.name,
        "lines_in_file": total,
        "started_at": started_at.isoformat(timespec="seconds"),
        "platform_startup_s": round(startup_s, 1),
        "wall_s": round(wall, 1),
        "wall_min": round(wall / 60, 1),
        "finished": stopped is None,
        "stopped": stopped,
        "lines_sent": state["rows"],
        "lines_per_s": round(state["rows"] / wall, 1),
        "requests": state["requests"],
        "errors": state["errors"],
        "summary": summary.as_dict() if summary else None,
        "platform_cpu_s": round((cpu1.user + cpu1.system) - (cpu0.user + cpu0.system), 1),
        "rss_mb": {
            "first": rss[0],
            "max": max(rss),
            "last": rss[-1],
            "mean_second_quarter": round(sum(second_q) / len(second_q), 1),
            "mean_last_quarter": round(sum(last_q) / len(last_q), 1),
            "growth_last_vs_second_quarter_pct": round(
                (sum(last_q) / len(last_q)) / (sum(second_q) / len(second_q)) * 100 - 100, 1
            ),
        },
        "sample_every_s": args.every,
        "samples": samples,
    }
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "samples"}, indent=1))
    print(f"wrote {args.out}")
    return 0 if summary is not None and summary.errors == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
