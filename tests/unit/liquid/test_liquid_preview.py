"""render_preview: the use case behind POST /templates/render and `engagekit render`."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from engagekit.domain.profile import Profile
from engagekit.liquid import FakeFetcher, HttpResponse, PreviewResult, Renderer, render_preview


@dataclass
class Case:
    name: str
    source: str
    expected: PreviewResult
    trigger_properties: dict[str, object] = field(default_factory=dict)
    context: dict[str, object] = field(default_factory=dict)


CASES = [
    Case(
        "rendered text",
        "Hi {{${first_name}}}, use {{api_trigger_properties.${coupon}}}",
        PreviewResult(status="rendered", text="Hi Janet, use SAVE10"),
        trigger_properties={"coupon": "SAVE10"},
    ),
    Case(
        "canvas context",
        "{{context.${cart_id}}}/{{canvas_entry_properties.${cart_id}}}",
        PreviewResult(status="rendered", text="c-9/c-9"),
        context={"cart_id": "c-9"},
    ),
    Case(
        "abort reason",
        "{% abort_message('no stock') %}",
        PreviewResult(status="aborted", reason="no stock", abort_kind="abort_message"),
    ),
    Case(
        "syntax error with line and column",
        "Hello\n  {% if ${first_name} %}",
        PreviewResult(
            status="syntax_error", message="expected tag endif, found end of expression", line=2, column=25
        ),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_preview(case: Case, renderer: Renderer, profile: Profile) -> None:
    result = render_preview(
        case.source,
        profile,
        trigger_properties=case.trigger_properties,
        context=case.context,
        renderer=renderer,
    )

    assert result == case.expected


def test_preview_never_retries_and_reports_the_failure(renderer: Renderer, fetcher: FakeFetcher) -> None:
    fetcher.add("GET", "https://api.example.com/x", HttpResponse(500))

    result = render_preview(
        "[{% connected_content https://api.example.com/x :retry %}]", None, renderer=renderer
    )

    assert result == PreviewResult(
        status="rendered", text="[]", warnings=["connected_content: 500 from api.example.com"]
    )


def test_preview_result_is_json_for_the_api() -> None:
    result = render_preview("{{ 'x' | upcase }}", None)

    assert result.model_dump(exclude_none=True) == {
        "status": "rendered",
        "text": "X",
        "message_extras": {},
        "warnings": [],
    }
