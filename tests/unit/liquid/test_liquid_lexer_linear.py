"""The Braze Liquid lexer is linear on any input and equal to its regex specification.

``engagekit.liquid.syntax.RULES`` (python-liquid's rules with Braze's output statement) is the
specification, but a backtracking engine needs up to cubic time on it (``"{{" * 5000`` took
minutes). ``_Lexer`` makes the same decisions in O(n log n); these tests bound its work by an
operation count (``_Lexer.steps``), not by wall time, and compare it with the specification on
random inputs small enough for the regex.
"""

from __future__ import annotations

import random
import re
import time
from dataclasses import dataclass
from typing import cast

import pytest
from engagekit.liquid import Renderer, SyntaxProblem
from engagekit.liquid.syntax import (
    _IDENTIFIER,
    _SCAN,
    MAX_TEMPLATE_BYTES,
    RULES,
    _key,
    _Lexer,
    tokenize,
    translate_expression,
)
from engagekit.liquid.tags import _ABORT_ARGS, _MASK, _abort_args, _mask
from liquid.exceptions import LiquidSyntaxError
from liquid.lex import _tokenize_template

STEPS_PER_CHAR = 8
"""Measured worst case is about 5 scanner steps per character (``"{{" * n``)."""


@dataclass
class Adversarial:
    name: str
    source: str
    error: str | None  # LiquidSyntaxError message, None when it lexes


ADVERSARIAL = [
    Adversarial("'{{' x 5000", "{{" * 5000, "expected '}}', found end of file"),
    Adversarial("'{%' x 5000", "{%" * 5000, "missing tag name or closing delimiter"),
    Adversarial("'{{${' x 3000", "{{${" * 3000, "expected '}}', found end of file"),
    Adversarial("'{{ {{ ${ ' x 3000", "{{ {{ ${ " * 3000, "expected '}}', found end of file"),
    Adversarial("unclosed tags '{% a ' x 3000", "{% a " * 3000, "missing tag name or closing delimiter"),
    Adversarial("unclosed raw x 2000", "{% raw %}x" * 2000, None),
    Adversarial("unclosed doc x 2000", "{% doc %}x" * 2000, None),
    Adversarial("nested braces 1000 deep, closed", "{{" * 1000 + "x" + "}}" * 1000, None),
    Adversarial(
        "nested braces 1000 deep, never closed", "{{" * 1000 + "x", "expected '}}', found end of file"
    ),
    Adversarial("'${' x 3000 inside one tag", "{% if " + "${" * 3000 + " %}", None),
    Adversarial("unclosed quotes inside one output", "{{ x | append: " + "'\"" * 3000 + " }}", None),
    Adversarial("'-}' x 4000", "{{" + "-}" * 4000, "expected '}}', found end of file"),
    Adversarial("whitespace runs", "{{" + " " * 20_000, "expected '}}', found end of file"),
]


def _lex(source: str) -> tuple[_Lexer, list[tuple[str, str, int]] | str]:
    lexer = _Lexer(source)
    try:
        tokens = [
            (t.kind, t.value, t.start_index) for t in _tokenize_template(source, cast(re.Pattern[str], lexer))
        ]
    except LiquidSyntaxError as err:
        return lexer, str(err.message)
    return lexer, tokens


@pytest.mark.parametrize("case", ADVERSARIAL, ids=[c.name for c in ADVERSARIAL])
def test_adversarial_input_is_lexed_in_linear_steps(case: Adversarial) -> None:
    lexer, result = _lex(case.source)

    assert lexer.steps <= STEPS_PER_CHAR * len(case.source) + 10
    if case.error is None:
        assert isinstance(result, list)
    else:
        assert result == case.error


@pytest.mark.parametrize("case", ADVERSARIAL, ids=[c.name for c in ADVERSARIAL])
def test_adversarial_input_through_the_whole_tokenizer(case: Adversarial) -> None:
    """``tokenize`` (lexer + Braze expression rewriting) returns or raises; no hang, no crash."""
    try:
        tokens = list(tokenize(case.source))
    except LiquidSyntaxError as err:
        assert case.error is not None and str(err.message) == case.error
    else:
        assert tokens


def test_steps_grow_linearly_with_input_size() -> None:
    small, _ = _lex("{{${" * 500)
    large, _ = _lex("{{${" * 5000)

    assert large.steps <= 11 * small.steps


def _old_translate(expression: str, keep: bool) -> str:
    """``translate_expression`` as it was: ``_SCAN.sub`` (the specification)."""
    if "${" not in expression and "{{" not in expression:
        return expression

    def replace(match: re.Match[str]) -> str:
        if match.group("quoted") is not None:
            return match.group(0)
        name = match.group("name")
        if name is not None:
            name = name.strip()
            return _key(name) if match.group("dot") or not _IDENTIFIER.fullmatch(name) else name
        return match.group(0) if keep else ""

    return _SCAN.sub(replace, expression)


FRAGMENTS = [
    "{{", "}}", "{%", "%}", "${", "}", "{", "-", "-}}", " ", "\n", "\t", "a", "'", '"', ".", "$", "#",
    "raw", "endraw", "{% raw %}", "{%- endraw -%}", "{% doc %}", "{% enddoc %}",
    "{% comment %}", "{% endcomment %}", "x.${a b}",
]  # fmt: skip


def _random_sources(seed: int, count: int) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choice(FRAGMENTS) for _ in range(rng.randint(0, 14))) for _ in range(count)]


@pytest.mark.parametrize("seed", range(4))
def test_lexer_equals_the_regex_specification_on_random_input(seed: int) -> None:
    for source in _random_sources(seed, 2500):
        try:
            expected: object = [(t.kind, t.value, t.start_index) for t in _tokenize_template(source, RULES)]
        except LiquidSyntaxError as err:
            expected = str(err.message)
        assert _lex(source)[1] == expected, source


@pytest.mark.parametrize("seed", range(4))
def test_translate_expression_equals_the_regex_specification_on_random_input(seed: int) -> None:
    for source in _random_sources(100 + seed, 2500):
        for keep in (False, True):
            try:
                expected = _old_translate(source, keep)
            except ValueError as err:
                expected = f"error: {err}"
            try:
                got = translate_expression(source, keep_output_braces=keep)
            except ValueError as err:
                got = f"error: {err}"
            assert got == expected, (source, keep)


@dataclass
class SizeCase:
    name: str
    source: str
    refused: bool


SIZES = [
    SizeCase("at the cap", "a" * MAX_TEMPLATE_BYTES, False),
    SizeCase("one byte over", "a" * (MAX_TEMPLATE_BYTES + 1), True),
    SizeCase("multi-byte characters counted as UTF-8 bytes", "é" * (MAX_TEMPLATE_BYTES // 2 + 1), True),
]


@pytest.mark.parametrize("case", SIZES, ids=[c.name for c in SIZES])
def test_template_size_cap_is_checked_before_lexing(case: SizeCase) -> None:
    result = Renderer().render(case.source, None)

    if case.refused:
        assert isinstance(result, SyntaxProblem)
        assert result.message == f"template is over {MAX_TEMPLATE_BYTES} bytes"
        assert (result.line, result.column) == (1, 1)
    else:
        assert not isinstance(result, SyntaxProblem)


TAG_FRAGMENTS = ["{{", "}}", "{%", "%}", "{", "}", "%", " ", "\n", "(", ")", "'", '"', "a", ":save", "x"]


@pytest.mark.parametrize("seed", range(2))
def test_tag_argument_scanners_equal_their_regex_specifications(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(4000):
        text = "".join(rng.choice(TAG_FRAGMENTS) for _ in range(rng.randint(0, 12)))
        assert _mask(text, lambda part: "x" * len(part)) == _MASK.sub(
            lambda m: "x" * len(m.group(0)), text
        ), text
        match = _ABORT_ARGS.fullmatch(text)
        assert _abort_args(text) == ((True, match.group("reason")) if match else (False, None)), text


@dataclass
class TagCase:
    name: str
    source: str


ADVERSARIAL_TAGS = [
    TagCase("connected_content URL of {{ x 20000", "{% connected_content https://x/" + "{{" * 20_000 + " %}"),
    TagCase("abort_message with 100000 spaces", "{% abort_message(" + " " * 100_000 + "x %}"),
]


@pytest.mark.parametrize("case", ADVERSARIAL_TAGS, ids=[c.name for c in ADVERSARIAL_TAGS])
def test_adversarial_tag_arguments_are_refused_promptly(case: TagCase) -> None:
    """Both were quadratic regex scans (about 30 s and 50 s at these sizes); the 5 s bound is generous."""
    started = time.perf_counter()
    result = Renderer().render(case.source, None)

    assert isinstance(result, SyntaxProblem)
    assert time.perf_counter() - started < 5.0
