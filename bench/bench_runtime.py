"""Foundation benchmarks (issue 2): the local runtime's memory over 20,000 mixed operations, and
each function's cold import time next to the import time of its third-party dependencies alone.

Run: ``python -m bench.bench_runtime`` (prints JSON) or ``make bench`` (all benchmarks).
"""

from __future__ import annotations

import gc
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

_IMPORT_PROBE = r"""
import importlib.util, json, sys, time
path, mods = sys.argv[1], json.loads(sys.argv[2])
cpu = time.process_time
t0 = cpu()
for name in mods:  # the handler's third-party modules first, in its import order
    __import__(name)
t1 = cpu()
spec = importlib.util.spec_from_file_location("probe_handler", path)
m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)
t2 = cpu()
stdlib = set(sys.stdlib_module_names)
ours = ("engagekit", "probe_handler", "_")
third = [n for n in sys.modules if n.split(".")[0] not in stdlib and not n.startswith(ours)]
print(json.dumps({"deps_s": t1 - t0, "ours_s": t2 - t1, "third_party": third}))
"""


def _probe(path: str, mods: list[str], pycache: str) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "AWS_DEFAULT_REGION": "us-east-1"}
    # both sides load from bytecode, as the deployed layer does (infra/cdk/layer.py compiles it):
    # one cache folder outside the tree for our modules, the dependencies and the stdlib alike
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = pycache
    out = subprocess.run(
        [sys.executable, "-c", _IMPORT_PROBE, path, json.dumps(mods)],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        cwd=ROOT,
    )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def cold_imports(repeats: int = 7) -> list[dict[str, Any]]:
    """Cold import of each handler: its third-party modules alone, then what our code adds on top.

    Each run is a fresh process that imports the handler's third-party modules (as found by a first
    run, in the handler's import order) and then the handler module, timing both parts in CPU time
    (``time.process_time``: what a preempted process on a shared machine does not pay, unlike wall
    time). The minimum of each part over ``repeats`` runs is reported. Both parts load from bytecode
    compiled by the first, untimed run (a temporary ``PYTHONPYCACHEPREFIX``), as the deployed layer
    ships it (infra/cdk/layer.py).
    """
    sys.path.insert(0, str(ROOT))
    from infra.manifest import MANIFEST

    rows = []
    pycache = tempfile.mkdtemp(prefix="engagekit-bench-pycache-")
    try:
        for fn in MANIFEST.functions:
            rows.append(_cold_import(fn.name, str(ROOT / fn.code_dir / "handler.py"), repeats, pycache))
    finally:
        shutil.rmtree(pycache, ignore_errors=True)
    return rows


def _cold_import(name: str, path: str, repeats: int, pycache: str) -> dict[str, Any]:
    mods = _probe(path, [], pycache)["third_party"]  # also fills the bytecode cache
    runs = [_probe(path, mods, pycache) for _ in range(repeats)]
    deps = min(r["deps_s"] for r in runs)
    ours = min(r["ours_s"] for r in runs)
    return {
        "function": name,
        "handler_import_ms": round((deps + ours) * 1000, 1),
        "third_party_only_ms": round(deps * 1000, 1),
        "ours_adds_pct": round(ours / deps * 100, 1) if deps else None,
        "goal_pct": 20,
        "met": bool(deps) and ours / deps < 0.20,
    }


def runtime_memory(operations: int = 20_000) -> dict[str, Any]:
    """RSS growth of the local runtime over ``operations`` mixed operations (goal: under 100 MB).

    Mix per 10 operations: 1 skeleton ping (API write -> stream -> queue -> Step Functions execution
    -> Firehose), 4 authenticated health checks, 4 ping reads, 1 unknown-key request.
    """
    import psutil

    sys.path.insert(0, str(ROOT))
    from engagekit.clock import ScaledClock

    from infra.local.runtime import LocalPlatform

    proc = psutil.Process()
    with LocalPlatform(clock=ScaledClock(1.0), serve_http=False, background=True) as platform:

        def op(i: int) -> None:
            kind = i % 10
            if kind == 0:
                platform.request("POST", "/skeleton/ping", {"id": f"m{i}"})
            elif kind < 5:
                platform.request("GET", "/health")
            elif kind < 9:
                platform.request("GET", f"/skeleton/ping/m{i - i % 10}")
            else:
                platform.request("GET", "/health", key="ek_wrong_key_xxxxxxxxxxxxxxxxxxxxx")

        warmup = 1_000
        for i in range(warmup):
            op(i)
        platform.run_until_idle(timeout_s=300)
        gc.collect()
        start_rss = proc.memory_info().rss
        started = time.perf_counter()
        for i in range(warmup, warmup + operations):
            op(i)
        platform.run_until_idle(timeout_s=600)
        elapsed = time.perf_counter() - started
        gc.collect()
        end_rss = proc.memory_info().rss
    growth_mb = (end_rss - start_rss) / 1e6
    return {
        "operations": operations,
        "rss_start_mb": round(start_rss / 1e6, 1),
        "rss_end_mb": round(end_rss / 1e6, 1),
        "growth_mb": round(growth_mb, 1),
        "goal_growth_mb": 100,
        "met": growth_mb < 100,
        "ops_per_s": round(operations / elapsed, 1),
        "wall_s": round(elapsed, 1),
    }


def startup(timeout_s: float = 60.0) -> dict[str, Any]:
    """Seconds from starting ``engagekit local`` (a new process, dependencies installed) to the first
    authenticated ``GET /health`` answered 200 (goal: within 20 s)."""
    import socket
    import urllib.request

    def free_port() -> int:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            return int(s.getsockname()[1])

    api, aws = free_port(), free_port()
    key = "ek_bench_startup_key_0123456789abcdef"
    exe = Path(sys.executable).with_name("engagekit")
    env = {**os.environ, "ENGAGEKIT_API_KEY": key}
    started = time.perf_counter()
    proc = subprocess.Popen(
        [str(exe), "local", "--port", str(api), "--aws-port", str(aws)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while time.perf_counter() - started < timeout_s:
            req = urllib.request.Request(
                f"http://127.0.0.1:{api}/health", headers={"Authorization": f"Bearer {key}"}
            )
            try:
                with urllib.request.urlopen(req, timeout=2) as resp:
                    if resp.status == 200:
                        seconds = time.perf_counter() - started
                        return {"seconds_to_health": round(seconds, 2), "goal_s": 20, "met": seconds < 20}
            except OSError:
                time.sleep(0.1)
        return {"seconds_to_health": None, "goal_s": 20, "met": False}
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def run() -> dict[str, Any]:
    return {"startup": startup(), "cold_imports": cold_imports(), "runtime_memory": runtime_memory()}


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
