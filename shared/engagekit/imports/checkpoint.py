"""The checkpoint of a resumable import: the last data row whose outcome is settled.

"Settled" means the API acknowledged the request holding the row (applied, or refused with a
reason written to the error report) or the row was rejected while parsing. The file is JSON,
rewritten atomically (temporary file + ``os.replace``) after every acknowledged request, and
carries a fingerprint of the source (size and SHA-256 of its first 64 KiB) so a resume against
a different or edited file is refused.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from engagekit import clock
from engagekit.errors import ValidationError

_FINGERPRINT_BYTES = 64 * 1024


class CheckpointError(ValidationError):
    """The checkpoint is unreadable or belongs to another file."""


@dataclass(frozen=True)
class Checkpoint:
    """``last_row``: data rows 1..last_row are settled; ``imported``/``failed`` count them so far."""

    source: str
    fingerprint: str
    last_row: int
    imported: int
    failed: int
    requests: int
    updated_at: str


def fingerprint(path: Path) -> str:
    """``"<size>:<sha256 of the first 64 KiB>"`` of ``path``."""
    with path.open("rb") as handle:
        head = handle.read(_FINGERPRINT_BYTES)
    return f"{path.stat().st_size}:{hashlib.sha256(head).hexdigest()}"


def default_path(source: Path) -> Path:
    """``users.csv`` -> ``users.csv.checkpoint.json`` next to it."""
    return source.with_name(source.name + ".checkpoint.json")


def load(path: Path) -> Checkpoint | None:
    """The checkpoint at ``path``, or ``None`` if there is none. Raises :class:`CheckpointError`
    when the file exists but is not a checkpoint."""
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Checkpoint(**data)
    except (ValueError, TypeError) as exc:
        raise CheckpointError(f"{path} is not an engagekit import checkpoint: {exc}") from exc


def save(path: Path, checkpoint: Checkpoint) -> None:
    """Write ``checkpoint`` atomically (a crash leaves the old or the new one, never half)."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(asdict(checkpoint), indent=1), encoding="utf-8")
    os.replace(tmp, path)


def now_text() -> str:
    return clock.utc_iso(clock.now())
