"""Everything the local runtime does to moto: start it, lock it, hook it, keep it small.

moto holds the AWS state in process (``mock_aws``) and serves the same state on a loopback port.
moto has no locks of its own (reference/local-aws.md, "Traps"), so every request, in process or
through the server, runs under one re-entrant lock that is released while in-process handler code
runs. The hooks below are moto internals; :func:`self_test` fails loudly at start if one moved.
"""

from __future__ import annotations

import functools
import json
import threading
import time
from collections.abc import Callable
from typing import Any

MOTO_VERSION = "5.2.5"


class MotoLock:
    """A re-entrant lock that can be fully released by its owner and taken back at the same depth."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._local = threading.local()

    def __enter__(self) -> MotoLock:
        self._lock.acquire()
        self._local.depth = getattr(self._local, "depth", 0) + 1
        return self

    def __exit__(self, *exc: object) -> None:
        self._local.depth -= 1
        self._lock.release()

    def release_all(self) -> int:
        """Release every level this thread holds; returns how many to take back."""
        depth = getattr(self._local, "depth", 0)
        for _ in range(depth):
            self._local.depth -= 1
            self._lock.release()
        return depth

    def reacquire(self, depth: int) -> None:
        for _ in range(depth):
            self._lock.acquire()
            self._local.depth = getattr(self._local, "depth", 0) + 1


LOCK = MotoLock()
_installed: dict[str, Any] = {}


def self_test() -> None:
    """Check that every moto internal the runtime relies on is where it was measured.

    Raises ``RuntimeError`` naming the missing internal (pin moto to :data:`MOTO_VERSION`).
    """
    import moto
    from moto.awslambda.models import LambdaFunction
    from moto.core.botocore_stubber import BotocoreStubber
    from moto.dynamodb.models.table import StreamShard
    from moto.firehose.models import FirehoseBackend
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication
    from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import (
        WaitFunction,
    )

    checks: dict[str, bool] = {
        "LambdaFunction.invoke": callable(getattr(LambdaFunction, "invoke", None)),
        "StreamShard.add": callable(getattr(StreamShard, "add", None)),
        "FirehoseBackend.put_s3_records": callable(getattr(FirehoseBackend, "put_s3_records", None)),
        "WaitFunction._wait_interval": callable(getattr(WaitFunction, "_wait_interval", None)),
        "retrier_decl.time": hasattr(retrier_decl, "time"),
        "BotocoreStubber.__call__": "__call__" in vars(BotocoreStubber),
        "DomainDispatcherApplication.__call__": "__call__" in vars(DomainDispatcherApplication),
    }
    missing = [name for name, ok in checks.items() if not ok]
    if missing:
        raise RuntimeError(
            f"moto {moto.__version__} lacks internals the local runtime hooks: {', '.join(missing)}; "
            f"install moto=={MOTO_VERSION} (make venv)"
        )


def _locked(fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with LOCK:
            return fn(*args, **kwargs)

    return wrapper


def install_lock() -> None:
    """Serialize every moto request, in process and through the server, on :data:`LOCK`."""
    from moto.core.botocore_stubber import BotocoreStubber
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    if "lock" in _installed:
        return
    _installed["lock"] = (BotocoreStubber.__call__, DomainDispatcherApplication.__call__)
    BotocoreStubber.__call__ = _locked(BotocoreStubber.__call__)  # type: ignore[method-assign]
    DomainDispatcherApplication.__call__ = _locked(DomainDispatcherApplication.__call__)  # type: ignore[method-assign]


def install_lambda(invoke: Callable[[str, Any], Any]) -> None:
    """Route every Lambda invocation moto makes (Invoke API, Step Functions tasks) to ``invoke``.

    ``invoke(function_name, event)`` runs the handler in process with the moto lock released. An
    exception becomes Lambda's unhandled-error envelope (``errorType`` is the exception class name,
    header ``X-Amz-Function-Error: Unhandled``) so ASL Retry/Catch match on it.
    """
    from moto.awslambda.models import LambdaFunction

    def local_invoke(self: Any, body: str, request_headers: Any, response_headers: Any) -> bytes:
        event = json.loads(body) if body else {}
        depth = LOCK.release_all()
        try:
            result = invoke(self.function_name, event)
            payload = json.dumps(result, default=str).encode()
        except Exception as exc:
            response_headers["x-amz-function-error"] = "Unhandled"
            payload = json.dumps(
                {"errorType": type(exc).__name__, "errorMessage": str(exc), "stackTrace": []}
            ).encode()
        finally:
            LOCK.reacquire(depth)
        return payload

    _installed.setdefault("lambda", LambdaFunction.invoke)
    LambdaFunction.invoke = local_invoke  # type: ignore[method-assign]


def install_stream_feed(on_record: Callable[[str, dict[str, Any]], None], keep: int = 1000) -> None:
    """Call ``on_record(table_name, record)`` for every stream record moto appends, in order.

    moto never trims a shard; here a shard keeps at most ``keep`` records (for GetRecords through
    the AWS port) and its sequence numbers stay monotonic.
    """
    from moto.dynamodb.models.table import StreamShard

    original = _installed.setdefault("stream", StreamShard.add)

    def add(self: Any, old: Any, new: Any) -> None:
        original(self, old, new)
        record = dict(self.items[-1].record)
        record["dynamodb"] = dict(record["dynamodb"])
        created = record["dynamodb"]["ApproximateCreationDateTime"]
        record["dynamodb"]["ApproximateCreationDateTime"] = int(created.timestamp())
        on_record(self.table.name, record)
        if len(self.items) > keep:
            drop = len(self.items) - keep
            del self.items[:drop]
            self.starting_sequence_number += drop

    StreamShard.add = add  # type: ignore[method-assign]


def install_firehose(on_records: Callable[[str, list[bytes]], None]) -> None:
    """Hand every Firehose record to ``on_records(stream_name, datas)`` instead of writing S3 at once.

    moto writes one object per call and ignores buffering, prefixes and compression
    (reference/local-aws.md); the runtime's Firehose emulation does those.
    """
    import uuid

    from moto.firehose.models import FirehoseBackend

    def put_s3_records(
        self: Any, delivery_stream_name: str, version_id: str, s3_destination: Any, records: list[Any]
    ) -> list[dict[str, str]]:
        on_records(delivery_stream_name, [r["Data"] for r in records])
        return [{"RecordId": uuid.uuid4().hex} for _ in records]

    _installed.setdefault("firehose", FirehoseBackend.put_s3_records)
    FirehoseBackend.put_s3_records = put_s3_records  # type: ignore[method-assign]


class ClockWaits:
    """Step Functions Wait states and Retry intervals, run on the platform clock.

    ``parked`` counts executions waiting on the clock, so ``run_until_idle`` can tell "busy" from
    "waiting for time to pass".
    """

    def __init__(self, now: Callable[[], float]) -> None:
        self._now = now
        self._lock = threading.Lock()
        self.parked = 0

    def wait(self, seconds: float, should_stop: Callable[[], bool] | None = None) -> None:
        """Block until the clock has moved ``seconds`` on, or ``should_stop()`` says so."""
        target = self._now() + seconds
        with self._lock:
            self.parked += 1
        try:
            while self._now() < target:
                if should_stop is not None and should_stop():
                    return
                time.sleep(0.02)
        finally:
            with self._lock:
                self.parked -= 1


def install_stepfunctions_clock(waits: ClockWaits) -> None:
    """Make every Wait state and Retry interval wait on the platform clock, not wall time."""
    from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import (
        WaitFunction,
    )

    def _wait_interval(self: Any, env: Any, wait_seconds: int) -> None:
        waits.wait(wait_seconds, lambda: not env.is_running())

    class _Time:
        @staticmethod
        def sleep(seconds: float) -> None:
            waits.wait(seconds)

        def __getattr__(self, item: str) -> Any:
            return getattr(time, item)

    _installed.setdefault("wait", WaitFunction._wait_interval)
    WaitFunction._wait_interval = _wait_interval  # type: ignore[method-assign]
    retrier_decl.time = _Time()  # type: ignore[attr-defined,assignment]


def uninstall() -> None:
    """Put back every moto internal this module replaced (the platform stopped): moto used
    directly afterwards, e.g. by another test in the same process, behaves as shipped."""
    from moto.awslambda.models import LambdaFunction
    from moto.core.botocore_stubber import BotocoreStubber
    from moto.dynamodb.models.table import StreamShard
    from moto.firehose.models import FirehoseBackend
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication
    from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import (
        WaitFunction,
    )

    if "lock" in _installed:
        BotocoreStubber.__call__, DomainDispatcherApplication.__call__ = _installed.pop("lock")  # type: ignore[method-assign]
    if "lambda" in _installed:
        LambdaFunction.invoke = _installed.pop("lambda")  # type: ignore[method-assign]
    if "stream" in _installed:
        StreamShard.add = _installed.pop("stream")  # type: ignore[method-assign]
    if "firehose" in _installed:
        FirehoseBackend.put_s3_records = _installed.pop("firehose")  # type: ignore[method-assign]
    if "wait" in _installed:
        WaitFunction._wait_interval = _installed.pop("wait")  # type: ignore[method-assign]
        retrier_decl.time = time  # type: ignore[attr-defined]


def hygiene(keep_notifications: int = 100) -> None:
    """Keep moto's memory flat on a long run: drop its per-instance tracking (kept only for its
    dashboard) and all but the last ``keep_notifications`` notifications each SNS topic remembers,
    with their signing keys (about 4.5 KB per published message otherwise)."""
    from moto.core.model_instances import reset_model_data
    from moto.sns.models import sns_backends

    with LOCK:
        reset_model_data()
        for account in sns_backends.values():
            for backend in account.values():
                for topic in backend.topics.values():
                    del topic.sent_notifications[:-keep_notifications]
                backend._message_public_keys.clear()
