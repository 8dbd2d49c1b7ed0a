"""``engagekit query "SQL"``: DuckDB over the Currents events of the running local platform.

What it does, in order (docs/currents.md, "Where the data is"):

1. ``POST /_local/flush`` on the local platform (ENGAGEKIT_API_URL, admin key ENGAGEKIT_API_KEY):
   the Firehose emulation writes what it still buffers, so a query right after a write sees it;
2. mirrors ``s3://<bucket>/currents/`` from the local AWS endpoint (ENGAGEKIT_AWS_ENDPOINT) into a
   synced folder (:func:`engagekit.currents.query.sync_s3`: new objects only, deletions followed);
3. runs the SQL with DuckDB over one view per Currents event type (``custom_events``,
   ``purchases``, ``email_sends``...; each keeps one row per ``id``) and prints a table, CSV or JSON.

``engagekit query --schema`` lists the views and their columns without touching the platform.
"""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import enum
import json
import sys
import tempfile
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

import typer

from engagekit.cli import _client

LOCAL_BUCKET = "lake"
"""The lake bucket's name on the local platform (the manifest's bucket name; no physical names locally)."""

LOCAL_CREDENTIALS = {
    "aws_access_key_id": "testing",
    "aws_secret_access_key": "testing",
    "region_name": "us-east-1",
}
"""moto accepts any credentials; these keep boto3 from looking for real ones."""


class OutputFormat(enum.StrEnum):
    """How results are printed: an aligned table (people), CSV or JSON (programs)."""

    table = "table"
    csv = "csv"
    json = "json"


def default_cache_dir(endpoint: str, bucket: str) -> Path:
    """``<tmp>/engagekit-currents/<host>-<port>/<bucket>``: one synced folder per local platform,
    so two platforms on different ports never prune each other's mirror."""
    parts = urlsplit(endpoint)
    where = f"{parts.hostname or 'localhost'}-{parts.port or (443 if parts.scheme == 'https' else 80)}"
    return Path(tempfile.gettempdir()) / "engagekit-currents" / where / bucket


def one_line(message: str) -> str:
    """A DuckDB/boto message on one line: DuckDB's ``LINE n:`` context and caret lines dropped."""
    kept = [
        line.strip()
        for line in message.splitlines()
        if line.strip() and not line.lstrip().startswith("LINE ") and set(line.strip()) != {"^"}
    ]
    return " ".join(kept)


def run(
    sql: Annotated[
        str | None,
        typer.Argument(help='SQL over the Currents views, e.g. "SELECT count(*) FROM custom_events".'),
    ] = None,
    show_schema: Annotated[
        bool, typer.Option("--schema", help="List the views and their columns (no platform needed).")
    ] = False,
    output: Annotated[
        OutputFormat, typer.Option("--format", "-f", help="table, csv or json.")
    ] = OutputFormat.table,
    bucket: Annotated[str, typer.Option(help="The lake bucket on the local AWS endpoint.")] = LOCAL_BUCKET,
    cache_dir: Annotated[
        Path | None,
        typer.Option(help="The synced folder (default <tmp>/engagekit-currents/<host>-<port>/<bucket>)."),
    ] = None,
) -> None:
    """Query the running local platform's Currents events with DuckDB: one view per event type.

    Flushes the platform's Firehose buffers first, so what was just written is visible. Views are
    named after their event type (custom_events, purchases, email_sends, ...; see --schema) and keep
    one row per event id. Exits 1 with a one-line error for bad SQL or an unreachable platform.
    """
    if show_schema == (sql is not None):
        typer.echo("error: give SQL to run, or --schema (not both)", err=True)
        raise typer.Exit(2)
    if show_schema:
        _print_schema(output)
        return
    assert sql is not None
    if not sql.strip():
        typer.echo(
            "error: the SQL is empty; e.g. engagekit query 'SELECT count(*) FROM custom_events'", err=True
        )
        raise typer.Exit(2)
    from engagekit.currents.errors import CurrentsQueryError
    from engagekit.currents.query import S3Source, run_query

    _client.call("POST", "/_local/flush")  # exits 1 with one line when the platform is not running
    endpoint = _client.aws_endpoint()
    source = S3Source(
        bucket,
        endpoint_url=endpoint,
        cache_dir=cache_dir or default_cache_dir(endpoint, bucket),
        client=_s3_client(endpoint),
    )
    try:
        columns, rows = run_query(sql, source)
    except CurrentsQueryError as exc:
        typer.echo(f"error: {one_line(str(exc))}", err=True)
        raise typer.Exit(1) from None
    print_rows(columns, rows, output)


def _s3_client(endpoint: str) -> Any:
    import boto3
    from botocore.config import Config

    config = Config(connect_timeout=5, read_timeout=60, retries={"mode": "standard", "max_attempts": 2})
    return boto3.client("s3", endpoint_url=endpoint, config=config, **LOCAL_CREDENTIALS)


# --------------------------------------------------------------------------------------------
# Output


def _plain(value: Any) -> Any:
    """A JSON-compatible value: timestamps ISO 8601, decimals as floats, UUIDs and bytes as text."""
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, bytes):
        return value.decode(errors="replace")
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    return str(value)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, list | dict | tuple):
        return json.dumps(value, default=_plain)
    if isinstance(value, bool | int | float | decimal.Decimal):
        return str(value)  # a decimal keeps its exact digits in text
    return str(_plain(value))


def _unique(columns: Sequence[str]) -> list[str]:
    """Column names made unique for JSON keys: a repeated name gets ``_2``, ``_3``..."""
    seen: dict[str, int] = {}
    out = []
    for name in columns:
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name}_{seen[name]}")
    return out


def print_rows(columns: Sequence[str], rows: Sequence[tuple[Any, ...]], output: OutputFormat) -> None:
    """Print a result on stdout: a table with a row count, CSV with a header, or a JSON array of
    objects (repeated column names suffixed ``_2``...; NULL is ``null`` in JSON, empty in CSV).

    The table is as wide as its values need (never elided), even wider than the terminal.
    """
    if output is OutputFormat.json:
        keys = _unique(columns)
        records = [dict(zip(keys, row, strict=True)) for row in rows]
        typer.echo(json.dumps(records, default=_plain, ensure_ascii=False))
    elif output is OutputFormat.csv:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([_cell(v) for v in row] for row in rows)
    else:
        from rich.console import Console
        from rich.measure import Measurement
        from rich.table import Table

        table = Table(*columns)
        for row in rows:
            table.add_row(*("[dim]NULL[/]" if v is None else _cell(v).replace("[", r"\[") for v in row))
        console = Console()
        needed = Measurement.get(console, console.options.update_width(1 << 16), table).maximum
        if needed > console.width:  # never elide values: wider than the terminal, use `less -S`
            console = Console(width=needed)
        if columns:
            console.print(table)
        console.print(f"{len(rows)} row{'s' if len(rows) != 1 else ''}")


def _print_schema(output: OutputFormat) -> None:
    from engagekit.currents.events import EVENT_CLASSES
    from engagekit.currents.query import view_columns

    views = [(c.VIEW, str(c.model_fields["event_type"].default), view_columns(c)) for c in EVENT_CLASSES]
    if output is OutputFormat.json:
        typer.echo(
            json.dumps(
                [
                    {"view": v, "event_type": t, "columns": [{"name": n, "type": k} for n, k in cols]}
                    for v, t, cols in views
                ]
            )
        )
    elif output is OutputFormat.csv:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(["view", "event_type", "column", "type"])
        writer.writerows([v, t, n, k] for v, t, cols in views for n, k in cols)
    else:
        from rich.console import Console
        from rich.table import Table

        table = Table("view", "event type", "columns")
        for v, t, cols in views:
            table.add_row(v, t, ", ".join(f"{n} {k}" for n, k in cols))
        Console().print(table)
