"""Connected Content over real HTTP on loopback, through the SSRF guard (braze-api.md §5.4).

A "public-looking" host, api.example.test, is resolved by a fake resolver to 127.0.0.1 and served by
a loopback server in the test. The guard accepts it only through the explicit test allowlist; the
system resolver can not resolve the name, so a successful call also proves the connection went to
the address the guard checked (no second lookup).
"""

from __future__ import annotations

import ipaddress
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from engagekit.liquid import (
    ConnectedContentClient,
    FetchRefused,
    FetchTimeout,
    FetchTooLarge,
    HttpRequest,
    Rendered,
    Renderer,
    StaticResolver,
    UnsafeTestAllowlist,
    UrlGuard,
)
from engagekit.liquid.connected.urllib3_fetcher import Urllib3Fetcher

HOST = "api.example.test"


@dataclass
class Seen:
    paths: list[str] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    bodies: list[bytes] = field(default_factory=list)


class Handler(BaseHTTPRequestHandler):
    seen: Seen

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _record(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.seen.paths.append(self.path)
        self.seen.headers.append({k: v for k, v in self.headers.items()})
        self.seen.bodies.append(self.rfile.read(length) if length else b"")

    def _send(self, status: int, body: bytes, content_type: str = "application/json", **headers: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        self._record()
        if self.path.startswith("/json"):
            self._send(200, json.dumps({"hello": "world", "host": self.headers["Host"]}).encode())
        elif self.path == "/text":
            self._send(200, b"plain words", "text/plain")
        elif self.path == "/redirect":
            self._send(302, b"", "text/plain", Location="/json")
        elif self.path == "/big":
            self._send(200, b"x" * (1_048_576 + 10), "text/plain")
        elif self.path == "/slow":
            time.sleep(1.0)
            self._send(200, b"late", "text/plain")
        else:
            self._send(404, b"{}")

    def do_POST(self) -> None:
        self._record()
        body = self.seen.bodies[-1]
        self._send(200, json.dumps({"got": body.decode(), "type": self.headers["Content-Type"]}).encode())


@pytest.fixture
def server() -> Iterator[tuple[int, Seen]]:
    seen = Seen()
    handler = type("BoundHandler", (Handler,), {"seen": seen})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield httpd.server_address[1], seen
    httpd.shutdown()
    httpd.server_close()


def make_guard(port: int, *, allow: bool = True) -> UrlGuard:
    resolver = StaticResolver({HOST: ["127.0.0.1"], "private.example.test": ["10.0.0.7"]})
    allowlist = (
        UnsafeTestAllowlist(networks=[ipaddress.ip_network("127.0.0.1/32")], ports=[port]) if allow else None
    )
    return UrlGuard(resolver=resolver, unsafe_test_allowlist=allowlist)


def make_renderer(port: int, *, allow: bool = True) -> Renderer:
    return Renderer(connected=ConnectedContentClient(Urllib3Fetcher(make_guard(port, allow=allow))))


def test_json_response_is_saved_and_host_header_is_the_name(server: tuple[int, Seen]) -> None:
    port, seen = server
    base = f"http://{HOST}:{port}"
    template = "{% connected_content " + base + "/json?u={{${user_id}}} :save r %}{{r.hello}} {{r.host}}"

    result = make_renderer(port).render(template, None)

    assert result == Rendered(text=f"world {HOST}:{port}")
    assert seen.paths == ["/json?u="]
    assert seen.headers[0]["User-Agent"] == "engagekit-connected-content/1"


def test_text_response_is_inserted(server: tuple[int, Seen]) -> None:
    port, _ = server

    result = make_renderer(port).render(f"[{{% connected_content http://{HOST}:{port}/text %}}]", None)

    assert result == Rendered(text="[plain words]")


def test_post_json_body_is_encoded(server: tuple[int, Seen]) -> None:
    port, _ = server
    base = f"http://{HOST}:{port}"
    template = (
        "{% connected_content " + base + "/post :method post :body a=1&b=two "
        ":content_type application/json :save r %}{{r.got}}|{{r.type}}"
    )

    result = make_renderer(port).render(template, None)

    assert result == Rendered(text='{"a":"1","b":"two"}|application/json')


def test_same_target_is_refused_without_the_test_allowlist(server: tuple[int, Seen]) -> None:
    port, seen = server

    result = make_renderer(port, allow=False).render(
        f"[{{% connected_content http://{HOST}:{port}/json %}}]", None
    )

    assert isinstance(result, Rendered) and result.text == "[]"
    assert result.warnings == (f"connected_content: port {port} is not allowed; only 80 and 443",)
    assert seen.paths == []


def test_allowlist_does_not_open_other_addresses(server: tuple[int, Seen]) -> None:
    port, seen = server

    with pytest.raises(FetchRefused):
        Urllib3Fetcher(make_guard(port)).fetch(HttpRequest("GET", f"http://private.example.test:{port}/json"))

    assert seen.paths == []


def test_redirects_are_not_followed(server: tuple[int, Seen]) -> None:
    port, seen = server

    response = Urllib3Fetcher(make_guard(port)).fetch(HttpRequest("GET", f"http://{HOST}:{port}/redirect"))

    assert response.status == 302
    assert seen.paths == ["/redirect"]


def test_body_over_one_megabyte_is_refused(server: tuple[int, Seen]) -> None:
    port, _ = server

    with pytest.raises(FetchTooLarge):
        Urllib3Fetcher(make_guard(port)).fetch(HttpRequest("GET", f"http://{HOST}:{port}/big"))


def test_slow_response_times_out(server: tuple[int, Seen]) -> None:
    port, _ = server

    with pytest.raises(FetchTimeout):
        Urllib3Fetcher(make_guard(port)).fetch(
            HttpRequest("GET", f"http://{HOST}:{port}/slow", timeout_seconds=0.3)
        )


def test_connections_are_reused_per_pinned_target(server: tuple[int, Seen]) -> None:
    port, seen = server
    fetcher = Urllib3Fetcher(make_guard(port))

    for _ in range(3):
        assert fetcher.fetch(HttpRequest("GET", f"http://{HOST}:{port}/json")).status == 200

    assert len(seen.paths) == 3
    assert len(fetcher._pools) == 1
