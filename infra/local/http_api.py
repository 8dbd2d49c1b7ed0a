"""The public API on loopback: API Gateway HTTP API (payload format 2.0) built from the manifest.

Each request is matched against the manifest's routes (``{param}`` and greedy ``{proxy+}``), turned
into the event API Gateway would send, and passed to the same ``handler(event, context)`` that
Lambda runs. Unmatched paths get API Gateway's ``404 {"message":"Not Found"}``.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from infra.local.lambdas import ACCOUNT_ID
from infra.spec import Route

log = logging.getLogger("engagekit.local")
MAX_BODY_BYTES = 10 * 1024 * 1024  # API Gateway's payload quota for HTTP APIs (10 MB)
Invoke = Callable[[str, Any], Any]
Extra = Callable[[str, str, dict[str, str], bytes], tuple[int, dict[str, str], bytes] | None]


class Router:
    """Matches ``(method, path)`` to a manifest route and its function."""

    def __init__(self, routes: list[tuple[Route, str]]) -> None:
        self._routes: list[tuple[Route, str, re.Pattern[str]]] = []
        for route, function in routes:
            pattern = "^"
            for segment in route.path.strip("/").split("/"):
                if segment.endswith("+}"):
                    pattern += f"/(?P<{segment[1:-2]}>.+)"
                elif segment.startswith("{"):
                    pattern += f"/(?P<{segment[1:-1]}>[^/]+)"
                else:
                    pattern += "/" + re.escape(segment)
            self._routes.append((route, function, re.compile(pattern + "/?$")))
        # Literal routes win over parameterized ones, as in API Gateway.
        self._routes.sort(key=lambda r: r[0].path.count("{"))

    def match(self, method: str, path: str) -> tuple[Route, str, dict[str, str]] | None:
        for route, function, pattern in self._routes:
            m = pattern.match(path)
            if m and route.method == method:
                return route, function, m.groupdict()
        return None


def build_event(
    route: Route,
    params: dict[str, str],
    method: str,
    raw_path: str,
    query: str,
    headers: dict[str, str],
    body: bytes,
    source_ip: str,
) -> dict[str, Any]:
    """The API Gateway HTTP API payload format 2.0 event for one request."""
    now = datetime.now(UTC)
    lowered: dict[str, str] = {}
    for k, v in headers.items():
        key = k.lower()
        lowered[key] = f"{lowered[key]},{v}" if key in lowered else v
    cookies = [c.strip() for c in lowered.pop("cookie", "").split(";") if c.strip()]
    qs: dict[str, str] = {}
    for k, v in parse_qsl(query, keep_blank_values=True):
        qs[k] = f"{qs[k]},{v}" if k in qs else v
    is_text = _is_text(lowered.get("content-type", "application/json"))
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route.route_key,
        "rawPath": raw_path,
        "rawQueryString": query,
        "headers": lowered,
        "requestContext": {
            "accountId": ACCOUNT_ID,
            "apiId": "local",
            "domainName": lowered.get("host", "localhost"),
            "domainPrefix": "localhost",
            "http": {
                "method": method,
                "path": raw_path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": lowered.get("user-agent", ""),
            },
            "requestId": uuid.uuid4().hex,
            "routeKey": route.route_key,
            "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now.timestamp() * 1000),
        },
        "isBase64Encoded": not is_text,
    }
    if cookies:
        event["cookies"] = cookies
    if qs:
        event["queryStringParameters"] = qs
    if params:
        event["pathParameters"] = params
    if body:
        text = None
        if is_text:
            try:
                text = body.decode("utf-8")
            except UnicodeDecodeError:  # not text after all: pass the bytes through, as binary
                event["isBase64Encoded"] = True
        event["body"] = text if text is not None else base64.b64encode(body).decode()
    return event


def _is_text(content_type: str) -> bool:
    ct = content_type.lower()
    return ct.startswith("text/") or "json" in ct or "xml" in ct or "x-www-form-urlencoded" in ct


def to_http(result: Any) -> tuple[int, dict[str, str], bytes]:
    """Lambda's result to (status, headers, body), as API Gateway interprets format 2.0 results."""
    if isinstance(result, dict) and "statusCode" in result:
        headers = {str(k): str(v) for k, v in (result.get("headers") or {}).items()}
        body = result.get("body") or ""
        raw = base64.b64decode(body) if result.get("isBase64Encoded") else str(body).encode()
        for cookie in result.get("cookies") or []:
            headers.setdefault("Set-Cookie", cookie)
        return int(result["statusCode"]), headers, raw
    return 200, {"Content-Type": "application/json"}, json.dumps(result).encode()


def make_server(
    host: str, port: int, router: Router, invoke: Invoke, extra: Extra | None = None
) -> ThreadingHTTPServer:
    """A threaded HTTP server; ``extra`` may answer local-only paths (``/_local/...``) first.

    Raises ``OSError`` when the port is taken.
    """

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "engagekit-local"

        def log_message(self, format: str, *args: Any) -> None:
            log.debug("%s " + format, self.address_string(), *args)

        def _serve(self) -> None:
            started = time.perf_counter()
            split = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY_BYTES:
                self._send(
                    413, {"Content-Type": "application/json"}, b'{"message":"Request Entity Too Large"}'
                )
                return
            body = self.rfile.read(length) if length else b""
            headers = {k: v for k, v in self.headers.items()}
            method = self.command.upper()
            if extra is not None:
                answer = extra(method, split.path, {**headers, "x-engagekit-query": split.query}, body)
                if answer is not None:
                    self._send(*answer)
                    return
            matched = router.match(method, split.path)
            if matched is None:
                self._send(404, {"Content-Type": "application/json"}, b'{"message":"Not Found"}')
                return
            route, function, params = matched
            event = build_event(
                route, params, method, split.path, split.query, headers, body, self.client_address[0]
            )
            try:
                status, out_headers, out = to_http(invoke(function, event))
            except Exception:
                log.exception("function %s failed on %s", function, route.route_key)
                status, out_headers, out = (
                    500,
                    {"Content-Type": "application/json"},
                    b'{"message":"Internal Server Error"}',
                )
            out_headers.setdefault("apigw-requestid", event["requestContext"]["requestId"])
            self._send(status, out_headers, out)
            log.info(
                "%s %s -> %s in %.1f ms", method, split.path, status, (time.perf_counter() - started) * 1000
            )

        def _send(self, status: int, headers: dict[str, str], body: bytes) -> None:
            self.send_response(status)
            for k, v in headers.items():
                if k.lower() not in ("content-length", "connection"):
                    self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _serve

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    return server
