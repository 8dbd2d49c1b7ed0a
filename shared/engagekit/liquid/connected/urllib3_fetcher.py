"""The real :class:`~engagekit.liquid.connected.http.Fetcher`: urllib3, pinned to the checked address.

Each call asks the :class:`~engagekit.liquid.connected.guard.UrlGuard` for a
:class:`~engagekit.liquid.connected.guard.Target`, then opens a connection pool to the *checked IP
address* (not the host name), sending the host name in ``Host`` and as TLS SNI and verifying the
certificate against it. Nothing re-resolves the name between the check and the connection, so DNS
rebinding can not reach a refused address. Redirects are never followed, retries are off, and the
body is read in chunks up to ``max_bytes`` before a monotonic deadline of ``timeout_seconds``
(braze-api.md §5.4).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict

import urllib3
from urllib3.exceptions import HTTPError, ProtocolError, TimeoutError

from engagekit.liquid.connected.guard import Target, UrlGuard
from engagekit.liquid.connected.http import HttpRequest, HttpResponse
from engagekit.liquid.errors import FetchFailed, FetchTimeout, FetchTooLarge

_CHUNK = 64 * 1024

PoolKey = tuple[str, str, int, str]


class Urllib3Fetcher:
    """Connected Content over urllib3 with the SSRF guard; keeps up to ``max_pools`` warm pools."""

    def __init__(self, guard: UrlGuard | None = None, *, max_pools: int = 32) -> None:
        self.guard = guard if guard is not None else UrlGuard()
        self.max_pools = max_pools
        self._pools: OrderedDict[PoolKey, urllib3.HTTPConnectionPool] = OrderedDict()
        self._lock = threading.Lock()

    def _pool(self, target: Target) -> urllib3.HTTPConnectionPool:
        key: PoolKey = (target.scheme, str(target.address), target.port, target.host)
        with self._lock:
            pool = self._pools.get(key)
            if pool is not None:
                self._pools.move_to_end(key)
                return pool
            address = str(target.address)
            pool = (
                urllib3.HTTPSConnectionPool(
                    address,
                    target.port,
                    maxsize=2,
                    retries=False,
                    cert_reqs="CERT_REQUIRED",
                    assert_hostname=target.host,
                    server_hostname=target.host,
                )
                if target.scheme == "https"
                else urllib3.HTTPConnectionPool(address, target.port, maxsize=2, retries=False)
            )
            self._pools[key] = pool
            while len(self._pools) > self.max_pools:
                _, old = self._pools.popitem(last=False)
                old.close()
            return pool

    def fetch(self, request: HttpRequest) -> HttpResponse:
        """Send ``request`` to the guarded, pinned address (see the module docstring).

        Raises:
            FetchRefused: the guard refused the URL.
            FetchTimeout: the deadline passed (connect, send or read).
            FetchTooLarge: more than ``request.max_bytes`` of body.
            FetchFailed: resolution, connection, TLS or protocol failure.
        """
        target = self.guard.check(request.url)
        deadline = time.monotonic() + request.timeout_seconds
        headers = {k: v for k, v in request.headers.items() if k.lower() != "host"}
        headers["Host"] = target.host_header
        pool = self._pool(target)
        timeout = urllib3.Timeout(connect=request.timeout_seconds, read=request.timeout_seconds)
        try:
            response = pool.urlopen(
                request.method.upper(),
                target.path,
                body=request.body,
                headers=headers,
                retries=False,
                redirect=False,
                assert_same_host=False,
                timeout=timeout,
                preload_content=False,
                decode_content=False,
            )
        except TimeoutError as err:
            raise FetchTimeout(f"{target.host}: no response within {request.timeout_seconds}s") from err
        except HTTPError as err:
            raise FetchFailed(f"{target.host}: {err}") from err
        complete = False
        try:
            declared = response.headers.get("content-length")
            if declared is not None and declared.isdigit() and int(declared) > request.max_bytes:
                raise FetchTooLarge(f"{target.host}: response of {declared} bytes is over the cap")
            chunks: list[bytes] = []
            size = 0
            while True:
                if time.monotonic() > deadline:
                    raise FetchTimeout(
                        f"{target.host}: response not complete within {request.timeout_seconds}s"
                    )
                chunk = response.read(_CHUNK)
                if not chunk:
                    break
                size += len(chunk)
                if size > request.max_bytes:
                    raise FetchTooLarge(f"{target.host}: response over {request.max_bytes} bytes")
                chunks.append(chunk)
            complete = True
            return HttpResponse(
                status=response.status,
                body=b"".join(chunks),
                headers={k.lower(): v for k, v in response.headers.items()},
            )
        except TimeoutError as err:
            raise FetchTimeout(f"{target.host}: read timed out") from err
        except (ProtocolError, HTTPError) as err:
            raise FetchFailed(f"{target.host}: {err}") from err
        finally:
            if not complete:
                response.close()  # an unread body must not go back to the pool
            response.release_conn()
