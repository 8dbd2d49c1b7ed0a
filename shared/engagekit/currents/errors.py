"""Errors of the Currents export: every one is an :class:`engagekit.errors.EngagekitError`."""

from __future__ import annotations

from collections.abc import Sequence

from engagekit.errors import EngagekitError, ValidationError


class CurrentsError(EngagekitError):
    """Root of the errors this package raises on purpose."""


class CurrentsSchemaError(CurrentsError, ValidationError):
    """An event does not fit its Currents schema (unknown field, wrong type, unknown event type)."""


class CurrentsDeliveryError(CurrentsError):
    """Firehose did not accept some records after every retry.

    ``failed`` is how many records of the call were still refused; ``error_codes`` counts the
    per-record ``ErrorCode`` values of the last attempt (AWS Firehose PutRecordBatch response);
    ``records`` are the undelivered records themselves, so a caller can send them again.
    """

    def __init__(
        self,
        message: str,
        *,
        failed: int,
        error_codes: dict[str, int] | None = None,
        records: Sequence[bytes] = (),
    ) -> None:
        super().__init__(message)
        self.failed = failed
        self.error_codes = dict(error_codes or {})
        self.records: tuple[bytes, ...] = tuple(records)


class CurrentsQueryError(CurrentsError):
    """A query over the exported data failed (bad SQL, unreadable source)."""
