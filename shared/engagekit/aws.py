"""boto3 clients, created lazily on first use and reused for the life of the container.

Nothing creates a client at import time: the local runtime must start moto first (a client made
before the mock talks to real AWS), and Lambda cold starts pay only for the clients a handler uses.
"""

from __future__ import annotations

import os
import threading
from typing import Any

_clients: dict[str, Any] = {}
_lock = threading.Lock()


def client(service: str) -> Any:
    """The shared boto3 client for ``service`` (e.g. ``"sqs"``), created on first call."""
    found = _clients.get(service)
    if found is not None:
        return found
    with _lock:
        if service not in _clients:
            import boto3

            os.environ.setdefault("AWS_ACCOUNT_ID_ENDPOINT_MODE", "disabled")
            region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
            _clients[service] = boto3.session.Session().client(service, region_name=region)
        return _clients[service]


def reset_clients() -> None:
    """Forget every cached client (tests and the local runtime call this when moto restarts)."""
    with _lock:
        _clients.clear()
