"""Tags, the render boundary, strict mode, limits and template caching (braze-api.md §5.1-§5.5, §5.8)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from engagekit.domain.profile import Profile
from engagekit.liquid import (
    Aborted,
    InMemoryTemplateStore,
    Rendered,
    Renderer,
    RenderLimits,
    RenderRequest,
    StoredTemplate,
    SyntaxProblem,
)


@dataclass
class Case:
    name: str
    template: str
    expected: object


LIQUID_5 = [
    Case("echo", "{% echo ${first_name} | upcase %}", Rendered(text="JANET")),
    Case(
        "liquid tag with Braze attributes",
        "{% liquid\nassign n = ${first_name}\nif n == 'Janet'\necho 'yes'\nendif %}",
        Rendered(text="yes"),
    ),
    Case("whitespace control", "a  {{- ${first_name} -}}  b", Rendered(text="aJanetb")),
    Case("whitespace control on tags", "a\n{%- if true -%}\nx\n{%- endif -%}\nb", Rendered(text="axb")),
    Case(
        "raw keeps Braze syntax", "{% raw %}{{${first_name}}}{% endraw %}", Rendered(text="{{${first_name}}}")
    ),
    Case("comment", "a{% comment %}{{${first_name}}}{% endcomment %}b", Rendered(text="ab")),
    Case("inline comment", "a{% # {{${x}}} %}b", Rendered(text="ab")),
    Case("case/when", "{% case ${country} %}{% when 'US' %}us{% else %}x{% endcase %}", Rendered(text="us")),
    Case("unless", "{% unless ${first_name} == 'Bob' %}not bob{% endunless %}", Rendered(text="not bob")),
    Case(
        "capture",
        "{% capture g %}Hi {{${first_name}}}{% endcapture %}{{ g | upcase }}",
        Rendered(text="HI JANET"),
    ),
    Case(
        "contains", "{% if custom_attribute.${tags} contains 'b' %}has b{% endif %}", Rendered(text="has b")
    ),
    Case("for with limit", "{% for i in (1..5) limit: 2 %}{{i}}{% endfor %}", Rendered(text="12")),
    Case(
        "string in a tag keeps ${}", "{% assign s = '${first_name}' %}{{ s }}", Rendered(text="${first_name}")
    ),
]

ABORTS = [
    Case("abort_message with a reason", "x{% abort_message('no coupon') %}", Aborted(reason="no coupon")),
    Case("abort_message with double quotes", '{% abort_message("why") %}', Aborted(reason="why")),
    Case("abort_message()", "{% abort_message() %}", Aborted(reason="{% abort_message %} called")),
    Case("abort_message bare", "{% abort_message %}", Aborted(reason="{% abort_message %} called")),
    Case(
        "abort inside a condition",
        "{% if ${first_name} == 'Janet' %}{% abort_message('janet opted out') %}{% endif %}hi",
        Aborted(reason="janet opted out"),
    ),
    Case(
        "no abort when the branch is not taken",
        "{% if false %}{% abort_message('x') %}{% endif %}ok",
        Rendered(text="ok"),
    ),
    Case(
        "abort_message inside a liquid tag",
        "{% liquid\nif true\nabort_message('in liquid')\nendif %}",
        Aborted(reason="in liquid"),
    ),
]

SYNTAX = [
    Case(
        "abort reason must be a plain string",
        "{% abort_message(reason) %}",
        SyntaxProblem(
            message="abort_message takes one plain quoted string: {% abort_message('reason') %}",
            line=1,
            column=17,
        ),
    ),
    Case(
        "unclosed if points past the end",
        "a\n{% if x %}\nb",
        SyntaxProblem(message="expected tag endif, found end of expression", line=3, column=2),
    ),
    Case(
        "unknown tag",
        "line1\n  {% promotion('x') %}",
        SyntaxProblem(message="unexpected tag 'promotion'", line=2, column=6),
    ),
    Case(
        "include is not Braze",
        "{% include 'x' %}",
        SyntaxProblem(message="unexpected tag 'include'", line=1, column=4),
    ),
    Case(
        "parentheses are invalid in conditions",
        "{% if (a and b) %}{% endif %}",
        SyntaxProblem(message="disallowed parentheses in logical expression", line=1, column=7),
    ),
]

ALL = LIQUID_5 + ABORTS + SYNTAX


@pytest.mark.parametrize("case", ALL, ids=[c.name for c in ALL])
def test_tag_behaviour(case: Case, renderer: Renderer, profile: Profile) -> None:
    result = renderer.render(case.template, profile)

    assert result == case.expected


def test_message_extras_collects_first_value_per_key(renderer: Renderer, profile: Profile) -> None:
    template = (
        "{% message_extras :key name :value {{${first_name}}} %}"
        "{% message_extras :key name :value second %}"
        "{% message_extras :key {{'ci' | append: 'ty'}} :value {{${city}}} %}body"
    )

    result = renderer.render(template, profile)

    assert result == Rendered(text="body", message_extras={"name": "Janet", "city": "Portland"})


def test_message_extras_over_one_kilobyte_are_dropped(renderer: Renderer) -> None:
    template = (
        "{% message_extras :key a :value {{ 'x' | append: big }} %}{% message_extras :key b :value small %}"
    )
    from engagekit.liquid import RenderRequest

    result = renderer.render(template, None, RenderRequest(extras={"big": "y" * 1100}))

    assert isinstance(result, Rendered)
    assert result.message_extras == {"b": "small"}
    assert result.warnings == ("message_extras: 'a' dropped, extras are over 1 KB",)


class TestContentBlocks:
    def test_block_renders_in_place_with_the_message_scope(
        self, renderer: Renderer, store: InMemoryTemplateStore, profile: Profile
    ) -> None:
        store.put_content_block("greeting", "Hello {{${first_name}}}{% assign from_block = 'set' %}")

        result = renderer.render("[{{content_blocks.${greeting}}}] {{ from_block }}", profile)

        assert result == Rendered(text="[Hello Janet] set")

    def test_one_level_of_nesting_renders_and_a_third_level_does_not(
        self, renderer: Renderer, store: InMemoryTemplateStore
    ) -> None:
        store.put_content_block("outer", "O({{content_blocks.${middle}}})")
        store.put_content_block("middle", "M({{content_blocks.${inner}}})")
        store.put_content_block("inner", "I")

        result = renderer.render("{{content_blocks.${outer}}}", None)

        assert isinstance(result, Rendered)
        assert result.text == "O(M())"
        assert result.warnings == ("content block 'inner' is nested too deep and renders nothing",)

    def test_capture_and_strip_tip_from_the_docs(
        self, renderer: Renderer, store: InMemoryTemplateStore
    ) -> None:
        store.put_content_block("padded", "  body  \n")

        result = renderer.render(
            "{% capture v %}{{content_blocks.${padded}}}{% endcapture %}[{{ v | strip }}]", None
        )

        assert result == Rendered(text="[body]")

    def test_updating_a_block_updates_the_message(
        self, renderer: Renderer, store: InMemoryTemplateStore
    ) -> None:
        store.put_content_block("b", "v1")
        assert renderer.render("{{content_blocks.${b}}}", None) == Rendered(text="v1")

        store.put_content_block("b", "v2")

        assert renderer.render("{{content_blocks.${b}}}", None) == Rendered(text="v2")

    def test_missing_block_renders_nothing_with_a_warning(self, renderer: Renderer) -> None:
        result = renderer.render("a{{content_blocks.${nope}}}b", None)

        assert result == Rendered(text="ab", warnings=("content block 'nope' does not exist",))

    def test_syntax_error_in_a_block_names_the_block(
        self, renderer: Renderer, store: InMemoryTemplateStore
    ) -> None:
        store.put_content_block("broken", "ok\n{% if %}")

        result = renderer.render("{{content_blocks.${broken}}}", None)

        assert isinstance(result, SyntaxProblem)
        assert (result.template, result.line) == ("broken", 2)

    def test_abort_inside_a_block_aborts_the_message(
        self, renderer: Renderer, store: InMemoryTemplateStore
    ) -> None:
        store.put_content_block("guard", "{% abort_message('from block') %}")

        assert renderer.render("{{content_blocks.${guard}}}", None) == Aborted(reason="from block")


class TestStrictMode:
    def test_undefined_variable_aborts_with_the_name(self, renderer: Renderer, profile: Profile) -> None:
        result = renderer.render("Hi {{custom_attribute.${nickname}}}", profile, strict=True)

        assert result == Aborted(
            reason="undefined variable: custom_attribute.nickname is undefined", kind="undefined_variable"
        )

    def test_default_still_applies_to_undefined(self, renderer: Renderer, profile: Profile) -> None:
        result = renderer.render(
            "Hi {{custom_attribute.${nickname} | default: 'friend'}}", profile, strict=True
        )

        assert result == Rendered(text="Hi friend")

    def test_unset_standard_attribute_is_not_undefined(self, renderer: Renderer) -> None:
        assert renderer.render("[{{${first_name}}}]", None, strict=True) == Rendered(text="[]")

    def test_lax_mode_renders_undefined_as_empty(self, renderer: Renderer, profile: Profile) -> None:
        assert renderer.render("Hi {{custom_attribute.${nickname}}}", profile) == Rendered(text="Hi ")


@dataclass
class LimitCase:
    name: str
    template: str
    reason: str


LIMITS = [
    LimitCase(
        "loop iterations",
        "{% for i in (1..20) %}{% for j in (1..20) %}{% endfor %}{% endfor %}",
        "loop iteration limit reached",
    ),
    LimitCase("output size", "{% for i in (1..50) %}0123456789{% endfor %}", "output stream limit reached"),
    LimitCase("output size without loops", "{{ s }}{{ s }}{{ s }}", "output stream limit reached"),
    LimitCase("output size counts UTF-8 bytes", "{{ u }}{{ u }}", "output stream limit reached"),
    LimitCase(
        "local namespace",
        "{% assign a = 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx' %}",
        "local namespace limit reached",
    ),
]


@pytest.mark.parametrize("case", LIMITS, ids=[c.name for c in LIMITS])
def test_resource_limit_aborts_the_render(case: LimitCase) -> None:
    renderer = Renderer(limits=RenderLimits(loop_iterations=100, output_bytes=100, local_namespace=80))

    result = renderer.render(case.template, None, RenderRequest(extras={"s": "x" * 40, "u": "é" * 30}))

    assert result == Aborted(reason=case.reason, kind="resource_limit")


def test_context_depth_limit_stops_runaway_nesting() -> None:
    renderer = Renderer(limits=RenderLimits(context_depth=3))

    result = renderer.render(
        "{% for a in (1..1) %}" * 4 + "x" + "{% endfor %}" * 4,
        None,
    )

    assert isinstance(result, Aborted) and result.kind == "resource_limit"


class TestTemplateCache:
    def test_a_stored_template_is_parsed_once_per_version(self, renderer: Renderer, profile: Profile) -> None:
        v1 = StoredTemplate.of("welcome", "Hi {{${first_name}}}")
        renderer.render(v1, profile)
        parses = renderer.cache.parses

        again = renderer.render(v1, profile)

        assert again == Rendered(text="Hi Janet")
        assert renderer.cache.parses == parses

    def test_a_new_version_replaces_the_cached_parse(self, renderer: Renderer, profile: Profile) -> None:
        renderer.render(StoredTemplate.of("welcome", "Hi {{${first_name}}}"), profile)

        result = renderer.render(StoredTemplate.of("welcome", "Bye {{${first_name}}}"), profile)

        assert result == Rendered(text="Bye Janet")
        assert len(renderer.cache) == 1

    def test_inline_sources_are_cached_by_content(self, renderer: Renderer) -> None:
        renderer.render("x", None)
        parses = renderer.cache.parses

        renderer.render("x", None)

        assert renderer.cache.parses == parses

    def test_syntax_errors_are_not_cached(self, renderer: Renderer) -> None:
        renderer.render("{% if %}", None)

        assert len(renderer.cache) == 0


def test_stored_template_syntax_error_names_the_template(renderer: Renderer) -> None:
    result = renderer.render(StoredTemplate.of("promo-email", "ok\n\n{{ x | nope }}"), None)

    assert result == SyntaxProblem(message="unknown filter 'nope'", line=3, column=8, template="promo-email")


def test_unexpected_errors_become_an_abort(renderer: Renderer) -> None:
    class Exploding:
        def __str__(self) -> str:
            raise RuntimeError("boom")

    from engagekit.liquid import RenderRequest

    result = renderer.render("{{ x }}", None, RenderRequest(extras={"x": Exploding()}))

    assert result == Aborted(reason="internal error: RuntimeError", kind="render_error")
