"""The one exception root of engagekit, and the families every layer raises.

Domain and data-access code raise subclasses of :class:`EngagekitError`; the HTTP layer maps them to
Braze-style error bodies in exactly one place (``engagekit.api``). Nothing routes on message text.
"""

from __future__ import annotations


class EngagekitError(Exception):
    """Root of every error engagekit raises on purpose."""


class ValidationError(EngagekitError):
    """Input that breaks a documented rule. Maps to HTTP 400.

    ``message`` is shown to the API caller verbatim, so it must say what to fix.
    """

    status_code = 400

    def __init__(self, message: str, *, errors: list[dict[str, object]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors or []


class NotFoundError(EngagekitError):
    """A named resource does not exist. Maps to HTTP 404."""

    status_code = 404


class ConflictError(EngagekitError):
    """A write lost a race or would break an invariant. Maps to HTTP 409."""

    status_code = 409


class AuthError(EngagekitError):
    """Missing or unknown API key (401) or a key without the permission (403)."""

    def __init__(self, message: str, status_code: int = 401) -> None:
        super().__init__(message)
        self.status_code = status_code


class RateLimitedError(EngagekitError):
    """Over a per-key rate limit. Maps to HTTP 429; ``reset`` is the UTC epoch second it resets."""

    status_code = 429

    def __init__(self, message: str, reset: int) -> None:
        super().__init__(message)
        self.reset = reset


class ConfigError(EngagekitError):
    """A function's environment or a definition file is invalid; raised at cold start."""
