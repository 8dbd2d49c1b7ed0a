"""``engagekit keys create|list|revoke``: REST API keys, stored hashed.

Against the running local platform by default (its AWS endpoint); ``--aws-endpoint ''`` and
``--table`` name a real account's table (the stack output ``ApiKeysTable``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from engagekit.cli import _client

app = typer.Typer(
    help="Create, list and revoke REST API keys (scoped to Braze permission names).", no_args_is_help=True
)
console = Console()

EndpointOpt = Annotated[
    str | None,
    typer.Option(help="AWS endpoint; default the local platform's (ENGAGEKIT_AWS_ENDPOINT). '' for AWS."),
]
TableOpt = Annotated[str, typer.Option(help="The api_keys table name.")]


def _store(aws_endpoint: str | None, table: str):  # type: ignore[no-untyped-def]
    from engagekit.auth import KeyStore

    endpoint = _client.aws_endpoint() if aws_endpoint is None else aws_endpoint
    if endpoint:
        os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
        os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
        os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    return KeyStore(table, host=endpoint or None)


@contextmanager
def _friendly_errors(endpoint: str | None) -> Iterator[None]:
    """One-line errors instead of tracebacks for an unreachable endpoint or a refused request."""
    from pynamodb.exceptions import PynamoDBException

    from engagekit.errors import EngagekitError

    try:
        yield
    except EngagekitError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    except PynamoDBException as exc:
        where = (_client.aws_endpoint() if endpoint is None else endpoint) or "AWS"
        typer.echo(f"error: cannot reach the api_keys table at {where}: {exc.cause or exc}", err=True)
        typer.echo("  is `make run` running? (or pass --aws-endpoint / --table)", err=True)
        raise typer.Exit(1) from None


@app.command()
def create(
    name: Annotated[str, typer.Option(help="Who or what the key is for.")],
    permissions: Annotated[
        str,
        typer.Option(
            help="Comma-separated Braze permissions, e.g. users.track,users.export.ids; '*' for all."
        ),
    ],
    aws_endpoint: EndpointOpt = None,
    table: TableOpt = "api_keys",
) -> None:
    """Create a key and print its secret once."""
    perms = {p.strip() for p in permissions.split(",") if p.strip()}
    with _friendly_errors(aws_endpoint):
        new = _store(aws_endpoint, table).create(name, perms)
    console.print(f"key id {new.key.key_id}  permissions {', '.join(sorted(new.key.permissions))}")
    console.print("secret (shown once, store it now):")
    typer.echo(new.secret)


@app.command("list")
def list_keys(aws_endpoint: EndpointOpt = None, table: TableOpt = "api_keys") -> None:
    """List keys (never their secrets)."""
    out = Table("key id", "name", "permissions", "created (UTC)", "revoked")
    with _friendly_errors(aws_endpoint):
        keys = _store(aws_endpoint, table).list()
    for key in keys:
        out.add_row(
            key.key_id,
            key.name,
            ", ".join(sorted(key.permissions)),
            key.created_at.isoformat(timespec="seconds"),
            key.revoked_at.isoformat(timespec="seconds") if key.revoked_at else "",
        )
    console.print(out)


@app.command()
def revoke(
    key_id: Annotated[str, typer.Argument(help="The key id (or its first 6+ characters).")],
    aws_endpoint: EndpointOpt = None,
    table: TableOpt = "api_keys",
) -> None:
    """Revoke a key: it stops working at once."""
    with _friendly_errors(aws_endpoint):
        key = _store(aws_endpoint, table).revoke(key_id)
    console.print(f"revoked {key.key_id} ({key.name})")
