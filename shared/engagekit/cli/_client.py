"""Talking to a running ``engagekit local`` from the CLI: its URLs and admin key."""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from typing import Any

import typer

DEFAULT_API = "http://127.0.0.1:8000"
DEFAULT_AWS = "http://127.0.0.1:5000"


def api_url() -> str:
    return os.environ.get("ENGAGEKIT_API_URL", DEFAULT_API).rstrip("/")


def aws_endpoint() -> str:
    return os.environ.get("ENGAGEKIT_AWS_ENDPOINT", DEFAULT_AWS).rstrip("/")


def api_key() -> str:
    key = os.environ.get("ENGAGEKIT_API_KEY")
    if not key:
        raise typer.BadParameter("set ENGAGEKIT_API_KEY to the key `engagekit local` printed")
    return key


class ApiError(Exception):
    """A 4xx/5xx answer from the platform: ``status`` and the parsed ``body``."""

    def __init__(self, status: int, body: Any) -> None:
        super().__init__(f"{status}: {body}")
        self.status = status
        self.body = body


def request(method: str, path: str, body: Any = None, timeout_s: float = 30.0) -> tuple[int, Any]:
    """Call the running platform's API; returns ``(status, parsed body)`` for any HTTP answer and
    exits with a one-line error when the platform is unreachable."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(
        api_url() + path,
        data=data,
        method=method,
        headers={"Authorization": f"Bearer {api_key()}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(req, timeout=timeout_s) as resp:
            status, raw = resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    except urllib.error.URLError as exc:
        typer.echo(f"error: no engagekit at {api_url()} ({exc.reason}); start it with `make run`", err=True)
        raise typer.Exit(1) from exc
    try:
        parsed = json.loads(raw) if raw else None
    except ValueError:
        parsed = raw.decode(errors="replace")
    return status, parsed


def call(method: str, path: str, body: Any = None, timeout_s: float = 30.0) -> Any:
    """Call the running platform's API and return the parsed body; a 4xx/5xx answer is printed
    as a one-line error and exits with code 1."""
    status, parsed = request(method, path, body, timeout_s)
    if status >= 400:
        typer.echo(f"error: {method} {path} answered {status}: {json.dumps(parsed)}", err=True)
        raise typer.Exit(1)
    return parsed
