"""The composition root of the segment workers (stream handler, timer sweep, backfill jobs).

Handlers keep one :class:`Workers` per container (:func:`workers`): the definition cache lives as
long as the container, so the dependency index is rebuilt only when definitions change.

Export callbacks go through :class:`SafeCallback`: the Connected Content HTTP client and its SSRF
guard (:mod:`engagekit.liquid.connected`): http/https on ports 80/443 to public addresses only,
no redirects, 2 s, 1 MB. Tests that serve a callback on loopback install a fetcher whose guard
carries an :class:`~engagekit.liquid.connected.guard.UnsafeTestAllowlist` with
:func:`use_callback_fetcher`; nothing else can reach a private address.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from engagekit.config import load_settings
from engagekit.errors import ValidationError
from engagekit.segments.jobs import JobRunner, S3Writer
from engagekit.segments.membership import MembershipStore
from engagekit.segments.profile_source import DynamoProfileSource
from engagekit.segments.service import SegmentsSettings
from engagekit.segments.store import DynamoDefinitions
from engagekit.segments.timer_store import DynamoTimers
from engagekit.segments.updater import DefinitionCache, MembershipUpdater

# Callbacks (segment exports) are rare: the HTTP client and its SSRF guard are imported where used,
# not at every segment worker's cold start.
if TYPE_CHECKING:
    from engagekit.liquid.connected.http import Fetcher

CALLBACK_TIMEOUT_S = 2.0
_fetcher: list[Fetcher] = []


def use_callback_fetcher(fetcher: Fetcher | None) -> None:
    """Install the process's callback fetcher (tests); ``None`` restores the guarded default."""
    _fetcher.clear()
    if fetcher is not None:
        _fetcher.append(fetcher)


def _active_fetcher() -> Fetcher:
    if not _fetcher:
        from engagekit.liquid.connected.guard import UrlGuard
        from engagekit.liquid.connected.urllib3_fetcher import Urllib3Fetcher

        _fetcher.append(Urllib3Fetcher(UrlGuard()))
    return _fetcher[0]


def check_callback_url(url: str) -> None:
    """Refuse a ``callback_endpoint`` the guard would refuse (400), before starting an export.

    Uses the installed fetcher's guard when it has one (tests), else the default guard.
    Raises :class:`ValidationError`.
    """
    from engagekit.liquid.connected.guard import UrlGuard
    from engagekit.liquid.errors import FetchError

    guard = getattr(_active_fetcher(), "guard", None) or UrlGuard()
    try:
        guard.check(url)
    except FetchError as exc:
        raise ValidationError(f"callback_endpoint refused: {exc}") from exc


class SafeCallback:
    """:class:`~engagekit.segments.jobs.Callback` through the guarded fetcher; a non-2xx answer or
    a refused/failed call raises (the job logs it)."""

    def post(self, url: str, body: dict[str, Any]) -> None:
        from engagekit.liquid.connected.http import HttpRequest

        response = _active_fetcher().fetch(
            HttpRequest(
                "POST",
                url,
                headers={"content-type": "application/json"},
                body=json.dumps(body).encode(),
                timeout_seconds=CALLBACK_TIMEOUT_S,
            )
        )
        if not 200 <= response.status < 300:
            raise RuntimeError(f"callback answered HTTP {response.status}")


@dataclass
class Workers:
    """The updater and the job runner over DynamoDB/S3, sharing one definition cache."""

    updater: MembershipUpdater
    runner: JobRunner


_workers: list[Workers] = []


def use_workers(replacement: Workers | None) -> None:
    """Install the process's workers (benchmarks and tests over fakes); ``None``: build from settings."""
    _workers.clear()
    if replacement is not None:
        _workers.append(replacement)


def workers() -> Workers:
    """The container's :class:`Workers`, built on first use from :class:`SegmentsSettings`."""
    if not _workers:
        settings = load_settings(SegmentsSettings)
        definitions = DynamoDefinitions(settings.segments_table)
        updater = MembershipUpdater(
            DefinitionCache(definitions),
            MembershipStore(settings.memberships_table),
            DynamoTimers(settings.segment_timers_table),
            DynamoProfileSource(settings.profiles_table),
        )
        _workers.append(Workers(updater, JobRunner(updater, definitions, S3Writer(), SafeCallback())))
    return _workers[0]
