"""Braze's CSV user attribute import format, parsed into ``/users/track`` attribute objects.

The rules (Braze, "Import User Data and CSV Events", D:_user_guide/data/.../user_import.md; the
attribute object of braze-api.md §1.1.1):

- A header row is required; names are case-sensitive. A row with more or fewer cells than the
  header is malformed and not imported; so is a row without its identifier.
- Identifier columns, one kind per file: ``external_id`` (creates the user when missing), or
  ``user_alias_name`` + ``user_alias_label`` (creates an alias-only user when missing), or
  ``braze_id`` (updates existing users only). A file cannot mix ``external_id`` and aliases.
- Default attribute columns (``first_name``, ``email``, ``country``, ``dob``, ``time_zone``, ...)
  are sent as strings, ``email_open_tracking_disabled``/``email_click_tracking_disabled`` as booleans;
  ``subscription_group_id`` + ``subscription_state`` set one subscription group per row.
- Any other column is a custom attribute whose type is inferred per value, as Braze does:
  blank -> not sent (never overwrites); ``'quoted'`` (or a value in literal double quotes) -> string;
  ``TRUE``/``FALSE`` (any case) -> boolean; an integer or a decimal with a period and no spaces or
  commas -> number (with a leading zero, e.g. ``007``, it stays a string: it is an identifier);
  ISO 8601 (``YYYY-MM-DD``, ``YYYY-MM-DDTHH:MM:SS`` with optional fraction and ``Z``/offset, a space
  instead of ``T``) -> time, sent as ISO 8601 UTC (no zone means UTC, braze-api.md §1.1.1); anything
  else -> string.
- engagekit extension: a value that is a JSON array of strings, numbers or booleans
  (``"[""a"",""b""]"`` in the file) becomes an array attribute. Braze's own CSV import refuses arrays.
- Columns Braze's import does not support are refused in the header: ``push_tokens``,
  ``subscription_groups``, ``user_alias``, ``_update_existing_only``, ``push_token_import``,
  ``current_location``, ``facebook``, ``twitter``.
"""

from __future__ import annotations

import codecs
import csv
import json
import math
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO, Literal

from engagekit.clock import utc_iso
from engagekit.errors import ValidationError

IdentifierKind = Literal["external_id", "user_alias", "braze_id"]

STRING_FIELDS = frozenset(
    {
        "first_name",
        "last_name",
        "email",
        "phone",
        "country",
        "dob",
        "gender",
        "home_city",
        "language",
        "time_zone",
        "email_subscribe",
        "push_subscribe",
        "date_of_first_session",
        "date_of_last_session",
        "marked_email_as_spam_at",
    }
)
BOOLEAN_FIELDS = frozenset({"email_open_tracking_disabled", "email_click_tracking_disabled"})
IDENTIFIER_FIELDS = frozenset({"external_id", "braze_id", "user_alias_name", "user_alias_label"})
SUBSCRIPTION_FIELDS = frozenset({"subscription_group_id", "subscription_state"})
UNSUPPORTED_FIELDS = frozenset(
    {
        "push_tokens",
        "subscription_groups",
        "user_alias",
        "_update_existing_only",
        "push_token_import",
        "current_location",
        "facebook",
        "twitter",
        "alias_name",
        "alias_label",
    }
)
MAX_NAME_CHARS = 255

_INT = re.compile(r"^[+-]?(0|[1-9]\d*)$")
_FLOAT = re.compile(r"^[+-]?(0|[1-9]\d*)?\.\d+$")
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})?)?$")
_TRUE, _FALSE = "true", "false"


class ImportFormatError(ValidationError):
    """The file cannot be imported at all (bad header, not UTF-8, not CSV); nothing was sent."""


@dataclass(frozen=True)
class ImportSchema:
    """What the header says: the identifier kind and each column's role, in file order."""

    columns: tuple[str, ...]
    identifier: IdentifierKind


@dataclass(frozen=True)
class ParsedRow:
    """Data row ``row`` (1-based, header excluded; ``line`` is its last physical line) as an
    attributes object for ``/users/track``; ``identifier`` names the user for error reports."""

    row: int
    line: int
    identifier: str
    attributes: dict[str, Any] = field(hash=False)


@dataclass(frozen=True)
class RowError:
    """A row that is not imported, and why (shown in the per-row error report)."""

    row: int
    line: int
    identifier: str
    message: str


class CellValueError(ValueError):
    """A cell that cannot become a value (the row is reported, not imported)."""


def parse_header(names: Sequence[str]) -> ImportSchema:
    """Check a header row and classify it. Raises :class:`ImportFormatError` naming the problem:
    no identifier column, a lone alias column, mixed identifier kinds, duplicate or empty names,
    ``subscription_state`` without ``subscription_group_id``, or a column Braze's import refuses."""
    columns = tuple(n.strip() for n in names)
    if not columns or all(not c for c in columns):
        raise ImportFormatError("the CSV has no header row")
    if any(not c for c in columns):
        raise ImportFormatError(f"column {columns.index('') + 1} has no name in the header")
    dupes = sorted({c for c in columns if columns.count(c) > 1})
    if dupes:
        raise ImportFormatError(f"duplicate columns in the header: {', '.join(dupes)}")
    refused = sorted(set(columns) & UNSUPPORTED_FIELDS)
    if refused:
        raise ImportFormatError(
            f"columns not supported by CSV import: {', '.join(refused)} (send them with /users/track)"
        )
    for name in columns:
        if len(name) > MAX_NAME_CHARS or name.startswith("$"):
            raise ImportFormatError(f"column {name[:40]!r}: names are 1-255 characters, not starting with $")
    present = set(columns)
    has_alias = bool(present & {"user_alias_name", "user_alias_label"})
    if has_alias and not {"user_alias_name", "user_alias_label"} <= present:
        raise ImportFormatError("alias imports need both user_alias_name and user_alias_label columns")
    kinds: list[IdentifierKind] = []
    if "external_id" in present:
        kinds.append("external_id")
    if has_alias:
        kinds.append("user_alias")
    if "braze_id" in present:
        kinds.append("braze_id")
    if not kinds:
        raise ImportFormatError(
            "the header needs an identifier column: external_id, user_alias_name + user_alias_label, "
            "or braze_id"
        )
    if len(kinds) > 1:
        raise ImportFormatError(
            f"one file holds one kind of identifier, found {' and '.join(kinds)}: split the file"
        )
    if "subscription_state" in present and "subscription_group_id" not in present:
        raise ImportFormatError("subscription_state needs a subscription_group_id column")
    return ImportSchema(columns=columns, identifier=kinds[0])


def infer_value(raw: str) -> Any:
    """The typed value of a custom attribute cell, by Braze's CSV rules (module docstring).

    Returns ``None`` for a blank cell (not sent), else ``str``, ``bool``, ``int``, ``float``, an ISO
    8601 UTC time string or (extension) a ``list`` of scalars. Never raises: what is not another type
    is a string, except numbers that cannot be values: raises :class:`CellValueError` for an integer
    past Python's int/str conversion limit (``sys.get_int_max_str_digits()``, 4300 digits by
    default) and for a decimal too large for a finite float (JSON and /users/track refuse both:
    docs/users-api.md "numbers past Python's digit limit", "infinities are refused").
    """
    if raw.strip() == "":
        return None
    if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "'\"":
        return raw[1:-1]
    lowered = raw.lower()
    if lowered in (_TRUE, _FALSE):
        return lowered == _TRUE
    if _INT.match(raw):
        try:
            return int(raw)
        except ValueError as exc:  # past sys.get_int_max_str_digits()
            digits = len(raw.lstrip("+-"))
            raise CellValueError(f"a number of {digits} digits is too long to import") from exc
    if _FLOAT.match(raw):
        number = float(raw)
        if not math.isfinite(number):
            raise CellValueError(f"a number of {len(raw)} characters is out of the finite number range")
        return number
    if _ISO.match(raw):
        try:
            instant = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            return raw
        if instant.tzinfo is None:
            instant = instant.replace(tzinfo=UTC)
        if instant.year > 3000:  # braze-api.md §1.1.1: such years are kept as strings
            return raw
        return utc_iso(instant)
    if raw.startswith("[") and raw.endswith("]"):
        try:
            value = json.loads(raw)
        except ValueError:
            return raw
        if isinstance(value, list) and all(
            isinstance(v, str | int | float | bool) and v is not None for v in value
        ):
            if any(isinstance(v, float) and not math.isfinite(v) for v in value):
                raise CellValueError("an array holds a number out of the finite number range")
            return value
    return raw


def _standard_bool(name: str, raw: str) -> bool:
    lowered = raw.strip().lower()
    if lowered not in (_TRUE, _FALSE):
        raise CellValueError(f"{name} must be TRUE or FALSE, got {raw[:40]!r}")
    return lowered == _TRUE


def parse_row(schema: ImportSchema, cells: Sequence[str], row: int, line: int) -> ParsedRow | RowError:
    """One data row -> :class:`ParsedRow` (its attributes object) or :class:`RowError`.

    Malformed rows (cell count differs from the header) and rows with a blank identifier are
    errors, as in Braze's import; so is a bad boolean or subscription state.
    """
    values = dict(zip(schema.columns, cells, strict=False))
    ident = _identifier_text(schema, values)
    if len(cells) != len(schema.columns):
        return RowError(
            row, line, ident, f"malformed row: {len(cells)} cells, the header has {len(schema.columns)}"
        )
    obj: dict[str, Any] = {}
    if schema.identifier == "external_id":
        if not values["external_id"].strip():
            return RowError(row, line, ident, "external_id is blank")
        obj["external_id"] = values["external_id"].strip()
    elif schema.identifier == "user_alias":
        name, label = values["user_alias_name"].strip(), values["user_alias_label"].strip()
        if not name or not label:
            return RowError(row, line, ident, "user_alias_name and user_alias_label are both required")
        obj["user_alias"] = {"alias_name": name, "alias_label": label}
        obj["_update_existing_only"] = False  # the import creates alias-only users (braze-api.md §1.1)
    else:
        if not values["braze_id"].strip():
            return RowError(row, line, ident, "braze_id is blank")
        obj["braze_id"] = values["braze_id"].strip()
        obj["_update_existing_only"] = True  # braze_id imports never create users
    try:
        for name in schema.columns:
            raw = values[name]
            if name in IDENTIFIER_FIELDS or name in SUBSCRIPTION_FIELDS or raw == "":
                continue
            if name in STRING_FIELDS:
                obj[name] = raw
            elif name in BOOLEAN_FIELDS:
                obj[name] = _standard_bool(name, raw)
            else:
                try:
                    value = infer_value(raw)
                except CellValueError as exc:
                    raise CellValueError(f"{name}: {exc}") from exc
                if value is not None:
                    obj[name] = value
        group = values.get("subscription_group_id", "").strip()
        if group:
            state = values.get("subscription_state", "").strip() or "subscribed"
            if state not in ("subscribed", "unsubscribed"):
                raise CellValueError(f"subscription_state must be subscribed or unsubscribed, got {state!r}")
            obj["subscription_groups"] = [{"subscription_group_id": group, "subscription_state": state}]
    except CellValueError as exc:
        return RowError(row, line, ident, str(exc))
    return ParsedRow(row=row, line=line, identifier=ident, attributes=obj)


def _identifier_text(schema: ImportSchema, values: dict[str, str]) -> str:
    if schema.identifier == "user_alias":
        return f"{values.get('user_alias_label', '')}:{values.get('user_alias_name', '')}"
    return values.get(schema.identifier, "")


class _Lines:
    """A binary file's lines decoded as UTF-8 one by one, so a bad byte is reported by line."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.handle: BinaryIO = path.open("rb")
        self.number = 0

    def __iter__(self) -> Iterator[str]:
        for raw in self.handle:
            self.number += 1
            if self.number == 1 and raw.startswith(codecs.BOM_UTF8):
                raw = raw[len(codecs.BOM_UTF8) :]
            try:
                yield raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise ImportFormatError(
                    f"{self.path.name} line {self.number} is not UTF-8 (byte {exc.start + 1}): "
                    "save the file as UTF-8"
                ) from exc

    def close(self) -> None:
        self.handle.close()


def read_rows(path: Path) -> tuple[ImportSchema, Iterator[ParsedRow | RowError]]:
    """Open ``path`` (UTF-8, optional BOM) and parse its header now; rows are parsed lazily.

    Blank lines are skipped (as Braze does). Raises :class:`ImportFormatError` for a bad header, or
    while iterating when a line is not UTF-8 or not CSV (naming the line).
    """
    lines = _Lines(path)
    reader = csv.reader(lines)
    try:
        header = next(reader, None)
        if header is None:
            raise ImportFormatError(f"{path.name} is empty: a header row is required")
        schema = parse_header(header)
    except csv.Error as exc:
        lines.close()
        raise ImportFormatError(f"{path.name}: cannot read the header: {exc}") from exc
    except ImportFormatError:
        lines.close()
        raise

    def rows() -> Iterator[ParsedRow | RowError]:
        number = 0
        try:
            while True:
                try:
                    cells = next(reader, None)
                except csv.Error as exc:
                    raise ImportFormatError(f"{path.name} line {lines.number}: not CSV: {exc}") from exc
                if cells is None:
                    return
                if not cells or all(c == "" for c in cells):
                    continue
                number += 1
                yield parse_row(schema, cells, number, lines.number)
        finally:
            lines.close()

    return schema, rows()


def count_rows(path: Path) -> int:
    """Data rows in ``path`` (non-blank records after the header), for progress totals."""
    with path.open(encoding="utf-8-sig", newline="", errors="replace") as handle:
        reader = csv.reader(handle)
        next(reader, None)
        return sum(1 for cells in reader if cells and any(c != "" for c in cells))
