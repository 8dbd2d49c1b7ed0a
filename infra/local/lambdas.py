"""Loading function handlers from ``functions/<name>/handler.py`` and invoking them as Lambda does.

The local runtime calls the very ``handler(event, context)`` that Lambda calls. Each handler module
is imported once (a warm container) under the name ``engagekit_functions.<name>``.
"""

from __future__ import annotations

import importlib.util
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from infra.spec import Function

Handler = Callable[[Any, Any], Any]
ACCOUNT_ID = "123456789012"
REGION = "us-east-1"


@dataclass
class LambdaContext:
    """The attributes and method of Lambda's Python context object.

    ``get_remaining_time_in_millis`` counts down from the function's timeout in wall time: the
    local runtime reports an overrun but cannot stop a thread.
    """

    function_name: str
    memory_limit_in_mb: int
    timeout_s: int
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    _deadline: float = 0.0

    def __post_init__(self) -> None:
        self._deadline = time.monotonic() + self.timeout_s

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{self.function_name}"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        return f"local/[{self.function_version}]{self.aws_request_id[:8]}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


class Lane:
    """One warm execution environment: a persistent thread that runs invocations one at a time.

    Lambda runs one request per environment at a time, and handlers rely on that (Powertools keeps
    the current event on the router class; pynamodb keeps a botocore session per thread). A call
    from the lane's own thread (a handler invoking synchronously) runs inline.
    """

    def __init__(self, name: str) -> None:
        from concurrent.futures import ThreadPoolExecutor

        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"lambda-{name}")
        self._local = threading.local()

    def run(self, fn: Callable[[], Any]) -> Any:
        if getattr(self._local, "inside", False):
            return fn()
        return self._pool.submit(self._enter, fn).result()

    def _enter(self, fn: Callable[[], Any]) -> Any:
        self._local.inside = True
        try:
            return fn()
        finally:
            self._local.inside = False

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


class HandlerRegistry:
    """Imports each function's handler once and invokes it with a fresh context per call."""

    def __init__(self, root: Path, functions: tuple[Function, ...]) -> None:
        self._root = root
        self._functions = {f.name: f for f in functions}
        self._handlers: dict[str, Handler] = {}
        self._import_lock = threading.Lock()

    def function(self, name: str) -> Function:
        return self._functions[name]

    def handler(self, name: str) -> Handler:
        with self._import_lock:
            if name not in self._handlers:
                module = _import_handler_module(
                    self._root / self._functions[name].code_dir / "handler.py", name
                )
                self._handlers[name] = module.handler
            return self._handlers[name]

    def invoke(self, name: str, event: Any) -> Any:
        """Run function ``name`` on ``event``; exceptions propagate as Lambda's unhandled errors."""
        fn = self._functions[name]
        context = LambdaContext(fn.name, fn.memory_mb, fn.timeout_s)
        return self.handler(name)(event, context)


def _import_handler_module(path: Path, name: str) -> ModuleType:
    if not path.exists():
        raise FileNotFoundError(f"function {name}: no handler at {path}")
    module_name = f"engagekit_functions.{name}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    if not callable(getattr(module, "handler", None)):
        raise ImportError(f"{path} defines no handler(event, context)")
    return module
