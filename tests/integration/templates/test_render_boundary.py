"""The render boundary's top-level node loop (engagekit.liquid.render._render_top_level) keeps
python-liquid's ``render_with_context`` rules: ``break``/``continue`` outside a loop are syntax errors
at their position, loops still break, runtime errors become typed results, and python-liquid's
internal ``partial`` variable is no longer visible (it belongs to ``include``/``render``, which this
dialect removes)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from engagekit.liquid import Aborted, Rendered, Renderer, RenderResult, SyntaxProblem


@dataclass
class BoundaryCase:
    name: str
    source: str
    strict: bool
    expected: RenderResult


CASES = [
    BoundaryCase("break_outside_loop", "a{% break %}b", False, SyntaxProblem("unexpected 'break'", 1, 5)),
    BoundaryCase(
        "continue_outside_loop", "x\n  {% continue %}", False, SyntaxProblem("unexpected 'continue'", 2, 6)
    ),
    BoundaryCase(
        "break_in_loop", "{% for i in (1..3) %}{{i}}{% break %}{% endfor %}!", False, Rendered("1!")
    ),
    BoundaryCase("partial_is_not_a_variable", "[{{ partial }}]", False, Rendered("[]")),
    BoundaryCase(
        "partial_is_undefined_in_strict",
        "{{ partial }}",
        True,
        Aborted("undefined variable: 'partial' is undefined", "undefined_variable"),
    ),
    BoundaryCase(
        "runtime_error_is_an_abort",
        "{{ 1 | divided_by: 0 }}",
        False,
        Aborted("divided_by: can't divide by 0", "render_error"),
    ),
    BoundaryCase(
        "text_after_a_tag_renders", "{% assign a = 'x' %}{{ a }}-{{ a | upcase }}", False, Rendered("x-X")
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_top_level_render_rules(case: BoundaryCase) -> None:
    assert Renderer().render(case.source, None, strict=case.strict) == case.expected
