"""Connected Content semantics on top of the HTTP port (braze-api.md §5.4).

The ``connected_content`` tag renders its Liquid parts into a :class:`ConnectedCall`; this client
turns it into an HTTP request (headers, body encoding, basic auth), serves it from the cache when
allowed, interprets the response (JSON is data, anything else is text) and applies the error rules:

============================  ==========================================================
outcome                       effect
============================  ==========================================================
2XX JSON object / array       saved to ``:save`` (default ``connected``); objects get
                              ``__http_status_code__``
2XX other body                inserted in place of the tag
3XX / 4XX                     nothing inserted (redirects are not followed); a JSON object
                              body is still saved, with ``__http_status_code__``
5XX, timeout, network error,  nothing inserted; with ``:retry`` the render returns
unhealthy host                ``Retry`` (exponential backoff) until 5 retries, then ``Aborted``
refused by the SSRF guard,    nothing inserted, a warning for previews; never retried
body over 1 MB
unknown ``:basic_auth`` name  ``Aborted`` (the credential was deleted)
============================  ==========================================================

Caching: GETs are cached for 300 s by default, ``:cache_max_age`` sets 300 to 14,400 s, ``:no_cache``
disables; POSTs are cached only with ``:cache_max_age``. Only 2XX responses are cached. Unlike
Braze (URL only), the cache key includes method, body, headers and credential name so one
user's personalised response is never served to another.

Unhealthy hosts: after 5 consecutive failures a host is paused for 60 s; calls during the pause
fail at once (braze-api.md §5.4 "unhealthy host detection").
"""

from __future__ import annotations

import base64
import json
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit

from engagekit import clock
from engagekit.liquid.connected.http import Fetcher, HttpRequest, HttpResponse
from engagekit.liquid.connected.stores import (
    CredentialStore,
    InMemoryCredentialStore,
    InMemoryResponseCache,
    ResponseCache,
)
from engagekit.liquid.errors import (
    FetchFailed,
    FetchRefused,
    FetchTimeout,
    FetchTooLarge,
    MessageAborted,
    RetryRequested,
)

MAX_RETRIES = 5
"""``:retry`` retries at most this many times, then aborts (braze-api.md §5.4)."""

RETRY_BASE_SECONDS = 5.0
"""Backoff before retry n (0-based attempt) is ``RETRY_BASE_SECONDS * 2**n`` seconds (engagekit choice)."""

DEFAULT_CACHE_SECONDS = 300
MIN_CACHE_SECONDS = 300
MAX_CACHE_SECONDS = 14_400
UNHEALTHY_AFTER_FAILURES = 5
UNHEALTHY_PAUSE_SECONDS = 60.0
USER_AGENT = "engagekit-connected-content/1"
HTTP_STATUS_KEY = "__http_status_code__"
_INTERPRETED_ENTRIES = 256


@dataclass(slots=True)
class ConnectedCall:
    """One rendered ``connected_content`` tag: URL and options after Liquid ran."""

    url: str
    method: str = "GET"
    headers: Mapping[str, str] = field(default_factory=dict)
    body: str | None = None
    content_type: str | None = None
    basic_auth: str | None = None
    cache_max_age: int | None = None
    no_cache: bool = False
    retry: bool = False


@dataclass(slots=True)
class CallOutcome:
    """What the tag does: insert ``text``, save ``data`` (JSON object/array), note ``warning``."""

    text: str = ""
    data: dict[str, object] | list[object] | None = None
    warning: str | None = None
    from_cache: bool = False


def _missing_credential(name: str) -> MessageAborted:
    return MessageAborted(
        f"connected_content: basic auth credential {name!r} does not exist", kind="connected_content"
    )


class HostHealth:
    """Pauses a host for ``pause_seconds`` after ``threshold`` consecutive failures (clock time)."""

    def __init__(
        self, threshold: int = UNHEALTHY_AFTER_FAILURES, pause_seconds: float = UNHEALTHY_PAUSE_SECONDS
    ) -> None:
        self.threshold = threshold
        self.pause_seconds = pause_seconds
        self._failures: dict[str, int] = {}
        self._paused_until: dict[str, float] = {}
        self._lock = threading.Lock()

    def is_paused(self, host: str) -> bool:
        with self._lock:
            until = self._paused_until.get(host)
            if until is None:
                return False
            if clock.now_epoch() >= until:
                del self._paused_until[host]
                self._failures.pop(host, None)
                return False
            return True

    def record(self, host: str, ok: bool) -> None:
        with self._lock:
            if ok:
                self._failures.pop(host, None)
                return
            count = self._failures.get(host, 0) + 1
            self._failures[host] = count
            if count >= self.threshold:
                self._paused_until[host] = clock.now_epoch() + self.pause_seconds


def _decode(response: HttpResponse) -> str:
    charset = "utf-8"
    for part in response.content_type.split(";")[1:]:
        key, _, value = part.strip().partition("=")
        if key.lower() == "charset" and value:
            charset = value.strip('"')
    try:
        return response.body.decode(charset, errors="replace")
    except LookupError:
        return response.body.decode("utf-8", errors="replace")


def interpret(response: HttpResponse, *, from_cache: bool = False) -> CallOutcome:
    """Apply the response rules of the module docstring to one response."""
    text = _decode(response)
    data: dict[str, object] | list[object] | None = None
    if text.lstrip()[:1] in ("{", "["):
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = None
        if isinstance(parsed, dict):
            data = {**parsed, HTTP_STATUS_KEY: response.status}
        elif isinstance(parsed, list):
            data = parsed
    if 200 <= response.status < 300:
        if data is not None:
            return CallOutcome(data=data, from_cache=from_cache)
        return CallOutcome(text=text, from_cache=from_cache)
    return CallOutcome(
        data=data if isinstance(data, dict) else None,
        warning=f"connected_content: {response.status} from the endpoint, nothing inserted",
    )


class ConnectedContentClient:
    """Performs :class:`ConnectedCall` s: headers, auth, cache, health and error rules (module doc)."""

    def __init__(
        self,
        fetcher: Fetcher,
        *,
        credentials: CredentialStore | None = None,
        cache: ResponseCache | None = None,
        health: HostHealth | None = None,
    ) -> None:
        self.fetcher = fetcher
        self.credentials: CredentialStore = (
            credentials if credentials is not None else InMemoryCredentialStore()
        )
        self.cache: ResponseCache = cache if cache is not None else InMemoryResponseCache()
        self.health = health if health is not None else HostHealth()
        # Interpreted cached responses, so a cache hit does not parse the same JSON again. Valid
        # only while the cache returns the very same response object.
        self._interpreted: OrderedDict[str, tuple[HttpResponse, CallOutcome]] = OrderedDict()

    def build_request(self, call: ConnectedCall) -> HttpRequest:
        """The HTTP request for ``call`` (braze-api.md §5.4 headers and body rules).

        Raises:
            MessageAborted: ``:basic_auth`` names a credential that does not exist.
        """
        method = call.method.upper()
        default_type = "application/json" if method == "GET" else "application/x-www-form-urlencoded"
        headers = {
            "User-Agent": USER_AGENT,
            "Content-Type": call.content_type or default_type,
            "Accept": call.content_type or "*/*",
        }
        if call.basic_auth:
            credential = self.credentials.get_basic_auth(call.basic_auth)
            if credential is None:
                raise _missing_credential(call.basic_auth)
            token = base64.b64encode(f"{credential.username}:{credential.password}".encode()).decode()
            headers["Authorization"] = f"Basic {token}"
        headers.update(call.headers)
        body: bytes | None = None
        if method != "GET" and call.body is not None:
            text = call.body.strip()
            content_type = headers.get("Content-Type", "")
            if "json" in content_type and text[:1] not in ("{", "[") and "=" in text:
                text = json.dumps(dict(parse_qsl(text, keep_blank_values=True)), separators=(",", ":"))
            body = text.encode()
        return HttpRequest(method=method, url=call.url.strip(), headers=headers, body=body)

    @staticmethod
    def cache_ttl(call: ConnectedCall) -> int:
        """Seconds to cache ``call``'s 2XX response; 0 means do not cache."""
        if call.no_cache:
            return 0
        if call.cache_max_age is None:
            return DEFAULT_CACHE_SECONDS if call.method.upper() == "GET" else 0
        return max(MIN_CACHE_SECONDS, min(MAX_CACHE_SECONDS, call.cache_max_age))

    @staticmethod
    def cache_key(call: ConnectedCall) -> str:
        """Everything the request is built from (method, URL, body, content type, headers and
        credential name; never the secret), as one string."""
        parts = [call.method.upper(), call.url.strip(), call.content_type or "", call.basic_auth or ""]
        parts.append(repr(call.body))
        if call.headers:
            parts.extend(f"{name.lower()}:{value}" for name, value in sorted(call.headers.items()))
        return "\n".join(parts)

    def call(self, call: ConnectedCall, *, attempt: int = 0, preview: bool = False) -> CallOutcome:
        """Perform ``call`` for the ``attempt``-th render of a send (0 = first).

        Returns:
            What the tag should insert or save.

        Raises:
            MessageAborted: missing credential, or ``:retry`` exhausted (braze-api.md §5.4).
            RetryRequested: a ``:retry`` call failed and retries remain (never for previews).
        """
        ttl = self.cache_ttl(call)
        key = self.cache_key(call) if ttl else ""
        if ttl:
            cached = self.cache.get(key)
            if cached is not None:
                if call.basic_auth and self.credentials.get_basic_auth(call.basic_auth) is None:
                    raise _missing_credential(call.basic_auth)
                return self._interpret_cached(key, cached)
        request = self.build_request(call)
        host = (urlsplit(request.url).hostname or "").lower()
        if self.health.is_paused(host):
            return self._failure(call, f"host {host} is paused after repeated failures", attempt, preview)
        try:
            response = self.fetcher.fetch(request)
        except (FetchRefused, FetchTooLarge) as err:
            return CallOutcome(warning=f"connected_content: {err}")
        except (FetchTimeout, FetchFailed) as err:
            self.health.record(host, ok=False)
            return self._failure(call, str(err), attempt, preview)
        if response.status >= 500:
            self.health.record(host, ok=False)
            return self._failure(call, f"{response.status} from {host}", attempt, preview)
        self.health.record(host, ok=True)
        if ttl and 200 <= response.status < 300:
            self.cache.put(key, response, ttl)
        return interpret(response)

    def _interpret_cached(self, key: str, response: HttpResponse) -> CallOutcome:
        memo = self._interpreted.get(key)
        if memo is not None and memo[0] is response:
            return memo[1]
        outcome = interpret(response, from_cache=True)
        self._interpreted[key] = (response, outcome)
        while len(self._interpreted) > _INTERPRETED_ENTRIES:
            self._interpreted.popitem(last=False)
        return outcome

    @staticmethod
    def _failure(call: ConnectedCall, reason: str, attempt: int, preview: bool) -> CallOutcome:
        if call.retry and not preview:
            if attempt < MAX_RETRIES:
                raise RetryRequested(
                    f"connected_content: {reason}", delay_seconds=RETRY_BASE_SECONDS * 2**attempt
                )
            raise MessageAborted(
                f"connected_content: {reason} (after {MAX_RETRIES} retries)", kind="connected_content"
            )
        return CallOutcome(warning=f"connected_content: {reason}")
