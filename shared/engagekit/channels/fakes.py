"""In-memory providers for unit tests, chaos tests and the bench.

Each keeps what it accepted (``sent``) and can be scripted to answer differently: ``script`` is a
list of results returned for the next calls (then :class:`Accepted`), or a callable deciding per
request. ``keep=False`` only counts (the bench).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any, Generic, TypeVar

from engagekit.channels.ports import (
    Accepted,
    EmailRequest,
    Platform,
    ProviderResult,
    PushRequest,
    SmsRequest,
    WebhookRequest,
)

R = TypeVar("R")


class _Fake(Generic[R]):
    def __init__(
        self,
        script: list[ProviderResult] | Callable[[R], ProviderResult] | None = None,
        *,
        keep: bool = True,
    ) -> None:
        self.script = script if script is not None else []
        self.keep = keep
        self.sent: list[R] = []
        self.calls = 0
        self.accepted = 0
        self._lock = threading.Lock()

    def send(self, request: R) -> ProviderResult:
        with self._lock:
            self.calls += 1
            if callable(self.script):
                result = self.script(request)
            elif self.script:
                result = self.script.pop(0)
            else:
                result = Accepted(f"fake-{self.calls}")
            if isinstance(result, Accepted):
                self.accepted += 1
                if self.keep:
                    self.sent.append(request)
            return result


class FakeEmailProvider(_Fake[EmailRequest]):
    """Keeps accepted :class:`EmailRequest` objects."""


class FakeSmsProvider(_Fake[SmsRequest]):
    """Keeps accepted :class:`SmsRequest` objects."""


class FakeWebhookProvider(_Fake[WebhookRequest]):
    """Keeps accepted :class:`WebhookRequest` objects."""


class FakePushProvider(_Fake[PushRequest]):
    """Keeps accepted :class:`PushRequest` objects; ``platforms`` maps app ids to platforms."""

    def __init__(
        self,
        platforms: Mapping[str, Platform] | None = None,
        script: list[ProviderResult] | Callable[[PushRequest], ProviderResult] | None = None,
        *,
        keep: bool = True,
    ) -> None:
        super().__init__(script, keep=keep)
        self.platforms = dict(platforms or {})

    def platform(self, app_id: str) -> Platform | None:
        return self.platforms.get(app_id)


def sent_to(fake: _Fake[Any]) -> list[str]:
    """The address (email, phone, token, URL) of every accepted request, in order."""
    out: list[str] = []
    for request in fake.sent:
        for attr in ("to", "token", "url"):
            if hasattr(request, attr):
                out.append(str(getattr(request, attr)))
                break
    return out
