"""Errors of the personalization package, all under :class:`engagekit.errors.EngagekitError`.

Two families:

- **render signals** (:class:`RenderSignal`) are raised inside a render by Braze's control-flow tags
  (``abort_message``, a failing ``connected_content :retry``) and turned into a typed result at the
  render boundary (:mod:`engagekit.liquid.render`); they never reach a caller of the public API;
- **fetch errors** (:class:`FetchError`) are raised by the ``connected_content`` HTTP port
  (:class:`engagekit.liquid.connected.http.Fetcher`) and its SSRF guard.
"""

from __future__ import annotations

from typing import Literal

from engagekit.errors import EngagekitError

AbortKind = Literal[
    "abort_message",
    "connected_content",
    "undefined_variable",
    "resource_limit",
    "render_error",
]
"""Why a render stopped: the ``abort_message`` tag, a failed Connected Content call, an undefined
variable in strict mode, a python-liquid resource limit, or another render-time error."""


class PersonalizationError(EngagekitError):
    """Root of every error this package raises on purpose."""


class RenderSignal(PersonalizationError):
    """Control flow out of a render; converted to a result at the render boundary."""


class MessageAborted(RenderSignal):
    """Stop the send of this message for this user (braze-api.md §5.3, §5.4)."""

    def __init__(self, reason: str, kind: AbortKind = "abort_message") -> None:
        super().__init__(reason)
        self.reason = reason
        self.kind: AbortKind = kind


class RetryRequested(RenderSignal):
    """A ``connected_content ... :retry`` call failed; render again later (braze-api.md §5.4).

    ``delay_seconds`` is the exponential backoff before the next attempt.
    """

    def __init__(self, reason: str, delay_seconds: float) -> None:
        super().__init__(reason)
        self.reason = reason
        self.delay_seconds = delay_seconds


class FetchError(PersonalizationError):
    """A Connected Content HTTP call did not produce a response."""


class FetchRefused(FetchError):
    """The target is not allowed: scheme, port, host name or resolved address (SSRF guard)."""


class FetchTimeout(FetchError):
    """No complete response within the deadline (2 s for Connected Content, braze-api.md §5.4)."""


class FetchTooLarge(FetchError):
    """The response body is over the size cap (1 MB for Connected Content, braze-api.md §5.4)."""


class FetchFailed(FetchError):
    """Name resolution, connection, TLS or protocol failure."""
