"""``engagekit local``: the whole manifest on moto, in one process, with no Docker and no account.

:class:`LocalPlatform` starts moto in process (and on a loopback port for the AWS CLI, boto3
scripts and DuckDB), provisions every manifest resource with boto3, and does what AWS does around
the functions: the HTTP API router, DynamoDB-stream and SQS event source mappings, schedules,
Firehose buffering, and Step Functions with Lambda tasks run in process. One clock drives it all.

Tests use it in process::

    with LocalPlatform(clock=ManualClock(), serve_http=False) as platform:
        platform.invoke("health", event)
        platform.run_until_idle()
"""

from __future__ import annotations

import functools
import io
import json
import logging
import os
import threading
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from engagekit import aws
from engagekit import clock as clock_mod
from engagekit.clock import Clock, ScaledClock

from infra.local import moto_glue
from infra.local.event_sources import QueueMapping, Scheduler, StreamMapping
from infra.local.firehose import FirehoseEmulator
from infra.local.http_api import Router, make_server
from infra.local.lambdas import ACCOUNT_ID, REGION, HandlerRegistry, Lane
from infra.spec import EmailConfigurationSet, Manifest, QueueTrigger, Ref, ScheduleTrigger, StreamTrigger

log = logging.getLogger("engagekit.local")
ROOT = Path(__file__).resolve().parents[2]
HYGIENE_EVERY_S = 30.0


class PortInUseError(RuntimeError):
    """A port the platform needs is taken; the message says which and how to choose another."""


class LocalPlatform:
    """The platform on moto. Use as a context manager, or :meth:`start` / :meth:`stop`.

    ``api_port``/``aws_port`` 0 pick free ports; ``serve_http=False`` serves neither (in-process
    tests); ``background=False`` runs no pump thread, so only :meth:`run_until_idle` moves events.
    """

    def __init__(
        self,
        manifest: Manifest | None = None,
        *,
        clock: Clock | None = None,
        api_port: int = 8000,
        aws_port: int = 5000,
        host: str = "127.0.0.1",
        serve_http: bool = True,
        background: bool = True,
        api_key: str | None = None,
        root: Path = ROOT,
    ) -> None:
        if manifest is None:
            from infra.manifest import MANIFEST

            manifest = MANIFEST
        self.manifest = manifest
        self.clock: Clock = clock or ScaledClock(1.0)
        self.host = host
        self.api_port = api_port
        self.aws_port = aws_port
        self.serve_http = serve_http
        self.background = background
        self.api_key = api_key
        self.root = root
        self.registry = HandlerRegistry(root, manifest.functions)
        self.refs: dict[tuple[str, str, str], str] = {}
        self.streams: list[StreamMapping] = []
        self.queues: list[QueueMapping] = []
        self.scheduler = Scheduler(lambda: self.clock.now().timestamp(), self.invoke)
        self.waits = moto_glue.ClockWaits(lambda: self.clock.now().timestamp())
        self.firehose = FirehoseEmulator(manifest.delivery_streams, self._put_object, self.clock.now)
        self.invocations = 0
        self._mock: Any = None
        self._moto_server: Any = None
        self._http: Any = None
        self._threads: list[threading.Thread] = []
        self._stop = threading.Event()
        self._pump_lock = threading.Lock()
        self._previous_clock: Clock | None = None
        self._saved_env: dict[str, str | None] = {}
        self._in_flight = 0
        self._router_cache: Router | None = None
        self._lanes: dict[str, Lane] = {}
        self._http_functions = {fn.name for _, fn in manifest.routes()}
        self._function_names = {fn.name for fn in manifest.functions}
        self._in_flight_lock = threading.Lock()

    # --- life cycle -------------------------------------------------------------------------------
    def __enter__(self) -> LocalPlatform:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> LocalPlatform:
        """Start moto, provision the manifest, serve HTTP (unless told not to) and start pumping.

        Raises :class:`PortInUseError` when a port is taken, ``RuntimeError`` if moto's internals moved.
        """
        moto_glue.self_test()
        self._set_env()
        self._previous_clock = clock_mod.set_clock(self.clock)
        from moto import mock_aws

        aws.reset_clients()
        # Lambda keeps moto's default backend so every invocation reaches LambdaFunction.invoke,
        # which moto_glue routes to the in-process handlers (no Docker is ever started).
        self._mock = mock_aws(config={"stepfunctions": {"execute_state_machine": True}})
        self._mock.start()
        moto_glue.install_lock()
        moto_glue.install_lambda(self.invoke)
        moto_glue.install_stream_feed(self._on_stream_record)
        moto_glue.install_firehose(self.firehose.put)
        moto_glue.install_stepfunctions_clock(self.waits)
        try:
            if self.serve_http:
                self._check_port(self.api_port, "API", "--port")
                self._start_moto_server()
            self._provision()
            self._capture_visibility()
            self._emulate_ses_events()
            self._create_admin_key()
            if self.serve_http:
                self._start_api()
        except BaseException:
            self.stop()
            raise
        if self.background:
            self._spawn(self._pump_forever, "engagekit-pump")
        return self

    def stop(self) -> None:
        """Stop serving and pumping, stop moto and restore the clock and the environment."""
        self._stop.set()
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()
            self._http = None
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads.clear()
        if self._moto_server is not None:
            self._moto_server.stop()
            self._moto_server = None
        if self._mock is not None:
            self._stop_executions()
        for lane in self._lanes.values():
            lane.shutdown()
        self._lanes.clear()
        if self._mock is not None:
            self._mock.stop()
            moto_glue.uninstall()
            self._mock = None
        aws.reset_clients()
        if self._previous_clock is not None:
            clock_mod.set_clock(self._previous_clock)
            self._previous_clock = None
        for key, value in self._saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        self._saved_env.clear()

    @property
    def api_url(self) -> str:
        return f"http://{self.host}:{self.api_port}"

    @property
    def aws_url(self) -> str:
        return f"http://{self.host}:{self.aws_port}"

    # --- invoking ------------------------------------------------------------------------------
    def invoke(self, function: str, event: Any) -> Any:
        """Run function ``function`` on ``event`` in process, as Lambda would."""
        with self._in_flight_lock:
            self._in_flight += 1
            self.invocations += 1
        try:
            return self._lane(function).run(lambda: self.registry.invoke(function, event))
        finally:
            with self._in_flight_lock:
                self._in_flight -= 1

    def _lane(self, function: str) -> Lane:
        """HTTP functions share one lane (Powertools' router state is per process, not per
        resolver); every other function has its own, so a slow consumer never blocks the API."""
        name = "api" if function in self._http_functions else function
        with self._in_flight_lock:
            lane = self._lanes.get(name)
            if lane is None:
                lane = self._lanes[name] = Lane(name)
        return lane

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        key: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, str], Any]:
        """Call the API in process, through the same router and event builder as HTTP.

        ``body`` is JSON-encoded unless it is ``bytes``/``str``; ``key`` defaults to the admin key
        (pass ``""`` for none). Returns ``(status, headers, parsed JSON body or text)``.
        """
        from urllib.parse import urlsplit

        from infra.local.http_api import build_event, to_http

        split = urlsplit(path)
        hdrs = {"content-type": "application/json", **(headers or {})}
        secret = self.api_key if key is None else key
        if secret:
            hdrs["authorization"] = f"Bearer {secret}"
        raw = body if isinstance(body, bytes) else (body.encode() if isinstance(body, str) else b"")
        if body is not None and not isinstance(body, bytes | str):
            raw = json.dumps(body).encode()
        matched = self._router().match(method.upper(), split.path)
        if matched is None:
            return 404, {}, {"message": "Not Found"}
        route, function, params = matched
        event = build_event(route, params, method.upper(), split.path, split.query, hdrs, raw, "127.0.0.1")
        status, out_headers, out = to_http(self.invoke(function, event))
        try:
            parsed: Any = json.loads(out) if out else None
        except ValueError:
            parsed = out.decode(errors="replace")
        return status, out_headers, parsed

    def _router(self) -> Router:
        if self._router_cache is None:
            self._router_cache = Router([(route, fn.name) for route, fn in self.manifest.routes()])
        return self._router_cache

    def client(self, service: str) -> Any:
        """A boto3 client on the in-process moto (for tests and the CLI)."""
        return aws.client(service)

    # --- moving events -------------------------------------------------------------------------
    def pump_once(self) -> bool:
        """Deliver what is ready (streams, due schedules, queues, due Firehose buffers).

        Returns True if anything was delivered. One pump at a time.
        """
        with self._pump_lock:
            worked = False
            for stream in self.streams:
                while stream.pump():
                    worked = True
            if self.scheduler.fire_due():
                worked = True
            for queue in self.queues:
                queue.release_due()
                while queue.pump():
                    worked = True
                self._apply_visibility(queue)
            if self.firehose.flush_due():
                worked = True
            return worked

    def _capture_visibility(self) -> None:
        """Honor ``ChangeMessageVisibility`` calls of handlers (a retry backoff) on the platform clock.

        A call with a positive timeout is answered here (moto keeps holding the message: the
        runtime owns visibility) and the queue mapping makes the message visible when the platform
        clock reaches it, instead of after the queue's visibility timeout. The runtime's own
        releases (timeout 0) go to moto.
        """
        from urllib.parse import parse_qs

        from botocore.awsrequest import AWSResponse

        self._visibility: dict[str, float] = {}

        def capture(params: dict[str, Any], **_: Any) -> Any:
            body = params.get("body") or b""
            try:
                fields = json.loads(body)
            except ValueError:
                text = body.decode() if isinstance(body, bytes) else str(body)
                fields = {k: v[0] for k, v in parse_qs(text).items()}
            seconds = int(fields.get("VisibilityTimeout") or 0)
            if seconds <= 0 or "ReceiptHandle" not in fields:
                return None
            self._visibility[str(fields["ReceiptHandle"])] = float(seconds)
            return AWSResponse(params.get("url", ""), 200, {}, None), {}

        aws.client("sqs").meta.events.register("before-call.sqs.ChangeMessageVisibility", capture)

    def _emulate_ses_events(self) -> None:
        """SES event publishing, which moto lacks, for the manifest's email configuration sets.

        Every SES v2 ``SendEmail`` naming a declared configuration set publishes, to that set's SNS
        topic (provisioned by :meth:`_provision_email`), the events SES would and the set declares:
        ``Send`` when declared, then per recipient a ``Delivery``, or for SES mailbox-simulator
        addresses a permanent ``Bounce`` (``bounce@simulator.amazonses.com``) or a ``Delivery`` then
        a ``Complaint`` (``complaint@simulator.amazonses.com``), with the message's tags plus SES's
        own ``ses:*`` tags. moto's SNS delivers them to the feedback queue as SNS does: the
        ``Notification`` envelope, or the bare event with raw message delivery. Opens, clicks and
        unsubscribes need a real mailbox and are not emulated. A send naming an undeclared set
        publishes nothing (SES itself would refuse it: no such configuration set).
        """
        sets = {cs.name: cs for cs in self.manifest.email_configuration_sets}
        if not sets:
            return

        def keep(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
            context["engagekit_ses_params"] = dict(params)

        def publish(parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
            params = context.get("engagekit_ses_params") or {}
            spec = sets.get(str(params.get("ConfigurationSetName") or ""))
            if spec is None or "MessageId" not in parsed:
                if params.get("ConfigurationSetName") and spec is None:
                    log.warning(
                        "SES configuration set %s is not in the manifest", params["ConfigurationSetName"]
                    )
                return
            topic = self.refs[("email_configuration_set", spec.name, "topic_arn")]
            sns = aws.client("sns")
            for event in _ses_events(spec, params, parsed["MessageId"], self.clock.now()):
                sns.publish(TopicArn=topic, Message=json.dumps(event))

        ses = aws.client("sesv2")
        ses.meta.events.register("provide-client-params.sesv2.SendEmail", keep)
        ses.meta.events.register("after-call.sesv2.SendEmail", publish)

    def _apply_visibility(self, queue: QueueMapping) -> None:
        if not getattr(self, "_visibility", None):
            return
        now = self.clock.now().timestamp()
        with queue._lock:
            for message in queue._in_flight:
                seconds = self._visibility.pop(message.receipt_handle, None)
                if seconds is not None:
                    message.visible_at = now + seconds

    def _busy(self) -> str | None:
        if any(s.pending() for s in self.streams):
            return "stream records"
        for q in self.queues:
            if q.visible():
                return f"messages in {q.queue.name}"
        running = self._running_executions()
        if running > self.waits.parked:
            return f"{running - self.waits.parked} running Step Functions executions"
        with self._in_flight_lock:
            if self._in_flight:
                return f"{self._in_flight} invocations in flight"
        return None

    def run_until_idle(self, timeout_s: float = 60.0, flush_firehose: bool = False) -> None:
        """Pump until nothing can progress without the clock moving: streams drained, queues
        empty (messages waiting on a visibility timeout don't count), executions finished or
        parked in a Wait. ``flush_firehose`` then writes every Firehose buffer.

        Raises ``TimeoutError`` naming what was still busy after ``timeout_s`` wall seconds.
        """
        deadline = time.monotonic() + timeout_s
        quiet = 0
        while True:
            if self.pump_once():
                quiet = 0
                continue
            busy = self._busy()
            if busy is None:
                quiet += 1
                if quiet >= 2:
                    break
            if time.monotonic() > deadline:
                raise TimeoutError(f"platform still busy after {timeout_s} s: {busy}")
            time.sleep(0.01)
        if flush_firehose:
            self.firehose.flush()

    def advance(self, seconds: float, timeout_s: float = 60.0) -> None:
        """Move a manual or scaled clock ``seconds`` forward, then :meth:`run_until_idle`."""
        self.clock.advance(seconds)  # type: ignore[attr-defined]
        self.run_until_idle(timeout_s)

    def _pump_forever(self) -> None:
        last_hygiene = time.monotonic()
        while not self._stop.is_set():
            try:
                worked = self.pump_once()
            except Exception:
                log.exception("event pump failed")
                worked = False
            if time.monotonic() - last_hygiene > HYGIENE_EVERY_S:
                moto_glue.hygiene()
                last_hygiene = time.monotonic()
            if not worked:
                self._stop.wait(0.02)

    def _stop_executions(self) -> None:
        """Stop every running execution while moto still answers, so none outlives the mock and
        sends its next Lambda call to a real AWS endpoint."""
        try:
            sfn = aws.client("stepfunctions")
            for sm in self.manifest.state_machines:
                arn = self.refs.get(("state_machine", sm.name, "arn"))
                if arn is None:
                    continue
                pages = sfn.get_paginator("list_executions").paginate(
                    stateMachineArn=arn, statusFilter="RUNNING"
                )
                for page in pages:
                    for execution in page["executions"]:
                        sfn.stop_execution(
                            executionArn=execution["executionArn"], cause="engagekit local stopped"
                        )
        except Exception:
            log.warning("could not stop running executions", exc_info=True)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and self._running_executions() > 0:
            time.sleep(0.02)

    def _running_executions(self) -> int:
        sfn = aws.client("stepfunctions")
        total = 0
        for sm in self.manifest.state_machines:
            arn = self.refs.get(("state_machine", sm.name, "arn"))
            if arn is None:  # not provisioned (a start that failed early)
                continue
            for page in sfn.get_paginator("list_executions").paginate(
                stateMachineArn=arn, statusFilter="RUNNING"
            ):
                total += len(page["executions"])
        return total

    # --- wiring --------------------------------------------------------------------------------
    def _on_stream_record(self, table: str, record: dict[str, Any]) -> None:
        for mapping in self.streams:
            if mapping.table == table:
                mapping.offer(record)

    def _put_object(self, bucket: str, key: str, body: bytes) -> None:
        aws.client("s3").put_object(Bucket=bucket, Key=key, Body=body)

    def _send_stream_failure(self, queue: str, payload: dict[str, Any]) -> None:
        aws.client("sqs").send_message(
            QueueUrl=self.refs[("queue", queue, "url")], MessageBody=json.dumps(payload)
        )

    def _set_env(self) -> None:
        env = {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing",
            "AWS_DEFAULT_REGION": REGION,
            "AWS_REGION": REGION,
            "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
            "MOTO_ACCOUNT_ID": ACCOUNT_ID,
            "MOTO_PORT": str(self.aws_port),
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_METRICS_DISABLED": "true",
            "POWERTOOLS_LOG_LEVEL": os.environ.get("POWERTOOLS_LOG_LEVEL", "WARNING"),
            "ENGAGEKIT_RUNTIME": "local",
        }
        for key, value in env.items():
            self._saved_env.setdefault(key, os.environ.get(key))
            os.environ[key] = value

    def _check_port(self, port: int, what: str, option: str) -> None:
        import socket

        if port == 0:
            return
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((self.host, port))
            except OSError as exc:
                raise PortInUseError(
                    f"port {port} on {self.host} is taken ({what}); choose another with {option}"
                ) from exc

    def _start_moto_server(self) -> None:
        import socket

        from moto.server import ThreadedMotoServer

        with socket.socket() as probe:
            try:
                probe.bind((self.host, self.aws_port))
            except OSError as exc:
                raise PortInUseError(
                    f"port {self.aws_port} on {self.host} is taken (AWS endpoint); "
                    "choose another with --aws-port"
                ) from exc
            if self.aws_port == 0:
                self.aws_port = probe.getsockname()[1]
        os.environ["MOTO_PORT"] = str(self.aws_port)
        self._moto_server = ThreadedMotoServer(ip_address=self.host, port=self.aws_port, verbose=False)
        self._moto_server.start()

    def _start_api(self) -> None:
        try:
            self._http = make_server(
                self.host, self.api_port, self._router(), self.invoke, self._local_routes
            )
        except OSError as exc:
            raise PortInUseError(
                f"port {self.api_port} on {self.host} is taken (API); choose another with --port"
            ) from exc
        self.api_port = self._http.server_address[1]
        self._spawn(self._http.serve_forever, "engagekit-api")

    def _local_routes(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes] | None:
        """Local-only admin paths under ``/_local/``: any valid, unrevoked key holding every
        permission (``*``), checked against the same key store as the API (so a revoked admin key
        stops working here too)."""
        if not path.startswith("/_local/"):
            return None
        auth = {k.lower(): v for k, v in headers.items()}.get("authorization", "")
        if not self._is_admin(auth.removeprefix("Bearer ").strip() if auth.startswith("Bearer ") else ""):
            return (
                401,
                {"Content-Type": "application/json"},
                b'{"message":"Unauthorized: an admin (*) key is needed"}',
            )
        if method == "POST" and path == "/_local/flush":
            self.firehose.flush()
            return 200, {"Content-Type": "application/json"}, b'{"message":"success"}'
        if method == "GET" and path == "/_local/outbox":
            from urllib.parse import parse_qs

            from infra.local import outbox

            query = parse_qs(headers.get("x-engagekit-query", ""))
            channel = query.get("channel", [None])[0]
            limit = int(query.get("limit", ["100"])[0])
            with moto_glue.LOCK:
                items = outbox.messages(channel, limit)
            return (
                200,
                {"Content-Type": "application/json"},
                json.dumps({"messages": items}, default=str).encode(),
            )
        if method == "POST" and path.startswith("/_local/invoke/"):
            name = path.removeprefix("/_local/invoke/")
            if name not in self._function_names:
                return (
                    404,
                    {"Content-Type": "application/json"},
                    json.dumps({"message": f"no function {name}"}).encode(),
                )
            try:
                event = json.loads(body or b"{}")
            except ValueError:
                return 400, {"Content-Type": "application/json"}, b'{"message":"the event is not valid JSON"}'
            try:
                result = self.invoke(name, event)
            except Exception as exc:  # Lambda's unhandled-error envelope
                error = {"errorType": type(exc).__name__, "errorMessage": str(exc)}
                return (
                    200,
                    {"Content-Type": "application/json", "X-Amz-Function-Error": "Unhandled"},
                    json.dumps(error).encode(),
                )
            return 200, {"Content-Type": "application/json"}, json.dumps(result, default=str).encode()
        if method == "GET" and path == "/_local/info":
            info = {
                "api_url": self.api_url,
                "aws_url": self.aws_url,
                "now": clock_mod.utc_iso(self.clock.now()),
                "functions": [f.name for f in self.manifest.functions],
            }
            return 200, {"Content-Type": "application/json"}, json.dumps(info).encode()
        return 404, {"Content-Type": "application/json"}, b'{"message":"Not Found"}'

    def _is_admin(self, secret: str) -> bool:
        from engagekit.auth import ALL_PERMISSIONS, KeyStore

        table = self.refs.get(("table", "api_keys", "name"))
        if not secret or table is None:
            return False
        key = KeyStore(table).lookup(secret)
        return key is not None and key.revoked_at is None and ALL_PERMISSIONS in key.permissions

    def _spawn(self, target: Any, name: str) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def _create_admin_key(self) -> None:
        from engagekit.auth import ALL_PERMISSIONS, KeyStore

        table = self.refs.get(("table", "api_keys", "name"))
        if table is None:  # a manifest without the API (tests of the plumbing)
            return
        store = KeyStore(table)
        self.api_key = store.create("admin (engagekit local)", {ALL_PERMISSIONS}, secret=self.api_key).secret

    def resolve(self, ref: Ref) -> str:
        """The local value of a manifest reference (a name, an ARN or a queue URL)."""
        return self.refs[(ref.kind, ref.name, ref.attr)]

    def _provision_email(self, specs: tuple[EmailConfigurationSet, ...]) -> None:
        """Each declared SES configuration set as the cloud has it (infra/cdk/constructs/email.py):
        the set in SES v2 (TLS policy, reputation metrics), an SNS topic ``<name>-ses-events``
        subscribed by the feedback queue (raw delivery as declared), and the set's event
        destination on that topic for the declared event types. moto's SES v2 has no event
        destination API; the SES v1 one on the same set stands in. Refs:
        ``("email_configuration_set", name, "name" | "arn" | "topic_arn")``.
        """
        if not specs:
            return
        sns, sesv2, ses = aws.client("sns"), aws.client("sesv2"), aws.client("ses")
        for cs in specs:
            topic = sns.create_topic(Name=f"{cs.name}-ses-events")["TopicArn"]
            sns.subscribe(
                TopicArn=topic,
                Protocol="sqs",
                Endpoint=self.refs[("queue", cs.feedback_queue, "arn")],
                Attributes={"RawMessageDelivery": "true" if cs.raw_message_delivery else "false"},
            )
            sesv2.create_configuration_set(
                ConfigurationSetName=cs.name,
                DeliveryOptions={"TlsPolicy": "REQUIRE" if cs.tls_required else "OPTIONAL"},
                ReputationOptions={"ReputationMetricsEnabled": cs.reputation_metrics},
                SendingOptions={"SendingEnabled": True},
            )
            ses.create_configuration_set_event_destination(
                ConfigurationSetName=cs.name,
                EventDestination={
                    "Name": f"{cs.name}-feedback",
                    "Enabled": True,
                    "MatchingEventTypes": [_SES_V1_EVENT_TYPES[e] for e in cs.events],
                    "SNSDestination": {"TopicARN": topic},
                },
            )
            self.refs[("email_configuration_set", cs.name, "name")] = cs.name
            self.refs[("email_configuration_set", cs.name, "arn")] = (
                f"arn:aws:ses:{REGION}:{ACCOUNT_ID}:configuration-set/{cs.name}"
            )
            self.refs[("email_configuration_set", cs.name, "topic_arn")] = topic

    def _provision(self) -> None:
        m = self.manifest
        ddb, sqs, s3 = aws.client("dynamodb"), aws.client("sqs"), aws.client("s3")
        arn = f"arn:aws:{{}}:{REGION}:{ACCOUNT_ID}:{{}}"
        for bucket in m.buckets:
            s3.create_bucket(Bucket=bucket.name)
            self.refs[("bucket", bucket.name, "name")] = bucket.name
            self.refs[("bucket", bucket.name, "arn")] = f"arn:aws:s3:::{bucket.name}"
        for table in m.tables:
            keys = [table.partition_key] + ([table.sort_key] if table.sort_key else [])
            attrs = {k.name: k.type for k in keys}
            gsis = []
            for gsi in table.gsis:
                gkeys = [gsi.partition_key] + ([gsi.sort_key] if gsi.sort_key else [])
                attrs.update({k.name: k.type for k in gkeys})
                gsis.append(
                    {
                        "IndexName": gsi.name,
                        "KeySchema": [
                            {"AttributeName": k.name, "KeyType": t}
                            for k, t in zip(gkeys, ("HASH", "RANGE"), strict=False)
                        ],
                        "Projection": {"ProjectionType": gsi.projection},
                    }
                )
            params: dict[str, Any] = {
                "TableName": table.name,
                "BillingMode": "PAY_PER_REQUEST",
                "KeySchema": [
                    {"AttributeName": k.name, "KeyType": t}
                    for k, t in zip(keys, ("HASH", "RANGE"), strict=False)
                ],
                "AttributeDefinitions": [{"AttributeName": n, "AttributeType": t} for n, t in attrs.items()],
            }
            if gsis:
                params["GlobalSecondaryIndexes"] = gsis
            if table.stream:
                params["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": table.stream}
            ddb.create_table(**params)
            if table.ttl_attribute:
                ddb.update_time_to_live(
                    TableName=table.name,
                    TimeToLiveSpecification={"Enabled": True, "AttributeName": table.ttl_attribute},
                )
            self.refs[("table", table.name, "name")] = table.name
            self.refs[("table", table.name, "arn")] = arn.format("dynamodb", f"table/{table.name}")
        for queue in m.queues:
            dlq_url = sqs.create_queue(
                QueueName=queue.dlq_name, Attributes={"MessageRetentionPeriod": str(queue.dlq_retention_s)}
            )["QueueUrl"]
            url = sqs.create_queue(
                QueueName=queue.name,
                Attributes={
                    "VisibilityTimeout": str(queue.visibility_timeout_s),
                    "MessageRetentionPeriod": str(queue.retention_s),
                    "RedrivePolicy": json.dumps(
                        {
                            "deadLetterTargetArn": arn.format("sqs", queue.dlq_name),
                            "maxReceiveCount": queue.max_receive_count,
                        }
                    ),
                },
            )["QueueUrl"]
            self.refs[("queue", queue.name, "url")] = url
            self.refs[("queue", queue.name, "name")] = queue.name
            self.refs[("queue", queue.name, "arn")] = arn.format("sqs", queue.name)
            self.refs[("queue", queue.dlq_name, "url")] = dlq_url
        self._provision_email(m.email_configuration_sets)
        iam = aws.client("iam")
        role = iam.create_role(
            RoleName="engagekit-local",
            AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
        )["Role"]["Arn"]
        firehose = aws.client("firehose")
        for ds in m.delivery_streams:
            firehose.create_delivery_stream(
                DeliveryStreamName=ds.name,
                DeliveryStreamType="DirectPut",
                ExtendedS3DestinationConfiguration={
                    "RoleARN": role,
                    "BucketARN": f"arn:aws:s3:::{ds.bucket}",
                    "Prefix": ds.prefix,
                    "ErrorOutputPrefix": ds.error_prefix,
                    "CompressionFormat": ds.compression,
                    "BufferingHints": {"IntervalInSeconds": ds.buffer_s, "SizeInMBs": ds.buffer_mib},
                },
            )
            self.refs[("delivery_stream", ds.name, "name")] = ds.name
            self.refs[("delivery_stream", ds.name, "arn")] = arn.format(
                "firehose", f"deliverystream/{ds.name}"
            )
        lam = aws.client("lambda")
        code = io.BytesIO()
        with zipfile.ZipFile(code, "w") as zf:
            zf.writestr(
                "handler.py",
                "def handler(event, context):\n    raise RuntimeError('run by engagekit local')\n",
            )
        for fn in m.functions:
            out = lam.create_function(
                FunctionName=fn.name,
                Runtime="python3.12",
                Role=role,
                Handler="handler.handler",
                Code={"ZipFile": code.getvalue()},
                MemorySize=fn.memory_mb,
                Timeout=fn.timeout_s,
            )
            self.refs[("function", fn.name, "arn")] = out["FunctionArn"]
            self.refs[("function", fn.name, "name")] = fn.name
        sfn = aws.client("stepfunctions")
        for sm in m.state_machines:
            definition = (self.root / sm.asl_file).read_text()
            for placeholder, ref in sm.substitutions:
                definition = definition.replace("${" + placeholder + "}", self.resolve(ref))
            out = sfn.create_state_machine(name=sm.name, definition=definition, roleArn=role, type="STANDARD")
            self.refs[("state_machine", sm.name, "arn")] = out["stateMachineArn"]
            self.refs[("state_machine", sm.name, "name")] = sm.name
        events = aws.client("events")
        env: dict[str, tuple[str, str]] = {}
        for fn in m.functions:
            for key, value in fn.environment:
                resolved = self.resolve(value) if isinstance(value, Ref) else value
                if key in env and env[key][1] != resolved:
                    raise ValueError(
                        f"environment {key} means {env[key][1]} in {env[key][0]} but {resolved} in {fn.name}"
                    )
                env[key] = (fn.name, resolved)
            for trig in fn.triggers:
                if isinstance(trig, StreamTrigger):
                    on_fail = trig.on_failure
                    self.streams.append(
                        StreamMapping(
                            fn.name,
                            trig,
                            self.invoke,
                            functools.partial(self._send_stream_failure, on_fail) if on_fail else _discard,
                        )
                    )
                elif isinstance(trig, QueueTrigger):
                    self.queues.append(
                        QueueMapping(
                            fn.name,
                            trig,
                            m.queue(trig.queue),
                            self.refs[("queue", trig.queue, "url")],
                            sqs,
                            self.invoke,
                            lambda: self.clock.now().timestamp(),
                        )
                    )
                elif isinstance(trig, ScheduleTrigger):
                    events.put_rule(Name=trig.name, ScheduleExpression=_rate_expression(trig.rate_s))
                    events.put_targets(
                        Rule=trig.name,
                        Targets=[
                            {
                                "Id": fn.name,
                                "Arn": self.refs[("function", fn.name, "arn")],
                                "Input": trig.input_json,
                            }
                        ],
                    )
                    self.scheduler.add(fn.name, trig.name, trig.rate_s, trig.input_json)
        for key, (_, value) in env.items():
            self._saved_env.setdefault(key, os.environ.get(key))
            os.environ[key] = value


# SES v1 / CloudFormation spelling of each SES v2 event type (MatchingEventTypes)
_SES_V1_EVENT_TYPES = {
    "SEND": "send",
    "REJECT": "reject",
    "BOUNCE": "bounce",
    "COMPLAINT": "complaint",
    "DELIVERY": "delivery",
    "OPEN": "open",
    "CLICK": "click",
    "RENDERING_FAILURE": "renderingFailure",
    "DELIVERY_DELAY": "deliveryDelay",
    "SUBSCRIPTION": "subscription",
}


def _ses_events(
    spec: EmailConfigurationSet, params: dict[str, Any], message_id: str, at: datetime
) -> list[dict[str, Any]]:
    """The SES events (event publishing format) one accepted ``SendEmail`` produces, filtered by
    the set's declared ``events``; see :meth:`LocalPlatform._emulate_ses_events`."""
    now = clock_mod.utc_iso(at)
    source = str(params.get("FromEmailAddress", ""))
    to = list(params.get("Destination", {}).get("ToAddresses", []))
    domain = source.rpartition("@")[2].rstrip(">")
    tags = {t["Name"]: [t["Value"]] for t in params.get("EmailTags", [])}
    tags |= {"ses:configuration-set": [spec.name], "ses:from-domain": [domain]}
    subject = params.get("Content", {}).get("Simple", {}).get("Subject", {}).get("Data")
    mail = {
        "timestamp": now,
        "source": source,
        "sendingAccountId": ACCOUNT_ID,
        "messageId": message_id,
        "destination": to,
        "tags": tags,
        "commonHeaders": {"from": [source], "to": to, "messageId": message_id, "subject": subject},
    }
    events: list[tuple[str, dict[str, Any]]] = [("SEND", {"eventType": "Send", "send": {}})]
    for address in to:
        if address.startswith("bounce@simulator.amazonses.com"):
            recipient = {
                "emailAddress": address,
                "action": "failed",
                "status": "5.1.1",
                "diagnosticCode": "smtp; 550 5.1.1 user unknown",
            }
            bounce = {
                "bounceType": "Permanent",
                "bounceSubType": "General",
                "bouncedRecipients": [recipient],
                "timestamp": now,
            }
            events.append(("BOUNCE", {"eventType": "Bounce", "bounce": bounce}))
            continue
        delivery = {"recipients": [address], "timestamp": now, "smtpResponse": "250 2.6.0 Message received"}
        events.append(("DELIVERY", {"eventType": "Delivery", "delivery": delivery}))
        if address.startswith("complaint@simulator.amazonses.com"):
            complaint = {
                "complainedRecipients": [{"emailAddress": address}],
                "complaintFeedbackType": "abuse",
                "timestamp": now,
            }
            events.append(("COMPLAINT", {"eventType": "Complaint", "complaint": complaint}))
    return [{**event, "mail": mail} for kind, event in events if kind in spec.events]


def _discard(payload: dict[str, Any]) -> None:
    log.warning("stream batch dropped after its retries (no on-failure queue): %s", payload)


def _rate_expression(seconds: int) -> str:
    if seconds % 86400 == 0:
        n, unit = seconds // 86400, "day"
    elif seconds % 3600 == 0:
        n, unit = seconds // 3600, "hour"
    else:
        n, unit = max(1, seconds // 60), "minute"
    return f"rate({n} {unit}{'s' if n > 1 else ''})"


@contextmanager
def running(**kwargs: Any) -> Iterator[LocalPlatform]:
    """``with running(clock=ManualClock(), serve_http=False) as platform: ...``"""
    platform = LocalPlatform(**kwargs)
    platform.start()
    try:
        yield platform
    finally:
        platform.stop()


def epoch(instant: datetime) -> float:
    return instant.timestamp()
