"""Firehose delivery to S3 as AWS does it, which moto does not: buffering, prefixes, gzip.

Records are buffered per delivery stream and per rendered prefix (dynamic partitioning) and
written as one S3 object when ``buffer_s`` of platform time has passed since the buffer's first
record or ``buffer_mib`` have accumulated, or on :meth:`FirehoseEmulator.flush`.
Object keys: ``<rendered prefix><stream>-1-<yyyy-MM-dd-HH-mm-ss>-<uuid>[.gz]`` (Firehose's naming;
a prefix without expressions gets Firehose's default ``YYYY/MM/DD/HH/``).
"""

from __future__ import annotations

import gzip
import json
import re
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from infra.spec import DeliveryStream

_EXPR = re.compile(r"!\{([a-zA-Z]+):([^}]*)\}")
_JAVA_TOKENS = [("yyyy", "%Y"), ("MM", "%m"), ("dd", "%d"), ("HH", "%H"), ("mm", "%M"), ("ss", "%S")]


def java_time_format(pattern: str, at: datetime) -> str:
    """Render a Java DateTimeFormatter pattern of Firehose's (yyyy, MM, dd, HH, mm, ss) at ``at``."""
    out = pattern
    for token, code in _JAVA_TOKENS:
        out = out.replace(token, code)
    return at.strftime(out)


def jq_path(record: Any, path: str) -> str:
    """Evaluate a JQ path of the form ``.a.b`` on a parsed record; missing keys give ``null``."""
    value = record
    for part in [p for p in path.strip().lstrip(".").split(".") if p]:
        value = value.get(part) if isinstance(value, dict) else None
    return "null" if value is None else str(value)


def render_prefix(stream: DeliveryStream, at: datetime, record: Any, error: str | None = None) -> str:
    """The S3 prefix of one record, with every ``!{...}`` expression of Firehose rendered."""
    template = stream.error_prefix if error else stream.prefix
    keys = dict(stream.partition_keys)
    if not _EXPR.search(template):
        return template + at.strftime("%Y/%m/%d/%H/")

    def sub(match: re.Match[str]) -> str:
        namespace, arg = match.group(1), match.group(2)
        if namespace == "timestamp":
            return java_time_format(arg, at)
        if namespace == "partitionKeyFromQuery":
            return jq_path(record, keys[arg])
        if namespace == "firehose" and arg == "error-output-type":
            return error or "processing-failed"
        if namespace == "firehose" and arg == "random-string":
            return uuid.uuid4().hex[:11]
        raise ValueError(f"unsupported Firehose expression !{{{namespace}:{arg}}}")

    return _EXPR.sub(sub, template)


@dataclass
class _Buffer:
    started: float
    chunks: list[bytes] = field(default_factory=list)
    size: int = 0


class FirehoseEmulator:
    """Buffers records per stream and prefix; ``put_object(bucket, key, body)`` writes to S3."""

    def __init__(
        self,
        streams: tuple[DeliveryStream, ...],
        put_object: Callable[[str, str, bytes], None],
        now: Callable[[], datetime],
    ) -> None:
        self._streams = {s.name: s for s in streams}
        self._put_object = put_object
        self._now = now
        self._lock = threading.Lock()
        self._buffers: dict[tuple[str, str], _Buffer] = {}
        self.objects_written = 0
        self.records_in = 0

    def put(self, stream_name: str, datas: list[bytes]) -> None:
        """Accept one PutRecord(Batch)'s records; may flush full buffers."""
        stream = self._streams[stream_name]
        at = self._now()
        full: list[tuple[str, str]] = []
        with self._lock:
            for data in datas:
                self.records_in += 1
                for sub in self._split(stream, data):
                    prefix = self._prefix_for(stream, at, sub)
                    buf = self._buffers.setdefault((stream_name, prefix), _Buffer(at.timestamp()))
                    buf.chunks.append(sub)
                    buf.size += len(sub)
                    if buf.size >= stream.buffer_mib * 1024 * 1024:
                        full.append((stream_name, prefix))
        for key in dict.fromkeys(full):
            self._flush_one(key)

    def pending(self) -> int:
        """Records buffered and not yet written."""
        with self._lock:
            return sum(len(b.chunks) for b in self._buffers.values())

    def flush_due(self) -> int:
        """Write every buffer older than its stream's ``buffer_s``; returns objects written."""
        now = self._now().timestamp()
        with self._lock:
            due = [k for k, b in self._buffers.items() if now - b.started >= self._streams[k[0]].buffer_s]
        return sum(self._flush_one(k) for k in due)

    def flush(self) -> int:
        """Write every buffer now (what a query does first); returns objects written."""
        with self._lock:
            keys = list(self._buffers)
        return sum(self._flush_one(k) for k in keys)

    def _split(self, stream: DeliveryStream, data: bytes) -> list[bytes]:
        parts = [line for line in data.split(b"\n") if line.strip()] if stream.deaggregation else [data]
        if stream.append_delimiter:
            return [p if p.endswith(b"\n") else p + b"\n" for p in parts]
        return parts

    def _prefix_for(self, stream: DeliveryStream, at: datetime, data: bytes) -> str:
        if not stream.partition_keys:
            return render_prefix(stream, at, None)
        try:
            record = json.loads(data)
        except ValueError:
            return render_prefix(stream, at, None, error="partitioning-failed")
        return render_prefix(stream, at, record)

    def _flush_one(self, key: tuple[str, str]) -> int:
        with self._lock:
            buf = self._buffers.pop(key, None)
        if buf is None or not buf.chunks:
            return 0
        stream = self._streams[key[0]]
        body = b"".join(buf.chunks)
        suffix = ""
        if stream.compression == "GZIP":
            body, suffix = gzip.compress(body), ".gz"
        stamp = self._now().strftime("%Y-%m-%d-%H-%M-%S")
        object_key = f"{key[1]}{stream.name}-1-{stamp}-{uuid.uuid4()}{suffix}"
        self._put_object(stream.bucket, object_key, body)
        self.objects_written += 1
        return 1
