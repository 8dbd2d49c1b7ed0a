"""The composition root of the user data API: the ports every use case gets, built once per container.

A use case takes a :class:`UsersService` (store, Currents exporter, limits, deletion hooks).
Functions build it with :func:`service_from_settings`; tests and the bench build it from fakes
(:class:`engagekit.profiles.store.InMemoryProfileStore`, :class:`engagekit.currents.exporter.FakeFirehose`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

from engagekit.config import FunctionSettings
from engagekit.currents.exporter import CurrentsExporter, Exportable, FirehoseAdapter, FirehoseExporter
from engagekit.domain.profile import Profile
from engagekit.profiles.limits import DEFAULT_ARRAY_MAX_LENGTH, Limits
from engagekit.profiles.store import DynamoProfileStore, ProfileStore


class UsersSettings(FunctionSettings):
    """Environment of the user data API functions (``PROFILES_TABLE``, ``IDENTITIES_TABLE``, ...)."""

    profiles_table: str
    identities_table: str
    currents_stream: str
    custom_array_max_length: int = DEFAULT_ARRAY_MAX_LENGTH


class DeletionHook(Protocol):
    """Called after ``/users/delete`` removed a profile and its identities (braze-api.md §1.4, §8).

    Later features register one to drop what they keep per user (segment memberships, journey
    timers, queued sends). It must be idempotent: a retried request calls it again.
    """

    def __call__(self, profile: Profile) -> None: ...


@dataclass
class UsersService:
    """What every user data use case needs. ``deletion_hooks`` run in order after a deletion."""

    store: ProfileStore
    exporter: CurrentsExporter
    limits: Limits = field(default_factory=Limits)
    deletion_hooks: list[DeletionHook] = field(default_factory=list)

    def emit(self, events: Iterable[Exportable]) -> None:
        """Export ``events`` and flush: one PutRecordBatch per request (CurrentsDeliveryError propagates)."""
        batch = list(events)
        if batch:
            self.exporter.export(batch)
            self.exporter.flush()


def deletion_hooks_from_settings(settings: UsersSettings) -> list[DeletionHook]:
    """What else ``/users/delete`` must clean up, per deployment: the extension point.

    Segment memberships, journey timers and queued sends (later features) each add a hook here,
    built from settings they add to :class:`UsersSettings`; nothing about a deleted user may be
    sent afterwards (ARCHITECTURE, security and data rules). The profile stream's REMOVE record and
    the ``users.UserDeleteRequest`` Currents event are emitted regardless.
    """
    return []


def service_from_settings(settings: UsersSettings) -> UsersService:
    """The DynamoDB + Firehose service for ``settings`` (handlers keep one per container)."""
    from engagekit import aws

    store = DynamoProfileStore(settings.profiles_table, settings.identities_table)
    exporter = FirehoseExporter(FirehoseAdapter(settings.currents_stream, client=aws.client("firehose")))
    limits = Limits(array_max_length=settings.custom_array_max_length)
    return UsersService(store, exporter, limits, deletion_hooks_from_settings(settings))
