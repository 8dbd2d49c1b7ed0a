"""``engagekit replay``: the Online Retail data through the public API, in Braze's wire format.

Reads ``../shared/data/online-retail/`` (``ENGAGEKIT_DATA_DIR`` or ``--data-dir`` elsewhere) and
sends it to the running local platform (``ENGAGEKIT_API_URL``/``ENGAGEKIT_API_KEY``) or any
deployment (``--api-url``/``--api-key``). The mapping is in docs/import.md.
"""

from __future__ import annotations

import json
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from engagekit.cli import _client

console = Console(stderr=True)


def _day(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date YYYY-MM-DD", param_hint=option) from None


def run(
    full: Annotated[
        bool, typer.Option("--full", help="The full data set (541,909 lines) instead of the 3-day sample.")
    ] = False,
    date_from: Annotated[
        str | None, typer.Option("--from", help="First day (YYYY-MM-DD, UK local) of the full set to send.")
    ] = None,
    date_to: Annotated[
        str | None, typer.Option("--to", help="Last day (YYYY-MM-DD, inclusive) to send.")
    ] = None,
    shift_to_today: Annotated[
        bool,
        typer.Option("--shift-to-today", help="Move all times by whole days so the last day sent is today."),
    ] = False,
    emails: Annotated[
        bool,
        typer.Option(
            "--emails",
            help="Give every customer the address customer-<CustomerID>@example.com "
            "(the data has none; example.com is reserved, nothing real is ever addressed).",
        ),
    ] = False,
    file: Annotated[
        Path | None, typer.Option(help="Any CSV (or .csv.gz) with the Online Retail columns.")
    ] = None,
    data_dir: Annotated[
        Path | None,
        typer.Option(
            envvar="ENGAGEKIT_DATA_DIR", help="Folder holding online-retail/; default ../shared/data."
        ),
    ] = None,
    batch_size: Annotated[int, typer.Option(help="Objects per array per request (at most 75).")] = 75,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            max=16,
            help="Concurrent requests, for a cloud deployment (each user always on the same one). "
            "Keep 1 against engagekit local, which is not safe for concurrent API requests.",
        ),
    ] = 1,
    api_url: Annotated[
        str | None, typer.Option(help="API base URL; default ENGAGEKIT_API_URL or http://127.0.0.1:8000.")
    ] = None,
    api_key: Annotated[
        str | None,
        typer.Option(help="REST API key with users.track; default ENGAGEKIT_API_KEY.", show_default=False),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON on stdout.")] = False,
) -> None:
    """Replay the Online Retail transactions through /users/track: customers, purchases,
    cancellations (event order_cancelled) and anonymous shoppers (alias label "invoice")."""
    from engagekit.errors import EngagekitError
    from engagekit.imports.track import HttpTransport
    from engagekit.replay import locate, read_records, replay
    from engagekit.replay.runner import ReplayProgress, platform_now, shift_to
    from engagekit.replay.source import scan

    low, high = _day(date_from, "--from"), _day(date_to, "--to")
    try:
        path = file or locate(data_dir, full=full or low is not None or high is not None)
    except EngagekitError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    if not path.is_file():
        raise typer.BadParameter(f"{path} is not a file", param_hint="--file")
    url, key = api_url or _client.api_url(), api_key or _client.api_key()
    transports = [HttpTransport(url, key) for _ in range(workers)]
    transport = transports[0]
    try:
        total, last_day = scan(path, low, high)
        if total == 0:
            typer.echo(
                f"error: no lines of {path.name} between {low or 'the start'} and {high or 'the end'}",
                err=True,
            )
            raise typer.Exit(2)
        shift = shift_to(last_day, platform_now(transport).date()) if shift_to_today and last_day else None
        if shift is not None:
            console.print(f"shifting times by {shift.days:,} days: {last_day} becomes today")
        columns = (
            TextColumn("[bold]replay[/] {task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn(
                "{task.fields[rate]} rows/s · {task.fields[requests]} requests · {task.fields[errors]} errors"
            ),
            TimeElapsedColumn(),
        )
        with Progress(*columns, console=console, disable=as_json and not console.is_terminal) as progress:
            started = time.monotonic()
            task = progress.add_task(path.name, total=total, rate="-", requests=0, errors=0)

            def show(p: ReplayProgress) -> None:
                elapsed = time.monotonic() - started
                rate = f"{p.rows / elapsed:,.0f}" if elapsed > 0 else "-"
                progress.update(task, completed=p.rows, rate=rate, requests=p.requests, errors=p.errors)

            summary = replay(
                read_records(path, low, high),
                transports,
                shift=shift or timedelta(0),
                batch_size=batch_size,
                on_progress=show,
                emails=emails,
            )
            progress.update(task, completed=summary.rows)
    except EngagekitError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    finally:
        for each in transports:
            each.close()
    if as_json:
        typer.echo(json.dumps({"file": str(path), **summary.as_dict()}))
        return
    table = Table("", "count", title=f"Replayed {path.name}", show_header=False)
    for label, value in (
        ("lines", summary.rows),
        ("requests", summary.requests),
        ("customers (external_id)", summary.customers),
        ("anonymous shoppers (alias)", summary.anonymous),
        ("purchases", summary.purchases),
        ("purchase units (quantity N = N purchases)", summary.units),
        ("events (order_cancelled)", summary.events),
        ("attribute updates", summary.attributes),
        ("lines skipped (adjustments)", summary.skipped),
        ("errors", summary.errors),
    ):
        table.add_row(label, f"{value:,}")
    table.add_row(
        "time",
        f"{summary.elapsed_s:.1f} s ({summary.rows_per_s:,.0f} rows/s, {summary.requests_per_s:,.1f} req/s)",
    )
    console.print(table)
    for reason, n in summary.error_reasons.most_common(10):
        console.print(f"  [red]{n:,} x[/] {reason}")
