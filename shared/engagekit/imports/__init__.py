"""Bulk user data through the public API: Braze's CSV attribute import (``engagekit import users``).

- :mod:`engagekit.imports.csv_format`: the CSV format (identifier columns, typed attribute columns),
  pure parsing into ``/users/track`` attribute objects (braze-api.md §1.1.1).
- :mod:`engagekit.imports.track`: batching objects 75 per array into ``/users/track`` requests and
  posting them over HTTP with retries (429 waits for ``X-RateLimit-Reset``); the replay uses it too.
- :mod:`engagekit.imports.checkpoint`: the resumable run's checkpoint file.
- :mod:`engagekit.imports.runner`: the import itself, with its per-row error report.
"""

from engagekit.imports.csv_format import ImportFormatError, ImportSchema, ParsedRow, RowError, infer_value
from engagekit.imports.runner import ImportStateError, ImportSummary, import_users

__all__ = [
    "ImportFormatError",
    "ImportSchema",
    "ImportStateError",
    "ImportSummary",
    "ParsedRow",
    "RowError",
    "import_users",
    "infer_value",
]
