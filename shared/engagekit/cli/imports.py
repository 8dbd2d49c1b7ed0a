"""``engagekit import users FILE.csv``: Braze's CSV attribute import, through the public API.

Against the running local platform by default (``ENGAGEKIT_API_URL``, ``ENGAGEKIT_API_KEY``), or any
engagekit deployment with ``--api-url``/``--api-key``. See docs/import.md for the format.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from engagekit.cli import _client

app = typer.Typer(help="Import data through the public API.", no_args_is_help=True)
console = Console(stderr=True)

ApiUrlOpt = Annotated[
    str | None, typer.Option(help="API base URL; default ENGAGEKIT_API_URL or http://127.0.0.1:8000.")
]
ApiKeyOpt = Annotated[
    str | None,
    typer.Option(help="REST API key with users.track; default ENGAGEKIT_API_KEY.", show_default=False),
]


@app.command()
def users(
    file: Annotated[Path, typer.Argument(help="CSV in Braze's user attribute import format.")],
    resume: Annotated[bool, typer.Option(help="Continue an interrupted import from its checkpoint.")] = False,
    restart: Annotated[
        bool, typer.Option(help="Discard an earlier run's checkpoint and start over.")
    ] = False,
    errors: Annotated[
        Path | None, typer.Option(help="Per-row error report (CSV); default FILE.errors.csv.")
    ] = None,
    checkpoint: Annotated[
        Path | None, typer.Option(help="Checkpoint file; default FILE.checkpoint.json.")
    ] = None,
    batch_size: Annotated[int, typer.Option(help="Attribute objects per request (at most 75).")] = 75,
    api_url: ApiUrlOpt = None,
    api_key: ApiKeyOpt = None,
) -> None:
    """Import user attributes from a CSV (external_id or user_alias_name + user_alias_label columns,
    typed attribute columns) with /users/track, 75 rows per request; resumable with --resume."""
    from engagekit.errors import EngagekitError
    from engagekit.imports import import_users
    from engagekit.imports.csv_format import count_rows
    from engagekit.imports.runner import ImportProgress
    from engagekit.imports.track import HttpTransport

    if not file.is_file():
        raise typer.BadParameter(f"{file} is not a file", param_hint="FILE")
    transport = HttpTransport(api_url or _client.api_url(), api_key or _client.api_key())
    total = count_rows(file)
    columns = (
        TextColumn("[bold]import[/] {task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn(
            "{task.fields[rate]} rows/s · {task.fields[requests]} requests · {task.fields[failed]} errors"
        ),
        TimeElapsedColumn(),
    )
    try:
        with Progress(*columns, console=console) as progress:
            started = time.monotonic()
            task = progress.add_task(file.name, total=total, rate="-", requests=0, failed=0)

            def show(p: ImportProgress) -> None:
                elapsed = time.monotonic() - started
                rate = f"{(p.rows - p.resumed_from) / elapsed:,.0f}" if elapsed > 0 else "-"
                progress.update(task, completed=p.rows, rate=rate, requests=p.requests, failed=p.failed)

            summary = import_users(
                file,
                transport,
                resume=resume,
                restart=restart,
                checkpoint_path=checkpoint,
                errors_path=errors,
                batch_size=batch_size,
                on_progress=show,
            )
    except EngagekitError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    finally:
        transport.close()
    if summary.resumed_from:
        console.print(f"resumed after row {summary.resumed_from:,}")
    console.print(
        f"[bold green]done[/] {summary.rows:,} rows: {summary.imported:,} imported, "
        f"{summary.failed:,} errors, {summary.requests:,} requests in {summary.elapsed_s:.1f} s"
    )
    if summary.failed:
        console.print(f"per-row errors: {summary.errors_path}")
