"""The Online Retail replay (``engagekit replay``): real transactions through the public API.

- :mod:`engagekit.replay.source`: where the data is (``../shared/data/online-retail/``), reading it.
- :mod:`engagekit.replay.mapping`: invoice lines -> Braze ``/users/track`` objects.
- :mod:`engagekit.replay.runner`: batching 75 objects per array and sending, with a summary.
- :mod:`engagekit.replay.expected`: per-customer purchase aggregates computed independently from
  the CSV, the oracle for tests of what the platform stored.
"""

from engagekit.replay.expected import (
    CustomerTotals,
    ProductTotals,
    expected_anonymous,
    expected_customers,
)
from engagekit.replay.mapping import ALIAS_LABEL, CANCEL_EVENT, Mapper, synthetic_email
from engagekit.replay.runner import ReplayAborted, ReplaySummary, replay
from engagekit.replay.source import DataNotFoundError, locate, read_records

__all__ = [
    "ALIAS_LABEL",
    "CANCEL_EVENT",
    "CustomerTotals",
    "DataNotFoundError",
    "Mapper",
    "ProductTotals",
    "ReplayAborted",
    "ReplaySummary",
    "expected_anonymous",
    "expected_customers",
    "locate",
    "read_records",
    "replay",
    "synthetic_email",
]
