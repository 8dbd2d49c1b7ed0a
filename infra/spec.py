"""The vocabulary of the manifest: plain frozen dataclasses, no CDK and no boto3.

Both targets read these declarations: ``infra.cdk`` turns them into CloudFormation through aws-cdk,
``infra.local`` provisions them on moto and wires the event plumbing around the same handlers.
A resource that one target has and the other lacks is a defect; ``tests/infra`` checks parity.

Units are in the names: ``*_s`` seconds, ``*_mb`` megabytes (Lambda memory), ``*_mib`` mebibytes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal, TypeVar, get_args

AttrType = Literal["S", "N", "B"]
StreamView = Literal["NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES", "KEYS_ONLY"]
ResourceKind = Literal["table", "queue", "bucket", "delivery_stream", "state_machine", "function"]


@dataclass(frozen=True)
class Key:
    name: str
    type: AttrType = "S"


@dataclass(frozen=True)
class Gsi:
    name: str
    partition_key: Key
    sort_key: Key | None = None
    projection: Literal["ALL", "KEYS_ONLY"] = "ALL"


@dataclass(frozen=True)
class Table:
    """A DynamoDB table, on-demand billing, point-in-time recovery on in the cloud."""

    name: str
    partition_key: Key
    sort_key: Key | None = None
    gsis: tuple[Gsi, ...] = ()
    ttl_attribute: str | None = None
    stream: StreamView | None = None
    kind: ResourceKind = field(default="table", init=False)


@dataclass(frozen=True)
class Queue:
    """A standard SQS queue with its dead-letter queue ``<name>-dlq``.

    ``max_receive_count`` receives move a message to the DLQ (SQS redrive policy).
    Lambda's guidance: visibility timeout at least 6x the consumer's timeout.
    """

    name: str
    visibility_timeout_s: int = 60
    max_receive_count: int = 5
    retention_s: int = 4 * 86400
    dlq_retention_s: int = 14 * 86400
    kind: ResourceKind = field(default="queue", init=False)

    @property
    def dlq_name(self) -> str:
        return f"{self.name}-dlq"


@dataclass(frozen=True)
class Bucket:
    """An S3 bucket: encrypted, public access blocked, TLS enforced in the cloud."""

    name: str
    expire_after_days: int | None = None
    kind: ResourceKind = field(default="bucket", init=False)


@dataclass(frozen=True)
class DeliveryStream:
    """A Firehose Direct PUT stream into ``bucket``.

    ``prefix`` may use Firehose's ``!{timestamp:...}`` and ``!{partitionKeyFromQuery:KEY}``
    expressions; ``partition_keys`` maps KEY to a JQ path (``.event_type``) for dynamic
    partitioning. Firehose flushes when ``buffer_s`` seconds pass or ``buffer_mib`` accumulate.
    ``deaggregation="JSON"`` splits each record into the JSON objects it packs before partitioning
    (Firehose's RecordDeAggregation processor), and ``append_delimiter`` writes a newline after each
    (AppendDelimiterToRecord), so producers can pack many events into one billed record.
    """

    name: str
    bucket: str
    prefix: str
    error_prefix: str
    buffer_s: int = 300
    buffer_mib: int = 64
    compression: Literal["GZIP", "UNCOMPRESSED"] = "GZIP"
    partition_keys: tuple[tuple[str, str], ...] = ()
    deaggregation: Literal["JSON"] | None = None
    append_delimiter: bool = False
    kind: ResourceKind = field(default="delivery_stream", init=False)


@dataclass(frozen=True)
class StateMachine:
    """A Standard Step Functions state machine from an ASL file (JSONPath only).

    ``substitutions`` map a ``${Name}`` placeholder in the file to a resource: the value is a
    :class:`Ref` and resolves to that resource's ARN (functions, state machines) or name/URL.
    """

    name: str
    asl_file: str
    substitutions: tuple[tuple[str, Ref], ...] = ()
    kind: ResourceKind = field(default="state_machine", init=False)


@dataclass(frozen=True)
class Ref:
    """A reference to another resource of the manifest: ``attr`` is ``name``, ``arn`` or ``url``."""

    kind: ResourceKind
    name: str
    attr: Literal["name", "arn", "url"] = "name"


@dataclass(frozen=True)
class Route:
    """An HTTP API route, e.g. ``Route("POST", "/users/track")``; ``{param}`` and ``{proxy+}`` allowed."""

    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"]
    path: str

    @property
    def route_key(self) -> str:
        return f"{self.method} {self.path}"


@dataclass(frozen=True)
class HttpTrigger:
    routes: tuple[Route, ...]


@dataclass(frozen=True)
class StreamTrigger:
    """A DynamoDB stream event source mapping with ``ReportBatchItemFailures``.

    After ``max_retries`` failed attempts on a record, the batch metadata goes to the
    ``on_failure`` queue (Lambda's on-failure destination) and the shard moves on.
    """

    table: str
    batch_size: int = 100
    max_retries: int = 3
    on_failure: str | None = None
    starting_position: Literal["TRIM_HORIZON", "LATEST"] = "TRIM_HORIZON"


@dataclass(frozen=True)
class QueueTrigger:
    """An SQS event source mapping with ``ReportBatchItemFailures``."""

    queue: str
    batch_size: int = 10
    max_batching_window_s: int = 0


@dataclass(frozen=True)
class ScheduleTrigger:
    """An EventBridge schedule: ``rate_s`` seconds between runs, payload ``input_json``."""

    name: str
    rate_s: int
    input_json: str = "{}"


Trigger = HttpTrigger | StreamTrigger | QueueTrigger | ScheduleTrigger

Action = Literal[
    "read", "write", "read_write", "send", "consume", "put", "start", "invoke", "send_email", "publish"
]


@dataclass(frozen=True)
class Access:
    """A least-privilege grant: ``Access("table", "profiles", "read_write")``.

    Kinds and actions: table read/write/read_write; queue send/consume; bucket read/write/read_write;
    delivery_stream put; state_machine start; function invoke; ``ses``/``sns`` (name ``*``)
    send_email/publish.
    """

    kind: Literal["table", "queue", "bucket", "delivery_stream", "state_machine", "function", "ses", "sns"]
    name: str
    action: Action


@dataclass(frozen=True)
class Function:
    """A Lambda function whose code is ``functions/<name>/handler.py`` exposing ``handler``.

    ``environment`` values are literal strings or :class:`Ref` (resolved per target).
    """

    name: str
    description: str
    memory_mb: int = 256
    timeout_s: int = 10
    environment: tuple[tuple[str, str | Ref], ...] = ()
    triggers: tuple[Trigger, ...] = ()
    access: tuple[Access, ...] = ()
    kind: ResourceKind = field(default="function", init=False)

    @property
    def code_dir(self) -> str:
        return f"functions/{self.name}"


SesEventType = Literal[
    "SEND",
    "REJECT",
    "BOUNCE",
    "COMPLAINT",
    "DELIVERY",
    "OPEN",
    "CLICK",
    "RENDERING_FAILURE",
    "DELIVERY_DELAY",
    "SUBSCRIPTION",
]
"""SES event types a configuration set can publish (SES v2 ``EventType``; CloudFormation
``MatchingEventTypes``). The ``eventType`` field of a published event spells them ``Delivery``,
``Bounce``, ``Rendering Failure``, ``DeliveryDelay``, ..."""
SES_EVENT_TYPES: tuple[SesEventType, ...] = get_args(SesEventType)
_SES_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")


@dataclass(frozen=True)
class EmailConfigurationSet:
    """An SES configuration set whose ``events`` reach ``feedback_queue`` through an SNS topic.

    Its physical name is ``name`` in both targets (SES v2 ``SendEmail`` names it in
    ``ConfigurationSetName``, so senders get it as a literal; SES names are unique per account and
    region: at most 64 of ``A-Z a-z 0-9 _ -``). SES publishes each event type in ``events`` to the
    topic, and the topic delivers to the queue: as the SNS envelope (``Type: Notification``, the SES
    event JSON in ``Message``) unless ``raw_message_delivery``. ``tls_required`` makes SES deliver
    only over TLS (``TlsPolicy REQUIRE``: mail to a server without STARTTLS bounces);
    ``reputation_metrics`` publishes the set's bounce and complaint rates to CloudWatch.
    """

    name: str
    feedback_queue: str
    events: tuple[SesEventType, ...] = ("DELIVERY", "BOUNCE", "COMPLAINT", "OPEN", "CLICK", "SUBSCRIPTION")
    tls_required: bool = True
    reputation_metrics: bool = True
    raw_message_delivery: bool = False

    def check(self) -> None:
        """Raise ``ValueError`` for a name SES refuses or an empty, unknown or repeated event type."""
        if not _SES_NAME.fullmatch(self.name):
            raise ValueError(f"email configuration set {self.name!r}: 1-64 of A-Z a-z 0-9 _ - (SES)")
        unknown = [e for e in self.events if e not in SES_EVENT_TYPES]
        if not self.events or unknown or len(set(self.events)) != len(self.events):
            raise ValueError(
                f"email configuration set {self.name}: events must be distinct SES event types "
                f"{SES_EVENT_TYPES}, got {self.events}"
            )


@dataclass(frozen=True)
class Manifest:
    tables: tuple[Table, ...] = ()
    queues: tuple[Queue, ...] = ()
    buckets: tuple[Bucket, ...] = ()
    delivery_streams: tuple[DeliveryStream, ...] = ()
    state_machines: tuple[StateMachine, ...] = ()
    functions: tuple[Function, ...] = ()
    email_configuration_sets: tuple[EmailConfigurationSet, ...] = ()

    def table(self, name: str) -> Table:
        return _one(self.tables, name)

    def queue(self, name: str) -> Queue:
        return _one(self.queues, name)

    def function(self, name: str) -> Function:
        return _one(self.functions, name)

    def delivery_stream(self, name: str) -> DeliveryStream:
        return _one(self.delivery_streams, name)

    def state_machine(self, name: str) -> StateMachine:
        return _one(self.state_machines, name)

    def email_configuration_set(self, name: str) -> EmailConfigurationSet:
        return _one(self.email_configuration_sets, name)

    def routes(self) -> list[tuple[Route, Function]]:
        """Every HTTP route with the function that serves it."""
        return [
            (route, fn)
            for fn in self.functions
            for trig in fn.triggers
            if isinstance(trig, HttpTrigger)
            for route in trig.routes
        ]

    def validate(self) -> None:
        """Raise ``ValueError`` naming the first dangling reference, duplicate name or route, or an
        email configuration set SES would refuse (:meth:`EmailConfigurationSet.check`)."""
        kinds: dict[str, set[str]] = {
            "table": {t.name for t in self.tables},
            "queue": {q.name for q in self.queues},
            "bucket": {b.name for b in self.buckets},
            "delivery_stream": {d.name for d in self.delivery_streams},
            "state_machine": {s.name for s in self.state_machines},
            "function": {f.name for f in self.functions},
        }
        for group in (
            self.tables,
            self.queues,
            self.buckets,
            self.delivery_streams,
            self.state_machines,
            self.functions,
            self.email_configuration_sets,
        ):
            names = [r.name for r in group]
            dupes = {n for n in names if names.count(n) > 1}
            if dupes:
                raise ValueError(f"duplicate resource names: {sorted(dupes)}")
        seen_routes: set[str] = set()
        for route, fn in self.routes():
            if route.route_key in seen_routes:
                raise ValueError(f"route {route.route_key} is declared twice (function {fn.name})")
            seen_routes.add(route.route_key)

        def need(kind: str, name: str, where: str) -> None:
            if kind in kinds and name not in kinds[kind]:
                raise ValueError(f"{where} refers to unknown {kind} {name!r}")

        for d in self.delivery_streams:
            need("bucket", d.bucket, f"delivery stream {d.name}")
        for cs in self.email_configuration_sets:
            cs.check()
            need("queue", cs.feedback_queue, f"email configuration set {cs.name}")
        for s in self.state_machines:
            for _, ref in s.substitutions:
                need(ref.kind, ref.name, f"state machine {s.name}")
        for fn in self.functions:
            for _, value in fn.environment:
                if isinstance(value, Ref):
                    need(value.kind, value.name, f"function {fn.name} environment")
            for acc in fn.access:
                need(acc.kind, acc.name, f"function {fn.name} access")
            for trig in fn.triggers:
                if isinstance(trig, StreamTrigger):
                    need("table", trig.table, f"function {fn.name} stream trigger")
                    if self.table(trig.table).stream is None:
                        raise ValueError(f"function {fn.name}: table {trig.table} has no stream")
                    if trig.on_failure:
                        need("queue", trig.on_failure, f"function {fn.name} on_failure")
                if isinstance(trig, QueueTrigger):
                    need("queue", trig.queue, f"function {fn.name} queue trigger")


_R = TypeVar("_R", Table, Queue, Function, DeliveryStream, StateMachine, EmailConfigurationSet)


def _one(items: tuple[_R, ...], name: str) -> _R:
    for item in items:
        if item.name == name:
            return item
    raise KeyError(name)
