"""``engagekit render TEMPLATE_FILE --user EXTERNAL_ID``: preview a template for a real user.

Sends the file to the running platform's ``POST /templates/render`` (docs/liquid.md "Previews")
and prints the outcome:

- rendered: the text on stdout (warnings such as refused Connected Content calls on stderr); exit 0;
- aborted: ``aborted: <reason> (<kind>)`` on stderr; exit 1;
- syntax error: ``FILE:LINE:COLUMN: syntax error: <message>`` on stderr (the file is the content
  block's name when the error is in a block); exit 2;
- the platform refused the request (unknown user, bad key, bad JSON option...): the error on stderr;
  exit 1 (bad command-line input is a usage error: exit 2).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from engagekit.cli import _client

EXIT_RENDERED = 0
EXIT_ABORTED = 1
EXIT_SYNTAX_ERROR = 2


def _json_object(value: str | None, option: str) -> dict[str, Any]:
    if value is None:
        return {}
    try:
        parsed = json.loads(value)
    except ValueError as exc:
        raise typer.BadParameter(f"not JSON: {exc}", param_hint=option) from exc
    if not isinstance(parsed, dict):
        raise typer.BadParameter("must be a JSON object", param_hint=option)
    return parsed


def _source(template_file: str) -> str:
    if template_file == "-":
        return sys.stdin.read()
    path = Path(template_file)
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise typer.BadParameter(f"cannot read {path}: {exc}", param_hint="TEMPLATE_FILE") from exc


def render(
    template_file: Annotated[str, typer.Argument(help="Liquid template file ('-' reads stdin).")],
    user: Annotated[str, typer.Option("--user", help="external_id of the user to render for.")],
    trigger_properties: Annotated[
        str | None,
        typer.Option("--trigger-properties", help="api_trigger_properties as a JSON object."),
    ] = None,
    context: Annotated[
        str | None,
        typer.Option("--context", help="Canvas context (and entry properties) as JSON."),
    ] = None,
    event_properties: Annotated[
        str | None, typer.Option("--event-properties", help="event_properties as JSON.")
    ] = None,
    strict: Annotated[
        bool, typer.Option("--strict", help="An undefined variable aborts instead of rendering nothing.")
    ] = False,
) -> None:
    """Render a template file for a user on the running platform (POST /templates/render).

    Prints the text (exit 0), the abort reason (exit 1) or the syntax error as FILE:LINE:COLUMN
    (exit 2).
    """
    body: dict[str, Any] = {
        "template": _source(template_file),
        "external_id": user,
        "trigger_properties": _json_object(trigger_properties, "--trigger-properties"),
        "context": _json_object(context, "--context"),
        "event_properties": _json_object(event_properties, "--event-properties"),
        "strict": strict,
    }
    status, answer = _client.request("POST", "/templates/render", body)
    answer = answer if isinstance(answer, dict) else {"message": str(answer)}
    if status == 200:
        for warning in answer.get("warnings") or ():
            typer.echo(f"warning: {warning}", err=True)
        if answer.get("status") == "rendered":
            text = str(answer.get("text") or "")
            typer.echo(text, nl=not text.endswith("\n"))
            raise typer.Exit(EXIT_RENDERED)
        typer.echo(f"aborted: {answer.get('reason')} ({answer.get('abort_kind')})", err=True)
        raise typer.Exit(EXIT_ABORTED)
    for error in answer.get("errors") or ():
        if isinstance(error, dict) and error.get("type") == "syntax_error":
            where = template_file if error.get("template") in ("", None) else str(error["template"])
            typer.echo(
                f"{where}:{error.get('line')}:{error.get('column')}: syntax error: {error.get('message')}",
                err=True,
            )
            raise typer.Exit(EXIT_SYNTAX_ERROR)
    typer.echo(f"error: POST /templates/render answered {status}: {answer.get('message')}", err=True)
    raise typer.Exit(EXIT_ABORTED)
