"""The HTTP port of Connected Content: one request in, one bounded response out.

A :class:`Fetcher` never follows redirects, gives up after ``timeout_seconds`` for the whole
exchange, and refuses bodies over ``max_bytes`` (braze-api.md §5.4: 2 s, 1 MB, no redirects).
Adapters apply the SSRF guard (:mod:`engagekit.liquid.connected.guard`) before connecting.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from engagekit.liquid.connected.guard import UrlGuard
from engagekit.liquid.errors import FetchError, FetchFailed, FetchTooLarge

DEFAULT_TIMEOUT_SECONDS = 2.0
"""Connected Content deadline for a whole call, seconds (braze-api.md §5.4)."""

MAX_RESPONSE_BYTES = 1_048_576
"""Connected Content response cap, bytes (1 MB, braze-api.md §5.4)."""


@dataclass(slots=True)
class HttpRequest:
    """One outbound call. ``headers`` are sent as given; ``body`` is raw bytes or ``None``."""

    method: str
    url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes | None = None
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS
    max_bytes: int = MAX_RESPONSE_BYTES


@dataclass(frozen=True, slots=True)
class HttpResponse:
    """A complete response; ``headers`` keys are lower-case."""

    status: int
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")


class Fetcher(Protocol):
    """Perform one HTTP request (no redirects, bounded time and size)."""

    def fetch(self, request: HttpRequest) -> HttpResponse:
        """Send ``request`` and return the response, whatever its status.

        Raises:
            FetchRefused: the SSRF guard refused the target.
            FetchTimeout: no complete response within ``request.timeout_seconds``.
            FetchTooLarge: the body is over ``request.max_bytes``.
            FetchFailed: resolution, connection, TLS or protocol failure.
        """
        ...


Route = HttpResponse | FetchError | Callable[[HttpRequest], HttpResponse]


class FakeFetcher:
    """In-memory :class:`Fetcher` for tests: canned responses by ``(METHOD, url)``.

    With a ``guard`` it checks each URL first, exactly as the real adapter does, so refusals can be
    tested without sockets. Unknown routes raise :class:`FetchFailed`. ``requests`` records calls.
    """

    def __init__(
        self, routes: Mapping[tuple[str, str], Route] | None = None, *, guard: UrlGuard | None = None
    ):
        self.routes: dict[tuple[str, str], Route] = dict(routes or {})
        self.guard = guard
        self.requests: list[HttpRequest] = []

    def add(self, method: str, url: str, route: Route) -> None:
        self.routes[(method.upper(), url)] = route

    def fetch(self, request: HttpRequest) -> HttpResponse:
        self.requests.append(request)
        if self.guard is not None:
            self.guard.check(request.url)
        route = self.routes.get((request.method.upper(), request.url))
        if route is None:
            raise FetchFailed(f"no route for {request.method} {request.url}")
        if isinstance(route, FetchError):
            raise route
        response = route if isinstance(route, HttpResponse) else route(request)
        if len(response.body) > request.max_bytes:
            raise FetchTooLarge(f"response over {request.max_bytes} bytes")
        return response
