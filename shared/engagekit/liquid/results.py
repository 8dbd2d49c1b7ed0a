"""What a render returns: exactly one of four typed outcomes, never an exception.

- :class:`Rendered` — the message text, plus ``message_extras`` for Currents (braze-api.md §5.8) and
  warnings for template authors (failed Connected Content calls, missing content blocks);
- :class:`Aborted` — do not send this message to this user; ``reason`` goes to the message activity
  log and the Currents ``Abort`` event (braze-api.md §5.3);
- :class:`Retry` — a ``connected_content ... :retry`` call failed; the sender should put the message
  back on its queue for ``delay_seconds`` and render again with ``attempt + 1`` (braze-api.md §5.4);
- :class:`SyntaxProblem` — the template does not parse; ``line`` and ``column`` are 1-based.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from engagekit.liquid.errors import AbortKind


@dataclass(slots=True)
class Rendered:
    """A successful render. ``message_extras`` maps string keys to string values."""

    text: str
    message_extras: dict[str, str] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()


@dataclass(slots=True)
class Aborted:
    """The message must not be sent to this user; ``kind`` says which rule stopped it."""

    reason: str
    kind: AbortKind = "abort_message"


@dataclass(slots=True)
class Retry:
    """Render again after ``delay_seconds`` (seconds) with ``RenderRequest.attempt + 1``."""

    reason: str
    delay_seconds: float


@dataclass(slots=True)
class SyntaxProblem:
    """The template (or a content block it includes) does not parse.

    ``line`` and ``column`` are 1-based positions in ``template`` (the template id, the content block
    name, or ``""`` for an inline source); ``message`` says what is wrong.
    """

    message: str
    line: int
    column: int
    template: str = ""


RenderResult = Rendered | Aborted | Retry | SyntaxProblem
"""The union every render entry point returns."""
