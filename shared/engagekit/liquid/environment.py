"""``BrazeEnvironment``: python-liquid configured as Braze's dialect, with resource limits.

- Syntax: :mod:`engagekit.liquid.syntax` (``${...}``, braces inside tags, content blocks).
- Tags: python-liquid's standard Liquid 5 tags (``echo``, ``liquid``, whitespace control, ...)
  except ``include`` and ``render`` (Braze has content blocks instead), plus
  :data:`engagekit.liquid.tags.BRAZE_TAGS`.
- Filters: python-liquid's standard filters plus :data:`engagekit.liquid.filters.BRAZE_FILTERS`
  (which replace ``date`` and ``default``). Unknown filters are errors.
- Errors: ``Mode.STRICT``, so every problem surfaces at the render boundary
  (:mod:`engagekit.liquid.render`) where it becomes a typed result.
- ``strict_variables=True`` makes an undefined variable an error (the render aborts with the
  reason); ``default`` still works on undefined values.
- Limits (:class:`RenderLimits`): braze-api.md §5.9 publishes none, so these are engagekit's and are
  documented in docs/liquid.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from liquid import Environment, Mode
from liquid.undefined import StrictDefaultUndefined, Undefined

from engagekit.liquid import syntax
from engagekit.liquid.filters import BRAZE_FILTERS
from engagekit.liquid.tags import BRAZE_TAGS

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from liquid.loader import BaseLoader
    from liquid.token import Token

_REMOVED_TAGS = ("include", "render")


@dataclass(frozen=True, slots=True)
class RenderLimits:
    """python-liquid resource limits for one render.

    ``loop_iterations``: total iterations of nested loops; ``output_bytes``: UTF-8 bytes written;
    ``context_depth``: nested scopes; ``local_namespace``: python-liquid's size score of assigned
    variables (roughly bytes, ``sys.getsizeof``); ``block_nesting``: nested block tags at parse time.
    """

    loop_iterations: int = 50_000
    output_bytes: int = 2_000_000
    context_depth: int = 30
    local_namespace: int = 4_000_000
    block_nesting: int = 30


class BrazeEnvironment(Environment):
    """python-liquid ``Environment`` for Braze's Liquid dialect (module docstring)."""

    def __init__(
        self,
        *,
        strict_variables: bool = False,
        loader: BaseLoader | None = None,
        limits: RenderLimits | None = None,
    ) -> None:
        undefined: type[Undefined] = StrictDefaultUndefined if strict_variables else Undefined
        super().__init__(
            tolerance=Mode.STRICT,
            undefined=undefined,
            strict_filters=True,
            autoescape=False,
            loader=loader,
        )
        self.strict_variables = strict_variables
        self.limits = limits or RenderLimits()
        # python-liquid declares the limits as class variables; set them per environment.
        object.__setattr__(self, "loop_iteration_limit", self.limits.loop_iterations)
        object.__setattr__(self, "output_stream_limit", self.limits.output_bytes)
        object.__setattr__(self, "context_depth_limit", self.limits.context_depth)
        object.__setattr__(self, "local_namespace_limit", self.limits.local_namespace)
        object.__setattr__(self, "block_nesting_limit", self.limits.block_nesting)

    def tokenizer(self) -> Callable[[str], Iterator[Token]]:
        """Braze's lexer (:func:`engagekit.liquid.syntax.tokenize`)."""
        return syntax.tokenize

    def setup_tags_and_filters(self, *, extra: bool = False) -> None:
        super().setup_tags_and_filters(extra=extra)
        for name in _REMOVED_TAGS:
            self.tags.pop(name, None)
        for tag in BRAZE_TAGS:
            self.add_tag(tag)
        for name, func in BRAZE_FILTERS.items():
            self.add_filter(name, func)
