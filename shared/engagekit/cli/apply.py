"""``engagekit apply DIR``: definitions kept as files, applied through the API, idempotently.

Every ``*.json``, ``*.yaml`` or ``*.yml`` file under DIR holds one definition (or a list of them),
each with a ``kind`` and an ``id``; the rest of the object is the definition as the API takes it::

    {"kind": "segment", "id": "uk_big_spenders", "name": "UK big spenders", "filter": {...}}

For each one, apply GETs the current definition, prints a diff, and PUTs it only when it differs.
``--dry-run`` prints the diff and changes nothing. Kinds and their endpoints are in :data:`KINDS`.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from engagekit.cli import _client

console = Console()

# kind -> API collection path (GET/PUT <path>/{id}); apply order follows this order.
KINDS: dict[str, str] = {
    "content_block": "/content_blocks",
    "template": "/templates",
    "segment": "/segments",
    "frequency_cap": "/frequency_caps",
    "campaign": "/campaigns",
}


@dataclass(frozen=True)
class Definition:
    kind: str
    id: str
    body: dict[str, Any]
    source: Path


class DefinitionError(ValueError):
    """A definition file is malformed; the message names the file and the problem."""


def load_definitions(directory: Path) -> list[Definition]:
    """Every definition under ``directory``, in :data:`KINDS` order then by path.

    Raises :class:`DefinitionError` listing every problem found (one per line): unreadable files,
    unknown kinds, missing or duplicate ids; nothing is applied when any file is bad.
    """
    if not directory.is_dir():
        raise DefinitionError(f"{directory} is not a directory")
    found: list[Definition] = []
    problems: list[str] = []
    seen: dict[tuple[str, str], Path] = {}
    for path in sorted(directory.rglob("*")):
        if path.suffix not in (".json", ".yaml", ".yml") or not path.is_file():
            continue
        try:
            if path.suffix == ".json":
                data = json.loads(path.read_text())
            else:
                import yaml

                data = yaml.safe_load(path.read_text())
        except Exception as exc:  # any parse error is reported with its file
            problems.append(f"{path}: cannot parse: {exc}")
            continue
        for index, item in enumerate(data if isinstance(data, list) else [data]):
            where = f"{path}" + (f"[{index}]" if isinstance(data, list) else "")
            if not isinstance(item, dict):
                problems.append(f"{where}: a definition is a JSON object")
                continue
            kind, ident = item.get("kind"), item.get("id")
            if kind not in KINDS:
                problems.append(f"{where}: 'kind' must be one of {', '.join(KINDS)}, got {kind!r}")
                continue
            if not isinstance(ident, str) or not ident:
                problems.append(f"{where}: 'id' must be a non-empty string")
                continue
            if (kind, ident) in seen:
                problems.append(f"{where}: {kind} {ident!r} is also defined in {seen[(kind, ident)]}")
                continue
            seen[(kind, ident)] = path
            body = {k: v for k, v in item.items() if k not in ("kind", "id")}
            found.append(Definition(kind, ident, body, path))
    if problems:
        raise DefinitionError("\n".join(problems))
    order = list(KINDS)
    return sorted(found, key=lambda d: (order.index(d.kind), str(d.source), d.id))


def comparable(current: dict[str, Any] | None, wanted: dict[str, Any]) -> dict[str, Any] | None:
    """The server's view restricted to the keys a file sets (server-managed fields are ignored)."""
    if current is None:
        return None
    return {k: current.get(k) for k in wanted}


def diff_text(kind: str, ident: str, current: dict[str, Any] | None, wanted: dict[str, Any]) -> str:
    """A unified diff of the definition as the server has it against the file ('' when equal)."""
    before = [] if current is None else json.dumps(current, indent=2, sort_keys=True).splitlines()
    after = json.dumps(wanted, indent=2, sort_keys=True).splitlines()
    if before == after:
        return ""
    label = f"{kind}/{ident}"
    return "\n".join(
        difflib.unified_diff(before, after, f"{label} (platform)", f"{label} (file)", lineterm="")
    )


def _get(path: str) -> dict[str, Any] | None:
    status, body = _client.request("GET", path)
    if status == 404:
        return None
    if status >= 400:
        raise _client.ApiError(status, body)
    return body if isinstance(body, dict) else None


def apply(
    directory: Annotated[
        Path, typer.Argument(help="Folder of definition files (.json/.yaml), searched recursively.")
    ],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the diff; change nothing.")] = False,
) -> None:
    """Apply segment, campaign, template, content block and frequency-cap definitions from files.

    Idempotent: a definition equal to the platform's is left alone. Exit code 1 if any PUT failed.
    """
    try:
        definitions = load_definitions(directory)
    except DefinitionError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    changed = unchanged = failed = 0
    for d in definitions:
        path = f"{KINDS[d.kind]}/{d.id}"
        try:
            current = comparable(_get(path), d.body)
        except _client.ApiError as exc:
            console.print(f"[red]✗[/] {d.kind} {d.id}: GET {path} answered {exc.status}: {exc.body}")
            failed += 1
            continue
        text = diff_text(d.kind, d.id, current, d.body)
        if not text:
            unchanged += 1
            console.print(f"[dim]= {d.kind} {d.id} (unchanged)[/]")
            continue
        console.print(
            f"[yellow]~[/] {d.kind} {d.id} ({'new' if current is None else 'changed'}) from {d.source}"
        )
        console.print(text, markup=False, highlight=False)
        if dry_run:
            changed += 1
            continue
        status, body = _client.request("PUT", path, d.body)
        if status >= 400:
            console.print(f"[red]✗[/] {d.kind} {d.id}: PUT {path} answered {status}: {json.dumps(body)}")
            failed += 1
        else:
            changed += 1
    verb = "would change" if dry_run else "changed"
    console.print(f"{len(definitions)} definitions: {changed} {verb}, {unchanged} unchanged, {failed} failed")
    if failed:
        raise typer.Exit(1)
