"""``engagekit local`` and ``engagekit outbox``."""

from __future__ import annotations

import json
import logging
import os
import signal
import threading
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from engagekit.cli import _client

console = Console()


def run(
    port: Annotated[int, typer.Option(help="Port of the public API on 127.0.0.1.")] = 8000,
    aws_port: Annotated[int, typer.Option(help="Port of the local AWS endpoint (moto) on 127.0.0.1.")] = 5000,
    time_scale: Annotated[
        float, typer.Option(help="Platform seconds per wall second (60: a minute passes each second).")
    ] = 1.0,
    log_level: Annotated[str, typer.Option(help="Log level of the runtime and the functions.")] = "WARNING",
    allow_webhook: Annotated[
        list[str] | None,
        typer.Option(
            help="Let webhooks reach ADDRESS:PORT although the SSRF guard refuses it (e.g. 127.0.0.1:9000 "
            "for a receiver on this machine). Repeatable."
        ),
    ] = None,
) -> None:
    """Run the whole platform on this machine: the API, AWS (moto) and every function, no Docker.

    The admin API key is ENGAGEKIT_API_KEY if set, otherwise a new one printed at start.
    Stop with Ctrl-C.
    """
    from engagekit._project import ensure_infra_importable

    ensure_infra_importable()
    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # moto's server logs every AWS request at INFO through werkzeug: show it only when asked for
    logging.getLogger("werkzeug").setLevel(max(logging.getLevelName(log_level.upper()), logging.WARNING))
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", log_level.upper())
    from engagekit.clock import ScaledClock
    from engagekit.errors import EngagekitError

    if allow_webhook:
        os.environ["WEBHOOK_ALLOWED_TARGETS"] = ",".join(allow_webhook)
    from infra.local.runtime import LocalPlatform, PortInUseError

    platform = LocalPlatform(
        clock=ScaledClock(time_scale),
        api_port=port,
        aws_port=aws_port,
        api_key=os.environ.get("ENGAGEKIT_API_KEY") or None,
    )
    try:
        platform.start()
    except (PortInUseError, EngagekitError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    console.print(f"[bold green]engagekit is running[/]  API {platform.api_url}   AWS {platform.aws_url}")
    if os.environ.get("ENGAGEKIT_API_KEY"):
        console.print("admin API key: the value of ENGAGEKIT_API_KEY")
    else:
        console.print(f"admin API key (shown once): [bold]{platform.api_key}[/]")
        console.print(f"  export ENGAGEKIT_API_KEY={platform.api_key}")
    console.print(f"time scale {time_scale}x · Ctrl-C stops")
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        console.print("stopping…")
        platform.stop()


def outbox(
    channel: Annotated[
        str | None, typer.Option(help="Only this channel: email, sms, push, webhook, in_app.")
    ] = None,
    limit: Annotated[int, typer.Option(help="Show at most this many, newest first.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    full: Annotated[
        bool, typer.Option("--full", help="Print each message whole (recipient, subject, body).")
    ] = False,
) -> None:
    """List what the channels sent on the running local platform (email, SMS, push, webhook, in-app)."""
    query = f"?limit={limit}" + (f"&channel={channel}" if channel else "")
    items = _client.call("GET", f"/_local/outbox{query}")["messages"]
    if as_json:
        typer.echo(json.dumps(items, indent=2))
        return
    if full:
        for item in items:
            detail = item.get("detail") or {}
            console.rule(f"{item['channel']} to {item['to']}", align="left")
            if detail.get("subject"):
                console.print(f"Subject: {detail['subject']}", markup=False, highlight=False)
            console.print(str(detail.get("body") or item["summary"]), markup=False, highlight=False)
        if not items:
            console.print("(nothing sent yet)")
        return
    table = Table("time", "channel", "to", "subject / body")
    for item in items:
        table.add_row(item["time"], item["channel"], item["to"], item["summary"][:80])
    console.print(table)
    if not items:
        console.print("(nothing sent yet)")


def invoke(
    function: Annotated[str, typer.Argument(help="A function name from the manifest, e.g. skeleton_task.")],
    event: Annotated[
        str, typer.Argument(help="An event file, or a sample name from events/ such as sqs/skeleton_work.")
    ],
) -> None:
    """Invoke one function of the running local platform with an event, as Lambda would; print its result."""
    from pathlib import Path

    path = Path(event)
    if not path.exists():
        from engagekit._project import ROOT

        path = ROOT / "events" / f"{event.removesuffix('.json')}.json"
    if not path.exists():
        typer.echo(f"error: no event file {event} (nor events/{event}.json)", err=True)
        raise typer.Exit(2)
    try:
        payload = json.loads(path.read_text())
    except ValueError as exc:
        typer.echo(f"error: {path} is not valid JSON: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(json.dumps(_client.call("POST", f"/_local/invoke/{function}", payload), indent=2))
