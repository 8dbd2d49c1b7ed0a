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


def call(method: str, path: str, body: Any = None, timeout_s: float = 30.0) -> Any:
    """Call the running platform's API; exits with a one-line error if it is unreachable."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(
        api_url() + path,
        data=data,
        method=method,
        headers={"Authorization": f"Bearer {api_key()}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(req, timeout=timeout_s) as resp:
            raw = resp.read()
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode(errors="replace")
        typer.echo(f"error: {method} {path} answered {exc.code}: {detail}", err=True)
        raise typer.Exit(1) from exc
    except urllib.error.URLError as exc:
        typer.echo(f"error: no engagekit at {api_url()} ({exc.reason}); start it with `make run`", err=True)
        raise typer.Exit(1) from exc
    return json.loads(raw) if raw else None
