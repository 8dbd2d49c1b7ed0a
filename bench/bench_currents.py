"""Currents export benchmarks (issue 7).

1. Events per second through :class:`FirehoseExporter` into the in-memory fake Firehose
   (serialization, packing and call planning included), beside the floor: serializing the same
   events and nothing else.
2. Bytes Firehose bills (each record rounded up to 5 KB) against the payload bytes, for a mix of
   invocations shaped like the platform's producers (goal: billed / payload <= 1.2), with records
   mixing event types (the default) and with one event type per record.
3. DuckDB query time over one million exported events: the events go through the exporter, are
   split and partitioned by ``event_type`` and hour as the delivery stream does, written as gzip
   NDJSON objects into a temporary folder, then queried through :mod:`engagekit.currents.query`;
   beside it, the peer: the same count without the views' dedupe by ``id``.

Run: ``python -m bench.bench_currents`` (prints JSON). Whole run: about 30 s on 2 cores.
"""

from __future__ import annotations

import gzip
import json
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engagekit.currents import events as ev
from engagekit.currents.exporter import FakeFirehose, FirehoseExporter, PackingPolicy
from engagekit.currents.query import connect, view_columns

EPOCH = 1_767_225_600  # 2026-01-01T00:00:00Z
USERS = [ev.UserIds(f"{i:024x}", f"user-{i}", "Europe/Paris") for i in range(10_000)]
CAMPAIGN = ev.MessageIds(
    campaign_id="6f9a1c2e-3b4d-4e5f-8a9b-0c1d2e3f4a5b",
    campaign_name="Spring sale",
    message_variation_id="0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e",
    message_variation_name="Variant A",
    dispatch_id="65a1b2c3d4e5f6a7b8c9d0e1",
    send_id="spring-sale-2026",
)


def _user(i: int) -> ev.UserIds:
    return USERS[i % len(USERS)]


# --------------------------------------------------------------------------------------------
# Invocation shapes (what one handler invocation exports, then flushes once)


def track_full(i: int) -> list[ev.CurrentsEvent]:
    """A full /users/track request: 75 events and 75 purchases (braze-api.md §9)."""
    out: list[ev.CurrentsEvent] = []
    for k in range(75):
        u = _user(i * 75 + k)
        out.append(ev.custom_event(u, "viewed_product", {"sku": f"sku-{k}", "price": 19.9}, time=EPOCH + k))
        out.extend(ev.purchases(u, f"sku-{k}", 19.9, "EUR", time=EPOCH + k, properties={"size": "M"}))
    return out


def track_small(i: int) -> list[ev.CurrentsEvent]:
    """A backend reporting one user's action as it happens: one event and one purchase."""
    u = _user(i)
    return [
        ev.custom_event(u, "checkout", {"cart_items": 3}, time=EPOCH + i),
        *ev.purchases(u, "sku-1", 49.0, "EUR", time=EPOCH + i),
    ]


def email_send_batch(i: int) -> list[ev.CurrentsEvent]:
    """One send_email invocation: an SQS batch of 10 messages of 50 recipients (ARCHITECTURE.md)."""
    return [
        ev.message_event(
            ev.EmailSend, _user(i * 500 + k), CAMPAIGN, time=EPOCH + i, email_address=f"u{k}@example.com"
        )
        for k in range(500)
    ]


def sms_send_batch(i: int) -> list[ev.CurrentsEvent]:
    """One send_sms invocation: 10 messages of 10 recipients."""
    return [
        ev.message_event(
            ev.SmsSend, _user(i * 100 + k), CAMPAIGN, time=EPOCH + i, to_phone_number="+33600000000"
        )
        for k in range(100)
    ]


ENGAGEMENT_KINDS: list[tuple[Any, dict[str, Any]]] = [  # (message event class, its fields)
    *[(ev.EmailDelivery, {"esp": "ses", "sending_ip": "198.51.100.7"})] * 6,
    *[(ev.EmailOpen, {"user_agent": "Mozilla/5.0 (iPhone)", "mailbox_provider": "Gmail"})] * 3,
    (ev.EmailClick, {"url": "https://shop.example.com/spring", "link_alias": "hero"}),
]


def engagement_batch(size: int) -> Callable[[int], list[ev.CurrentsEvent]]:
    """SES notifications of one invocation: 60 % deliveries, 30 % opens, 10 % clicks."""

    def build(i: int) -> list[ev.CurrentsEvent]:
        out: list[ev.CurrentsEvent] = []
        for k in range(size):
            cls, extra = ENGAGEMENT_KINDS[k % len(ENGAGEMENT_KINDS)]
            u = _user(i * size + k)
            out.append(
                ev.message_event(cls, u, CAMPAIGN, time=EPOCH + i, email_address="a@example.com", **extra)
            )
        return out

    return build


def subscription_change(i: int) -> list[ev.CurrentsEvent]:
    """One /subscription/status/set for one user: a group change and a global change."""
    u = _user(i)
    return [
        ev.user_event(
            ev.SubscriptionGroupStateChange,
            u,
            time=EPOCH + i,
            subscription_group_id="newsletter",
            subscription_status="Unsubscribed",
            channel="email",
            state_change_source="REST API",
        ),
        ev.user_event(
            ev.SubscriptionGlobalStateChange,
            u,
            time=EPOCH + i,
            subscription_status="Unsubscribed",
            channel="email",
            state_change_source="REST API",
        ),
    ]


@dataclass(frozen=True)
class Shape:
    name: str
    build: Callable[[int], list[ev.CurrentsEvent]]
    invocations: int


# One hour of a mid-sized workspace, scaled down: invocations per shape. Engagement events are
# consumed from SQS with a batch size of 100 and a batching window (docs/currents.md explains
# why); the 10-per-invocation variant is reported separately.
MIX = (
    Shape("users_track_full_75x2", track_full, 20),
    Shape("users_track_single_user", track_small, 200),
    Shape("email_send_batch_500", email_send_batch, 20),
    Shape("sms_send_batch_100", sms_send_batch, 10),
    Shape("email_engagement_batch_100", engagement_batch(100), 60),
    Shape("subscription_change", subscription_change, 50),
)
SMALL_ENGAGEMENT = Shape("email_engagement_batch_10", engagement_batch(10), 60)


def _export_shape(shape: Shape, policy: PackingPolicy) -> dict[str, Any]:
    fake = FakeFirehose(keep=False)
    exporter = FirehoseExporter(fake, policy)
    events = 0
    for i in range(shape.invocations):
        batch = shape.build(i)
        events += len(batch)
        exporter.export(batch)
        exporter.flush()
    return {
        "invocations": shape.invocations,
        "events": events,
        "calls": fake.calls,
        "records": fake.record_count,
        "payload_bytes": fake.bytes,
        "billed_bytes": fake.billed,
    }


def billing(policy: PackingPolicy) -> dict[str, Any]:
    """Billed vs payload bytes per shape and for the whole mix, under ``policy``."""
    shapes = {s.name: _export_shape(s, policy) for s in (*MIX, SMALL_ENGAGEMENT)}
    for row in shapes.values():
        row["ratio"] = round(row["billed_bytes"] / row["payload_bytes"], 3)
        row["calls_per_invocation"] = round(row["calls"] / row["invocations"], 2)
    mix = [shapes[s.name] for s in MIX]
    payload = sum(r["payload_bytes"] for r in mix)
    billed = sum(r["billed_bytes"] for r in mix)
    return {
        "mix_events": sum(r["events"] for r in mix),
        "mix_payload_bytes": payload,
        "mix_billed_bytes": billed,
        "mix_ratio": round(billed / payload, 3),
        "goal_ratio": 1.2,
        "met": billed / payload <= 1.2,
        "shapes": shapes,
    }


# --------------------------------------------------------------------------------------------
# One million events: exporter throughput, then DuckDB over the exported files


class PartitioningSink(FakeFirehose):
    """The fake Firehose, plus what the delivery stream does next: split records into lines,
    partition by ``event_type`` and hour, and write gzip objects of up to ``object_bytes``."""

    def __init__(self, root: Path, object_bytes: int = 16 * 1024 * 1024) -> None:
        super().__init__(keep=False)
        self.root = root
        self.object_bytes = object_bytes
        self.hour = "2026-01-01-00"
        self._buffers: dict[tuple[str, str], list[bytes]] = {}
        self._sizes: dict[tuple[str, str], int] = {}
        self.objects = 0
        self.partition_s = 0.0

    def put_record_batch(self, records: Sequence[bytes]) -> None:
        super().put_record_batch(records)
        started = time.perf_counter()
        for record in records:
            for line in record.splitlines(keepends=True):
                # Every line starts with {"event_type":"<type>", (event_type is the first field).
                event_type = line[15 : line.index(b'"', 15)].decode()
                key = (event_type, self.hour)
                self._buffers.setdefault(key, []).append(line)
                self._sizes[key] = self._sizes.get(key, 0) + len(line)
                if self._sizes[key] >= self.object_bytes:
                    self._write(key)
        self.partition_s += time.perf_counter() - started

    def _write(self, key: tuple[str, str]) -> None:
        lines = self._buffers.pop(key)
        self._sizes.pop(key)
        folder = self.root / "currents" / f"event_type={key[0]}" / f"date={key[1]}"
        folder.mkdir(parents=True, exist_ok=True)
        self.objects += 1
        path = folder / f"currents-1-{key[1]}-00-00-{self.objects:06d}.gz"
        path.write_bytes(gzip.compress(b"".join(lines), compresslevel=1))

    def close(self) -> None:
        for key in list(self._buffers):
            self._write(key)


def _templates() -> list[ev.CurrentsEvent]:
    u = USERS[0]
    return [
        ev.custom_event(u, "viewed_product", {"sku": "sku-1", "price": 19.9}, time=EPOCH),
        ev.custom_event(u, "added_to_cart", {"sku": "sku-2", "quantity": 2}, time=EPOCH),
        ev.purchases(u, "sku-1", 19.9, "EUR", time=EPOCH)[0],
        ev.message_event(ev.EmailSend, u, CAMPAIGN, time=EPOCH, email_address="a@example.com"),
        ev.message_event(ev.EmailDelivery, u, CAMPAIGN, time=EPOCH, email_address="a@example.com", esp="ses"),
        ev.message_event(ev.EmailOpen, u, CAMPAIGN, time=EPOCH, email_address="a@example.com"),
        ev.message_event(
            ev.EmailClick, u, CAMPAIGN, time=EPOCH, email_address="a@example.com", url="https://x.io"
        ),
        ev.message_event(ev.PushSend, u, CAMPAIGN, time=EPOCH, app_id="app", platform="ios"),
        ev.message_event(ev.SmsSend, u, CAMPAIGN, time=EPOCH, to_phone_number="+33600000000"),
        ev.message_event(ev.ContentCardImpression, u, CAMPAIGN, time=EPOCH, content_card_id="card-1"),
    ]


def _generate(templates: list[ev.CurrentsEvent], start: int, count: int) -> list[ev.CurrentsEvent]:
    """``count`` events cycling over ``templates``, each with a fresh id, its own user and time."""
    out = []
    for n in range(start, start + count):
        u = USERS[n % len(USERS)]
        update = {
            "id": ev.new_event_id(),
            "time": EPOCH + n // 12,
            "user_id": u.user_id,
            "external_user_id": u.external_user_id,
        }
        out.append(templates[n % len(templates)].model_copy(update=update))
    return out


QUERIES = {
    "count_all_views_with_data": (
        "SELECT (SELECT count(*) FROM custom_events) + (SELECT count(*) FROM purchases)"
        " + (SELECT count(*) FROM email_sends) + (SELECT count(*) FROM email_deliveries)"
        " + (SELECT count(*) FROM email_opens) + (SELECT count(*) FROM email_clicks)"
        " + (SELECT count(*) FROM push_sends) + (SELECT count(*) FROM sms_sends)"
        " + (SELECT count(*) FROM content_card_impressions)"
    ),
    "events_by_name_and_hour": "SELECT name, date, count(*) FROM custom_events GROUP BY ALL ORDER BY ALL",
    "revenue_by_product": (
        "SELECT product_id, currency, sum(price), count(DISTINCT user_id) FROM purchases GROUP BY ALL"
    ),
    "email_funnel_by_campaign": (
        "SELECT s.campaign_id, count(*) AS sent, count(DISTINCT d.user_id) AS delivered,"
        " (SELECT count(DISTINCT user_id) FROM email_opens o WHERE o.campaign_id = s.campaign_id) AS opened"
        " FROM email_sends s LEFT JOIN (SELECT DISTINCT user_id, dispatch_id FROM email_deliveries) d"
        " USING (user_id, dispatch_id) GROUP BY s.campaign_id"
    ),
}


FLOOR_EVERY = 10
"""The serialization floor is measured on every 10th invocation's events (100,000 of the million)."""


def raw_count_sql(root: Path) -> str:
    """The peer of counting every view: the same ``read_json`` over the same objects and columns,
    summed over the event types present, without the views' dedupe by ``id`` (``DISTINCT ON``)."""
    parts = []
    for cls in ev.EVENT_CLASSES:
        folder = root / "currents" / f"event_type={cls.model_fields['event_type'].default}"
        if not folder.is_dir():
            continue
        pattern = str(folder / "*" / "*.gz").replace("'", "''")
        columns = ", ".join(f"'{name}': '{kind}'" for name, kind in view_columns(cls)[:-1])
        parts.append(
            f"(SELECT count(*) FROM read_json('{pattern}', format='newline_delimited', "
            f"compression='gzip', columns={{{columns}}}))"
        )
    return "SELECT " + " + ".join(parts)


def million(total: int = 1_000_000, chunk: int = 500, hours: int = 24) -> dict[str, Any]:
    """Export ``total`` events in invocations of ``chunk``, write them as the stream would, query.

    Measured in the same run: the floor of serializing the events with nothing else (``to_line``,
    what any exporter must do) beside the exporter's rate; and the peer of counting all the views:
    the same reads without the dedupe by ``id``.
    """
    templates = _templates()
    with tempfile.TemporaryDirectory(prefix="bench-currents-") as tmp:
        root = Path(tmp)
        sink = PartitioningSink(root)
        exporter = FirehoseExporter(sink)
        export_s = generate_s = floor_s = 0.0
        floor_events = 0
        for start in range(0, total, chunk):
            sink.hour = f"2026-01-01-{start * hours // total:02d}"
            t0 = time.perf_counter()
            batch = _generate(templates, start, min(chunk, total - start))
            t1 = time.perf_counter()
            exporter.export(batch)
            exporter.flush()
            t2 = time.perf_counter()
            generate_s += t1 - t0
            export_s += t2 - t1
            if (start // chunk) % FLOOR_EVERY == 0:  # the floor: serializing the same events, nothing else
                t_floor = time.perf_counter()
                for event in batch:
                    event.to_line()
                floor_s += time.perf_counter() - t_floor
                floor_events += len(batch)
        export_s -= sink.partition_s  # the stream's own work (split, partition, gzip) is not the exporter's
        t3 = time.perf_counter()
        sink.close()
        write_s = time.perf_counter() - t3

        t4 = time.perf_counter()
        connection = connect(root)
        connect_s = time.perf_counter() - t4
        timings: dict[str, float] = {}
        results: dict[str, Any] = {}
        try:
            for name, sql in QUERIES.items():
                t5 = time.perf_counter()
                rows = connection.execute(sql).fetchall()
                timings[name] = round(time.perf_counter() - t5, 3)
                results[name] = len(rows)
            counted = connection.execute(QUERIES["count_all_views_with_data"]).fetchone()
            t6 = time.perf_counter()
            raw = connection.execute(raw_count_sql(root)).fetchone()
            raw_count_s = time.perf_counter() - t6
        finally:
            connection.close()
    return {
        "events": total,
        "events_per_invocation": chunk,
        "exporter": {
            "events_per_s": round(total / export_s),
            "export_s": round(export_s, 2),
            "calls": sink.calls,
            "records": sink.record_count,
            "payload_bytes": sink.bytes,
            "billed_bytes": sink.billed,
            "ratio": round(sink.billed / sink.bytes, 3),
            "floor_serialize_only_events_per_s": round(floor_events / floor_s),
            "cost_vs_floor": round((export_s / total) / (floor_s / floor_events), 2),
        },
        "generate_s": round(generate_s, 2),
        "objects_written": sink.objects,
        "partition_and_write_objects_s": round(sink.partition_s + write_s, 2),
        "duckdb": {
            "create_views_s": round(connect_s, 3),
            "query_s": timings,
            "rows_returned": results,
            "events_counted": counted[0] if counted else None,
            "peer_count_without_dedupe_s": round(raw_count_s, 3),
            "peer_lines_counted": raw[0] if raw else None,
            "dedupe_cost_count_all_views_vs_peer": round(
                timings["count_all_views_with_data"] / raw_count_s, 2
            ),
            "all_events_found": bool(counted and counted[0] == total),
        },
    }


def run() -> dict[str, Any]:
    started = time.perf_counter()
    result: dict[str, Any] = {
        "billing_mixed_types_per_record": billing(PackingPolicy()),
        "billing_one_type_per_record": billing(PackingPolicy(one_type_per_record=True)),
        "one_million_events": million(),
    }
    result["wall_s"] = round(time.perf_counter() - started, 1)
    return result


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
