"""Helpers for the campaigns and channels integration tests (the local runtime on moto)."""

from __future__ import annotations

import contextlib
import gzip
import json
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from infra.local import outbox
from infra.local.runtime import LocalPlatform

SENDER = "news@shop.com"
EMAIL = {
    "from": f"Shop <{SENDER}>",
    "subject": "Hi {{${first_name}}}",
    "body": "<p>Hello {{${first_name}}}</p>",
}


def ok(
    platform: LocalPlatform, method: str, path: str, body: Any = None, status: int = 201
) -> dict[str, Any]:
    got, _, out = platform.request(method, path, body)
    assert got == status, out
    assert isinstance(out, dict)
    return out


def track(platform: LocalPlatform, *attributes: dict[str, Any]) -> None:
    objects = list(attributes)
    for start in range(0, len(objects), 75):
        ok(platform, "POST", "/users/track", {"attributes": objects[start : start + 75]})


def verify_sender(platform: LocalPlatform, domain: str = "shop.com") -> None:
    """SES sends only from verified identities (moto checks too)."""
    ses = platform.client("sesv2")
    with contextlib.suppress(ses.exceptions.AlreadyExistsException):
        ses.create_email_identity(EmailIdentity=domain)


def emails(to: str | None = None) -> list[dict[str, Any]]:
    return [m for m in outbox.messages("email", 100_000) if to is None or m["to"] == to]


def status(platform: LocalPlatform, dispatch_id: str) -> dict[str, Any]:
    return ok(platform, "GET", f"/dispatches/{dispatch_id}", status=200)


def currents(platform: LocalPlatform, event_type: str) -> list[dict[str, Any]]:
    """Currents events of ``event_type`` in the lake (flushed first), deduped by id."""
    platform.firehose.flush()
    s3 = platform.client("s3")
    found: dict[str, dict[str, Any]] = {}
    pages = s3.get_paginator("list_objects_v2").paginate(
        Bucket="lake", Prefix=f"currents/event_type={event_type}/"
    )
    for page in pages:
        for obj in page.get("Contents", []):
            raw = s3.get_object(Bucket="lake", Key=obj["Key"])["Body"].read()
            if raw[:2] == b"\x1f\x8b":
                raw = gzip.decompress(raw)
            for line in raw.splitlines():
                if line.strip():
                    event = json.loads(line)
                    found.setdefault(event["id"], event)
    return list(found.values())


def handler_module(platform: LocalPlatform, function: str) -> Any:
    platform.registry.handler(function)
    return sys.modules[f"engagekit_functions.{function}"]


def executions(platform: LocalPlatform) -> list[dict[str, Any]]:
    sfn = platform.client("stepfunctions")
    arn = platform.refs[("state_machine", "send_run", "arn")]
    return list(sfn.list_executions(stateMachineArn=arn)["executions"])


class Hook(ThreadingHTTPServer):
    """A loopback webhook receiver: records requests, answers with scripted statuses (then 200)."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.script: list[int] = []
        self.lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _HookHandler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _HookHandler(BaseHTTPRequestHandler):
    server: Hook

    def _answer(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        with self.server.lock:
            status = self.server.script.pop(0) if self.server.script else 200
            self.server.requests.append(
                {
                    "method": self.command,
                    "path": self.path,
                    "headers": dict(self.headers),
                    "body": body,
                    "status": status,
                }
            )
        self.send_response(status)
        self.send_header("content-length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    do_POST = do_PUT = do_GET = do_DELETE = _answer

    def log_message(self, *args: Any) -> None:
        return


@pytest.fixture(scope="module")
def hook() -> Iterator[Hook]:
    server = Hook()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def loopback_webhooks(port: int) -> Any:
    """A send_webhook service whose HTTP client may reach 127.0.0.1:``port`` (tests only)."""
    from ipaddress import ip_network

    from engagekit.channels.adapters import WebhookAdapter
    from engagekit.channels.providers import HttpWebhookProvider
    from engagekit.channels.service import SenderSettings, build_sender
    from engagekit.config import load_settings
    from engagekit.liquid import UnsafeTestAllowlist, UrlGuard
    from engagekit.liquid.connected.urllib3_fetcher import Urllib3Fetcher

    guard = UrlGuard(
        unsafe_test_allowlist=UnsafeTestAllowlist(networks=[ip_network("127.0.0.0/8")], ports=[port])
    )
    provider = HttpWebhookProvider(Urllib3Fetcher(guard), timeout_s=2.0)
    return build_sender("send_webhook", load_settings(SenderSettings), adapters=[WebhookAdapter(provider)])
