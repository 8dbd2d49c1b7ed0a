"""The ``engagekit`` command. Each command group lives in its own module and is registered here."""

from __future__ import annotations

import typer

from engagekit.cli import apply, imports, keys, local, query, render, replay

app = typer.Typer(
    name="engagekit",
    help="engagekit: an open customer engagement platform that speaks Braze's REST API.",
    no_args_is_help=True,
    add_completion=False,
)
app.command("local", help=local.run.__doc__)(local.run)
app.command("outbox", help=local.outbox.__doc__)(local.outbox)
app.command("invoke", help=local.invoke.__doc__)(local.invoke)
app.add_typer(keys.app, name="keys")
app.add_typer(imports.app, name="import")
app.command("replay", help=replay.run.__doc__)(replay.run)
app.command("apply", help=apply.apply.__doc__)(apply.apply)
app.command("render", help=render.render.__doc__)(render.render)
app.command("query", help=query.run.__doc__)(query.run)


def main() -> None:
    app()
