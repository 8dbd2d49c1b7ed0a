"""``/users/track`` from a client's side: batches of at most 75 objects per array, posted over HTTP.

Used by ``engagekit import users`` and ``engagekit replay``. A request carries at most
:data:`MAX_OBJECTS_PER_ARRAY` attribute, event and purchase objects (braze-api.md §1.1: more is
``400 Max Input Length Exceeded``). :func:`post_with_retry` waits out ``429 Rate Limited`` until the
window's ``X-RateLimit-Reset`` (braze-api.md §0) and retries 5xx and connection failures with
exponential backoff, as Braze asks of its clients. A retried request whose first attempt reached
the server may be applied twice (events and purchases are not de-duplicated, braze-api.md §1.1).
"""

from __future__ import annotations

import http.client
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, Protocol, TypeVar
from urllib.parse import urlsplit

from engagekit import clock
from engagekit.errors import EngagekitError

MAX_OBJECTS_PER_ARRAY = 75
TRACK_PATH = "/users/track"
ArrayName = Literal["attributes", "events", "purchases"]
ARRAYS: tuple[ArrayName, ...] = ("attributes", "events", "purchases")
T = TypeVar("T")


class TransportError(EngagekitError):
    """No HTTP answer at all (refused, reset, timed out) after the retries."""


class ApiCallError(EngagekitError):
    """The API kept failing (5xx, or 429 past the wait budget); ``status`` and ``body`` of the last answer."""

    def __init__(self, message: str, status: int, body: Any) -> None:
        super().__init__(message)
        self.status = status
        self.body = body


@dataclass(frozen=True)
class ApiResponse:
    """An answer: status, headers (names lower-cased) and the parsed JSON body (or text)."""

    status: int
    headers: Mapping[str, str]
    body: Any

    @property
    def message(self) -> str:
        if isinstance(self.body, dict):
            return str(self.body.get("message", ""))
        return str(self.body)[:200]


class Transport(Protocol):
    """Sends one API request; raises :class:`TransportError` when there is no answer."""

    def request(self, method: str, path: str, body: Any = None) -> ApiResponse: ...


class HttpTransport:
    """HTTP(S) to an engagekit (or Braze) base URL with a Bearer key, over one kept-alive connection.

    Not thread-safe: one per worker. ``timeout_s`` bounds each request.
    """

    def __init__(self, base_url: str, api_key: str, timeout_s: float = 60.0) -> None:
        split = urlsplit(base_url)
        if split.scheme not in ("http", "https") or not split.hostname:
            raise ValueError(f"API URL {base_url!r} is not http(s)://host[:port][/prefix]")
        self.base_url = base_url.rstrip("/")
        self._scheme = split.scheme
        self._host = split.hostname
        self._port = split.port
        self._prefix = split.path.rstrip("/")
        self._headers = {
            "Authorization": f"Bearer {api_key}",
            "Content-Type": "application/json",
            "Accept": "application/json",
        }
        self._timeout_s = timeout_s
        self._conn: http.client.HTTPConnection | None = None

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            cls = http.client.HTTPSConnection if self._scheme == "https" else http.client.HTTPConnection
            self._conn = cls(self._host, self._port, timeout=self._timeout_s)
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def request(self, method: str, path: str, body: Any = None) -> ApiResponse:
        payload = None if body is None else json.dumps(body, separators=(",", ":")).encode()
        for attempt in (1, 2):  # a kept-alive connection the server closed is retried once, fresh
            conn = self._connection()
            try:
                conn.request(method, self._prefix + path, body=payload, headers=self._headers)
                resp = conn.getresponse()
                raw = resp.read()
            except (http.client.HTTPException, OSError) as exc:  # OSError covers timeouts
                self.close()
                if attempt == 2:
                    raise TransportError(
                        f"{method} {self.base_url}{path}: {exc or type(exc).__name__}"
                    ) from exc
                continue
            headers = {k.lower(): v for k, v in resp.getheaders()}
            if headers.get("connection", "").lower() == "close":
                self.close()
            try:
                parsed: Any = json.loads(raw) if raw else None
            except ValueError:
                parsed = raw.decode(errors="replace")
            return ApiResponse(resp.status, headers, parsed)
        raise AssertionError("unreachable")


@dataclass
class RetryPolicy:
    """How long to insist. Seconds are the platform clock's (``engagekit.clock.get_clock().sleep``)."""

    attempts: int = 6
    first_backoff_s: float = 0.5
    max_backoff_s: float = 15.0
    rate_limited_waits: int = 40
    max_rate_wait_s: float = 10.0


def post_with_retry(
    transport: Transport,
    path: str,
    body: Any,
    policy: RetryPolicy | None = None,
    on_wait: Callable[[str, float], None] | None = None,
) -> ApiResponse:
    """POST ``body`` to ``path``; returns the first answer that is neither 429 nor 5xx.

    On 429 waits until ``X-RateLimit-Reset`` (UTC epoch seconds; at most ``max_rate_wait_s`` per
    wait, ``rate_limited_waits`` waits); on 5xx or no answer backs off exponentially for
    ``attempts`` tries. Raises :class:`ApiCallError` or :class:`TransportError` when out of tries.
    ``on_wait(reason, seconds)`` is told about every wait.
    """
    policy = policy or RetryPolicy()
    failures = waits = 0
    while True:
        try:
            resp = transport.request("POST", path, body)
        except TransportError:
            failures += 1
            if failures >= policy.attempts:
                raise
            _wait(policy, failures, "no answer", on_wait)
            continue
        if resp.status == 429:
            waits += 1
            if waits > policy.rate_limited_waits:
                raise ApiCallError(f"still rate limited after {waits - 1} waits", 429, resp.body)
            reset = _number(resp.headers.get("x-ratelimit-reset"))
            delay = (reset - clock.now_epoch()) if reset is not None else 1.0
            delay = min(policy.max_rate_wait_s, max(0.05, delay))
            if on_wait:
                on_wait("rate limited", delay)
            clock.get_clock().sleep(delay)
            continue
        if resp.status >= 500:
            failures += 1
            if failures >= policy.attempts:
                raise ApiCallError(f"{path} answered {resp.status}: {resp.message}", resp.status, resp.body)
            _wait(policy, failures, f"HTTP {resp.status}", on_wait)
            continue
        return resp


def _wait(
    policy: RetryPolicy, failures: int, reason: str, on_wait: Callable[[str, float], None] | None
) -> None:
    delay = min(policy.max_backoff_s, policy.first_backoff_s * 2 ** (failures - 1))
    if on_wait:
        on_wait(reason, delay)
    clock.get_clock().sleep(delay)


def _number(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


@dataclass
class TrackBatch(Generic[T]):
    """Objects for one ``/users/track`` request, each with a caller's tag (a row number, a line).

    ``max_per_array`` defaults to Braze's 75 (braze-api.md §1.1).
    """

    max_per_array: int = MAX_OBJECTS_PER_ARRAY
    objects: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: {a: [] for a in ARRAYS})
    tags: dict[str, list[T]] = field(default_factory=lambda: {a: [] for a in ARRAYS})

    def has_room(self, array: ArrayName, n: int = 1) -> bool:
        return len(self.objects[array]) + n <= self.max_per_array

    def add(self, array: ArrayName, obj: dict[str, Any], tag: T) -> None:
        """Append ``obj`` to ``array``; raises ``ValueError`` when that array is full."""
        if not self.has_room(array):
            raise ValueError(f"{array} already holds {self.max_per_array} objects")
        self.objects[array].append(obj)
        self.tags[array].append(tag)

    @property
    def full(self) -> bool:
        return any(len(v) >= self.max_per_array for v in self.objects.values())

    def __len__(self) -> int:
        return sum(len(v) for v in self.objects.values())

    def body(self) -> dict[str, list[dict[str, Any]]]:
        """The request body: only the non-empty arrays."""
        return {a: list(v) for a, v in self.objects.items() if v}

    def count(self, array: ArrayName) -> int:
        return len(self.objects[array])

    def clear(self) -> None:
        for array in ARRAYS:
            self.objects[array].clear()
            self.tags[array].clear()


@dataclass(frozen=True)
class ItemFailure(Generic[T]):
    """One object the API refused: its array, tag and the API's reason."""

    array: str
    tag: T
    message: str


def failures_of(resp: ApiResponse, batch: TrackBatch[T]) -> list[ItemFailure[T]]:
    """Which objects of ``batch`` the answer ``resp`` says were not applied.

    2xx: the per-item ``errors`` (``{type, input_array, index}``, braze-api.md §0). 4xx: the whole
    request was refused (Braze: nothing is written), so every object failed, with the item's own
    reason when the body names it and the fatal message otherwise.
    """
    named: dict[tuple[str, int], str] = {}
    errors = resp.body.get("errors") if isinstance(resp.body, dict) else None
    for item in errors if isinstance(errors, list) else []:
        if not isinstance(item, dict):
            continue
        array, index = item.get("input_array"), item.get("index")
        if isinstance(array, str) and isinstance(index, int) and array in batch.tags:
            named[(array, index)] = str(item.get("type") or item.get("message") or "rejected")
    out: list[ItemFailure[T]] = []
    if 200 <= resp.status < 300:
        for (array, index), message in sorted(named.items()):
            if 0 <= index < len(batch.tags[array]):
                out.append(ItemFailure(array, batch.tags[array][index], message))
        return out
    fatal = f"request refused ({resp.status}): {resp.message}"
    for array in ARRAYS:
        for index, tag in enumerate(batch.tags[array]):
            reason = named.get((array, index))
            out.append(ItemFailure(array, tag, f"{reason} ({fatal})" if reason else fatal))
    return out
