"""Braze attribute syntax is rewritten to standard Liquid before parsing (braze-api.md §5.1)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from engagekit.liquid.syntax import tokenize, translate_expression


@dataclass
class Case:
    name: str
    braze: str
    standard: str
    keep_output_braces: bool = False


TRANSLATIONS = [
    Case("top-level attribute", "${first_name}", "first_name"),
    Case("spaces inside the braces", "${ first_name }", "first_name"),
    Case("namespace attribute", "custom_attribute.${plan}", 'custom_attribute["plan"]'),
    Case("attribute name with a space", "custom_attribute.${zip code}", 'custom_attribute["zip code"]'),
    Case("attribute name with a dot", "custom_attribute.${address.city}", 'custom_attribute["address.city"]'),
    Case(
        "attribute name with a double quote", 'custom_attribute.${say "hi"}', "custom_attribute['say \"hi\"']"
    ),
    Case(
        "path after the attribute",
        "custom_attribute.${songs}[0].artist",
        'custom_attribute["songs"][0].artist',
    ),
    Case("braces inside a tag are dropped", "{{custom_attribute.${x}}} == 1", 'custom_attribute["x"] == 1'),
    Case("braces in a filter argument are dropped", "a | plus: {{b}}", "a | plus: b"),
    Case(
        "quoted strings are left alone",
        "'${first_name}' | append: \"{{x}}\"",
        "'${first_name}' | append: \"{{x}}\"",
    ),
    Case("template arguments keep their braces", "https://x/{{${user_id}}}", "https://x/{{user_id}}", True),
    Case("top-level name that is not an identifier", "${most recent}", '["most recent"]'),
]


@pytest.mark.parametrize("case", TRANSLATIONS, ids=[c.name for c in TRANSLATIONS])
def test_translate_expression(case: Case) -> None:
    assert translate_expression(case.braze, keep_output_braces=case.keep_output_braces) == case.standard


def test_a_name_with_both_quotes_is_rejected() -> None:
    with pytest.raises(ValueError, match="both kinds of quote"):
        translate_expression("custom_attribute.${a'b\"c}")


@dataclass
class LexCase:
    name: str
    source: str
    tokens: list[tuple[str, str]]


LEXING = [
    LexCase(
        "output with ${} closes after the third brace",
        "Hi {{${first_name}}}!",
        [("content", "Hi "), ("output", "{{${first_name}}}"), ("expression", "first_name"), ("content", "!")],
    ),
    LexCase(
        "nested output inside an output",
        "{{a | plus: {{b}}}}",
        [("output", "{{a | plus: {{b}}}}"), ("expression", "a | plus: b")],
    ),
    LexCase(
        "content block reference becomes a tag",
        "{{content_blocks.${footer v2}}}",
        [("tag", "content_blocks"), ("expression", "footer v2")],
    ),
    LexCase(
        "connected_content keeps its Liquid",
        "{% connected_content https://x/{{${user_id}}} :save r %}",
        [("tag", "connected_content"), ("expression", "https://x/{{user_id}} :save r")],
    ),
    LexCase(
        "liquid tag lines are translated one by one",
        "{% liquid\nassign a = {{${first_name}}}\nconnected_content https://x/{{${user_id}}}\n%}",
        [("tag", "liquid"), ("expression", "assign a = first_name\nconnected_content https://x/{{user_id}}")],
    ),
]


@pytest.mark.parametrize("case", LEXING, ids=[c.name for c in LEXING])
def test_tokenize(case: LexCase) -> None:
    assert [(t.kind, t.value) for t in tokenize(case.source)] == case.tokens


def test_expression_tokens_keep_their_position_in_the_original_source() -> None:
    source = "line one\n{% if custom_attribute.${x} == 1 %}"

    expression = next(t for t in tokenize(source) if t.kind == "expression")

    assert (expression.start_index, expression.source) == (source.index("custom"), source)
