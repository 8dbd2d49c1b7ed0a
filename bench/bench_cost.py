"""Cost model (issue 8): AWS requests per 1M tracked events and per 1M messages sent, priced.

Counted, not estimated: the README tour's workload runs on the local runtime (moto in process) with
a meter on every AWS SDK call of the process (``botocore``'s ``BaseClient._make_api_call``, which
boto3 and pynamodb both go through), each call attributed to the Lambda function running it, and
every function invocation timed:

1. **Tracked events**: the three retail segments (examples/retail) are defined, then the Online
   Retail 3-day sample is replayed through ``/users/track`` (7,854 objects in 100 requests), and the
   platform drains everything it triggers (profile stream, memberships, timers, Currents export).
   A tracked event is one object of a ``/users/track`` request (attribute update, event, purchase).
2. **Messages**: the top-products email campaign (examples/retail) broadcast to every customer
   with an email (255 users: segment backfill, ``send_run`` state machine, dispatcher, email
   sender, SES, Currents). Per-message costs are linear; the dispatch's fixed part (one execution,
   the dispatcher's queue writes) is shown beside the 100,000-recipient figures of
   ``bench_sends`` (same run of ``make bench``) that amortize it.

Units, as AWS bills them (public on-demand prices, us-east-1, :data:`PRICES`):

- DynamoDB on demand: a write is ``ceil(item KB)`` write request units (WRU), transactional x2; a
  read ``ceil(item / 4 KB)`` read request units (RRU), x0.5 eventually consistent, x2
  transactional. Item sizes are computed from the request (writes) and the response (reads) with
  DynamoDB's size rules (attribute names + values). ``UpdateItem`` is priced on the attributes it
  sends (a lower bound when the stored item is larger; the profile store writes whole items with
  ``PutItem``). DynamoDB Streams reads by Lambda are free.
- SQS: one request per API call per 64 KB of payload; the Lambda event source's ReceiveMessage and
  DeleteMessageBatch are billed to the account and counted (the local runtime makes them through
  the SDK).
- Step Functions (Standard): state transitions = ``*StateEntered`` events of every execution.
- Firehose: ingestion per GB with each record rounded up to 5 KB, plus dynamic partitioning per GB
  processed (the Currents stream partitions by event type; its per-hour JQ charge and per-object
  S3 delivery charge do not scale with events and are left out).
- Lambda: requests + GB-s (arm64), duration = local wall time of each invocation against moto,
  rounded up to 1 ms. API Gateway HTTP API: one request per API call (bodies < 512 KB).
- SES: per email.

Run: ``python -m bench.bench_cost`` (prints JSON). Skips without the Online Retail sample.
"""

from __future__ import annotations

import json
import math
import os
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DAY_AFTER_SAMPLE = datetime(2010, 12, 4, tzinfo=UTC)
MILLION = 1_000_000


def _price(usd: float, unit: str, source: str) -> dict[str, Any]:
    return {"usd": usd, "unit": unit, "source": source}


PRICES: dict[str, dict[str, Any]] = {
    "dynamodb_wru": _price(
        0.625 / MILLION, "WRU", "DynamoDB on-demand, $0.625 per million write request units"
    ),
    "dynamodb_rru": _price(
        0.125 / MILLION, "RRU", "DynamoDB on-demand, $0.125 per million read request units"
    ),
    "sqs_request": _price(
        0.40 / MILLION, "request", "SQS standard, $0.40 per million requests (64 KB chunks)"
    ),
    "sfn_transition": _price(
        0.025 / 1000, "transition", "Step Functions Standard, $0.025 per 1,000 transitions"
    ),
    "firehose_ingest_gb": _price(
        0.029, "GB", "Data Firehose Direct PUT, $0.029 per GB ingested, records rounded up to 5 KB"
    ),
    "firehose_partition_gb": _price(
        0.020, "GB", "Data Firehose dynamic partitioning, $0.020 per GB processed"
    ),
    "lambda_request": _price(0.20 / MILLION, "invocation", "Lambda, $0.20 per million requests"),
    "lambda_gb_s": _price(0.0000133334, "GB-s", "Lambda arm64, $0.0000133334 per GB-second"),
    "api_request": _price(1.00 / MILLION, "request", "API Gateway HTTP API, $1.00 per million requests"),
    "ses_email": _price(0.10 / 1000, "email", "SES, $0.10 per 1,000 emails"),
}
PRICES_AS_OF = "AWS public price pages, us-east-1, on-demand, as of 2025 (DynamoDB after the Nov 2024 cut)"


# --- sizes ----------------------------------------------------------------------------------------


def _value_size(value: dict[str, Any]) -> int:
    """Bytes of one DynamoDB attribute value (low-level form), per DynamoDB's item size rules."""
    kind, v = next(iter(value.items()))
    if kind == "S":
        return len(v.encode())
    if kind == "B":
        return len(v)
    if kind == "N":
        digits = len(str(v).lstrip("-").replace(".", "").lstrip("0")) or 1
        return 1 + math.ceil(digits / 2)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(x.encode()) for x in v)
    if kind == "NS":
        return sum(1 + math.ceil(len(str(x)) / 2) for x in v)
    if kind == "BS":
        return sum(len(x) for x in v)
    if kind == "M":
        return 3 + sum(len(k.encode()) + _value_size(x) + 1 for k, x in v.items())
    if kind == "L":
        return 3 + sum(_value_size(x) + 1 for x in v)
    return 0


def item_size(item: dict[str, Any] | None) -> int:
    """Bytes of a DynamoDB item in low-level form (attribute names + values)."""
    return sum(len(k.encode()) + _value_size(v) for k, v in (item or {}).items())


def _wru(size: int) -> int:
    return max(1, math.ceil(size / 1024))


def _rru(size: int, consistent: bool) -> float:
    units = max(1, math.ceil(size / 4096))
    return float(units) if consistent else units / 2


# --- the meter ------------------------------------------------------------------------------------


class Meter:
    """Counts every AWS SDK call of the process by (function, service, operation), with the billing
    units of each (module docstring). ``current`` is the function running on this thread."""

    def __init__(self) -> None:
        self.calls: Counter[tuple[str, str, str]] = Counter()
        self.units: dict[str, Counter[str]] = defaultdict(Counter)
        self.invocations: Counter[str] = Counter()
        self.duration_ms: Counter[str] = Counter()
        self._local = threading.local()
        self._lock = threading.Lock()
        self.on = False

    @property
    def current(self) -> str:
        stack = getattr(self._local, "stack", None)
        return stack[-1] if stack else "runtime"  # the runtime, or a function's worker thread

    @contextmanager
    def running(self, function: str) -> Iterator[None]:
        stack = self._local.__dict__.setdefault("stack", [])
        stack.append(function)
        started = time.perf_counter()
        try:
            yield
        finally:
            stack.pop()
            if self.on:
                ms = math.ceil((time.perf_counter() - started) * 1000)
                with self._lock:
                    self.invocations[function] += 1
                    self.duration_ms[function] += ms

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()
            self.units.clear()
            self.invocations.clear()
            self.duration_ms.clear()

    def record(self, service: str, op: str, params: dict[str, Any], response: dict[str, Any]) -> None:
        if not self.on:
            return
        fn = self.current
        if fn == "runtime" and not _billable_runtime_call(service, op, response):
            return
        units: Counter[str] = Counter()
        if service == "dynamodb":
            units.update(_dynamodb_units(op, params, response))
        elif service == "sqs":
            payload = len(json.dumps(params.get("Entries") or params.get("MessageBody") or ""))
            units["sqs_request"] += max(1, math.ceil(payload / 65_536))
        elif service == "firehose" and op in ("PutRecordBatch", "PutRecord"):
            records = params.get("Records") or [params.get("Record") or {}]
            for record in records:
                size = len(record.get("Data") or b"")
                units["firehose_records"] += 1
                units["firehose_payload_bytes"] += size
                units["firehose_billed_bytes"] += max(1, math.ceil(size / 5120)) * 5120
        elif service in ("sesv2", "ses") and op in ("SendEmail", "SendRawEmail"):
            dest = params.get("Destination") or {}
            units["ses_email"] += max(
                1, sum(len(dest.get(k) or []) for k in ("ToAddresses", "CcAddresses", "BccAddresses"))
            )
        with self._lock:
            self.calls[(fn, service, op)] += 1
            self.units[fn].update(units)

    @contextmanager
    def installed(self) -> Iterator[Meter]:
        import botocore.client

        original = botocore.client.BaseClient._make_api_call
        meter = self

        def metered(client: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
            response = original(client, operation_name, api_params)
            try:
                meter.record(client.meta.service_model.service_name, operation_name, api_params, response)
            except Exception as exc:  # the meter must never break the platform
                print(f"meter: {operation_name}: {exc}", file=sys.stderr)
            return response

        botocore.client.BaseClient._make_api_call = metered  # type: ignore[method-assign]
        try:
            yield self
        finally:
            botocore.client.BaseClient._make_api_call = original  # type: ignore[method-assign]


def _billable_runtime_call(service: str, op: str, response: dict[str, Any]) -> bool:
    """Whether a call made outside any function stands for something AWS bills.

    Outside a function are the local runtime's own machinery and functions' worker threads. The
    runtime's Lambda event-source polling is billed when it moves messages (ReceiveMessage that
    returns some, DeleteMessageBatch); its empty polls stand for the pollers' idle long polls (a
    fixed cost per queue, not per event) and its GetQueueAttributes, Step Functions bookkeeping,
    Lambda Invoke (a Step Functions task: the Lambda invocation is counted) and Firehose's S3
    PUTs (cents per million events) are not counted. Worker threads' DynamoDB, SQS, SES and
    Firehose calls are the functions' own and are counted.
    """
    if service == "sqs":
        if op == "ReceiveMessage":
            return bool(response.get("Messages"))
        return op != "GetQueueAttributes"
    return service in ("dynamodb", "firehose", "sesv2", "ses")


def _dynamodb_units(op: str, params: dict[str, Any], response: dict[str, Any]) -> Counter[str]:
    u: Counter[str] = Counter()
    consistent = bool(params.get("ConsistentRead"))
    if op == "PutItem":
        u["dynamodb_wru"] += _wru(item_size(params.get("Item")))
    elif op in ("UpdateItem", "DeleteItem"):
        sent = item_size(params.get("Key")) + item_size(params.get("ExpressionAttributeValues"))
        u["dynamodb_wru"] += _wru(sent)
    elif op == "BatchWriteItem":
        for requests in (params.get("RequestItems") or {}).values():
            for r in requests:
                put = r.get("PutRequest")
                u["dynamodb_wru"] += _wru(item_size(put["Item"])) if put else 1
    elif op == "TransactWriteItems":
        for entry in params.get("TransactItems") or []:
            if "Put" in entry:
                u["dynamodb_wru"] += 2 * _wru(item_size(entry["Put"].get("Item")))
            elif "Update" in entry:
                body = entry["Update"]
                u["dynamodb_wru"] += 2 * _wru(
                    item_size(body.get("Key")) + item_size(body.get("ExpressionAttributeValues"))
                )
            elif "Delete" in entry:
                u["dynamodb_wru"] += 2
            else:  # ConditionCheck: a transactional read
                u["dynamodb_rru"] += 2
    elif op == "GetItem":
        u["dynamodb_rru_x2"] += int(2 * _rru(item_size(response.get("Item")), consistent))
    elif op == "BatchGetItem":
        for table, items in (response.get("Responses") or {}).items():
            strong = bool(((params.get("RequestItems") or {}).get(table) or {}).get("ConsistentRead"))
            u["dynamodb_rru_x2"] += sum(int(2 * _rru(item_size(i), strong)) for i in items)
    elif op in ("Query", "Scan"):
        size = sum(item_size(i) for i in response.get("Items") or [])
        u["dynamodb_rru_x2"] += int(2 * _rru(size, consistent))
    elif op == "TransactGetItems":
        for r in response.get("Responses") or []:
            u["dynamodb_rru"] += 2 * max(1, math.ceil(item_size(r.get("Item")) / 4096))
    return u


# --- the workloads --------------------------------------------------------------------------------


def _sample() -> Path | str:
    data_dir = Path(os.environ.get("ENGAGEKIT_DATA_DIR", ROOT.parent / "shared" / "data"))
    path = data_dir / "online-retail" / "sample-2010-12-01-to-03.csv"
    return path if path.exists() else f"Online Retail sample not found at {path} (set ENGAGEKIT_DATA_DIR)"


class _InProcess:
    """An ``engagekit.imports.track.Transport`` over ``LocalPlatform.request`` (no sockets): the
    API Gateway request is counted per call; the platform drains after each (Lambda pollers
    pick up stream and queue records as they arrive)."""

    def __init__(self, platform: Any) -> None:
        self.platform = platform
        self.requests = 0

    def request(self, method: str, path: str, body: Any = None) -> Any:
        from engagekit.imports.track import ApiResponse

        self.requests += 1
        status, headers, out = self.platform.request(method, path, body)
        self.platform.run_until_idle(timeout_s=120)
        return ApiResponse(status, headers, out)


def _definitions() -> dict[str, dict[str, Any]]:
    import yaml

    out: dict[str, dict[str, Any]] = {}
    for path in sorted((ROOT / "examples" / "retail").glob("*")):
        if path.suffix in (".json", ".yaml"):
            data = (
                json.loads(path.read_text()) if path.suffix == ".json" else yaml.safe_load(path.read_text())
            )
            out[data["id"]] = data
    return out


def _transitions(platform: Any) -> int:
    sfn = platform.client("stepfunctions")
    total = 0
    for machine in sfn.list_state_machines()["stateMachines"]:
        for execution in sfn.list_executions(stateMachineArn=machine["stateMachineArn"])["executions"]:
            events = sfn.get_execution_history(executionArn=execution["executionArn"], maxResults=1000)[
                "events"
            ]
            total += sum(e["type"].endswith("StateEntered") for e in events)
    return total


def _totals(meter: Meter, memory_mb: dict[str, int], api_requests: int, transitions: int) -> dict[str, Any]:
    units: Counter[str] = Counter()
    for counts in meter.units.values():
        units.update(counts)
    gb_s = sum(meter.duration_ms[f] / 1000 * memory_mb.get(f, 128) / 1024 for f in meter.invocations)
    return {
        "api_request": api_requests,
        "lambda_request": sum(meter.invocations.values()),
        "lambda_gb_s": round(gb_s, 3),
        "dynamodb_wru": units["dynamodb_wru"],
        "dynamodb_rru": units["dynamodb_rru"] + units["dynamodb_rru_x2"] / 2,
        "sqs_request": units["sqs_request"],
        "sfn_transition": transitions,
        "firehose_records": units["firehose_records"],
        "firehose_payload_bytes": units["firehose_payload_bytes"],
        "firehose_billed_bytes": units["firehose_billed_bytes"],
        "firehose_ingest_gb": units["firehose_billed_bytes"] / 2**30,
        "firehose_partition_gb": units["firehose_payload_bytes"] / 2**30,
        "ses_email": units["ses_email"],
        "by_function": {
            f: {
                "invocations": meter.invocations[f],
                "ms_per_invocation": round(meter.duration_ms[f] / max(1, meter.invocations[f]), 1),
                "memory_mb": memory_mb.get(f),
            }
            for f in sorted(meter.invocations)
        },
        "sdk_calls": {f"{fn}: {service}.{op}": n for (fn, service, op), n in sorted(meter.calls.items())},
    }


def price(totals: dict[str, Any], per: int, scale: int) -> dict[str, Any]:
    """Units and USD per ``scale`` (1M) of ``per`` measured items; ``{"usd_total", "lines"}``."""
    lines = {}
    for key, p in PRICES.items():
        amount = totals.get(key, 0) * scale / per
        lines[key] = {
            "per_1m": round(amount, 4 if key.endswith("_gb") else 1),
            "usd": round(amount * p["usd"], 4),
        }
    return {"usd_total": round(sum(line["usd"] for line in lines.values()), 2), "lines": lines}


def run_workloads() -> dict[str, Any]:
    """Both workloads on one local platform (module docstring)."""
    from engagekit.clock import ManualClock
    from engagekit.replay import read_records, replay

    from infra.local.runtime import LocalPlatform
    from infra.manifest import MANIFEST

    sample = _sample()
    assert isinstance(sample, Path)
    memory_mb = {f.name: f.memory_mb for f in MANIFEST.functions}
    meter = Meter()
    defs = _definitions()
    out: dict[str, Any] = {}
    with (
        meter.installed(),
        LocalPlatform(clock=ManualClock(DAY_AFTER_SAMPLE), serve_http=False, background=False) as platform,
    ):
        original = platform.registry.invoke

        def invoke(name: str, event: Any) -> Any:
            with meter.running(name):
                return original(name, event)

        platform.registry.invoke = invoke  # type: ignore[method-assign]
        transport = _InProcess(platform)
        for seg in ("uk_big_spenders", "lapsed_customers", "cancelled_an_order"):
            body = {k: v for k, v in defs[seg].items() if k not in ("kind", "id")}
            assert transport.request("PUT", f"/segments/{seg}", body).status in (200, 201)
        platform.run_until_idle(timeout_s=120)
        # 1. tracked events
        transitions_before = _transitions(platform)
        meter.reset()
        meter.on, transport.requests = True, 0
        t0 = time.perf_counter()
        summary = replay(read_records(sample), transport, emails=True)
        platform.run_until_idle(timeout_s=300, flush_firehose=True)
        meter.on = False
        objects = summary.attributes + summary.events + summary.purchases
        tracked = _totals(meter, memory_mb, transport.requests, _transitions(platform) - transitions_before)
        out["tracked_events"] = {
            "workload": f"Online Retail sample replay with --emails: {objects:,} objects in "
            f"{summary.requests} /users/track requests ({summary.units:,} purchase units exported to "
            "Currents), 3 segments",
            "objects": objects,
            "requests": summary.requests,
            "wall_s": round(time.perf_counter() - t0, 1),
            "counted": tracked,
            "per_1m_events": price(tracked, objects, MILLION),
        }
        # 2. messages
        platform.client("sesv2").create_email_identity(EmailIdentity="example.com")
        email = dict(defs["top_products_email"])
        seg = {"name": "Customers with an email", "filter": {"email_available": {"value": True}}}
        assert transport.request("PUT", "/segments/with_email", seg).status in (200, 201)
        campaign = {k: v for k, v in email.items() if k not in ("kind", "id")} | {"segment_id": "with_email"}
        assert transport.request("PUT", "/campaigns/cost_email", campaign).status in (200, 201)
        platform.run_until_idle(timeout_s=120)
        transitions_before = _transitions(platform)
        meter.reset()
        meter.on, transport.requests = True, 0
        t0 = time.perf_counter()
        answer = transport.request(
            "POST", "/campaigns/trigger/send", {"campaign_id": "cost_email", "broadcast": True}
        )
        dispatch_id = answer.body["dispatch_id"]
        for _ in range(30):  # the send run polls for completion on the platform clock
            meter.on = False  # the bench's own status poll is not part of the send
            status = platform.request("GET", f"/dispatches/{dispatch_id}")[2]
            meter.on = True
            if status.get("status") == "complete":
                break
            platform.advance(60, timeout_s=120)
        platform.run_until_idle(timeout_s=120, flush_firehose=True)
        meter.on = False
        sent = int(status.get("counts", {}).get("sent", 0))
        messages = _totals(meter, memory_mb, transport.requests, _transitions(platform) - transitions_before)
        out["messages"] = {
            "workload": f"top_products_email broadcast to {status.get('target')} customers with an email",
            "dispatch": {k: status.get(k) for k in ("status", "target", "counts")},
            "messages_sent": sent,
            "wall_s": round(time.perf_counter() - t0, 1),
            "counted": messages,
            "per_1m_messages": price(messages, max(1, sent), MILLION),
        }
    return out


def run(results: dict[str, Any] | None = None) -> dict[str, Any]:
    """The cost model; ``results`` are the other modules' results of the same ``make bench`` run
    (bench/__main__.py passes them), used to show ``bench_sends``' amortized dispatch figures."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    sample = _sample()
    if isinstance(sample, str):
        return {"skipped": sample}
    out: dict[str, Any] = {
        "prices": {k: v["source"] for k, v in PRICES.items()},
        "prices_as_of": PRICES_AS_OF,
    }
    out.update(run_workloads())
    sends = (results or {}).get("bench_sends") or {}
    if "sqs_requests_per_1000" in sends:
        per_1000 = {
            "sqs_request": sends["sqs_requests_per_1000"],
            "sfn_transition": sends.get("state_transitions_per_1000") or 0,
        }
        measured = out["messages"]["per_1m_messages"]["lines"]
        amortized = {k: round(v * 1000, 1) for k, v in per_1000.items()}
        usd = sum(line["usd"] for k, line in measured.items() if k not in amortized)
        usd += sum(amortized[k] * PRICES[k]["usd"] for k in amortized)
        out["messages"]["per_1m_messages_at_100k_broadcasts"] = {
            "note": "SQS requests and state transitions from bench_sends (100,000-recipient broadcast, "
            "same run); every other line as measured here",
            "sqs_request": amortized["sqs_request"],
            "sfn_transition": amortized["sfn_transition"],
            "usd_total": round(usd, 2),
        }
    return out


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
