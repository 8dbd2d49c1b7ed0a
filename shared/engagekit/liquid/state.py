"""Per-render state that Braze's tags share, kept in python-liquid's ``context.tag_namespace``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from liquid.context import RenderContext

    from engagekit.liquid.connected.client import ConnectedContentClient
    from engagekit.liquid.context import RenderRequest

STATE_KEY = "engagekit.render"

MAX_MESSAGE_EXTRAS_BYTES = 1024
"""``message_extras`` JSON size cap, bytes (braze-api.md §5.8)."""


@dataclass(slots=True)
class RenderState:
    """What a render carries besides variables: services, counters and collected side data."""

    request: RenderRequest
    connected: ConnectedContentClient | None = None
    block_depth: int = 0
    extras: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def get_state(context: RenderContext) -> RenderState | None:
    """The state of the render ``context`` belongs to, or ``None`` outside a Renderer."""
    state = context.tag_namespace.get(STATE_KEY)
    return state if isinstance(state, RenderState) else None


def warn(context: RenderContext, message: str) -> None:
    """Record a warning for template authors (shown by previews)."""
    state = get_state(context)
    if state is not None:
        state.warnings.append(message)
