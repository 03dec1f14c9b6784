"""Properties of the expression language over random input (hypothesis)."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime

import phonenumbers
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from leadwire.engine.expressions import (
    FILTERS,
    Environment,
    EvaluationError,
    ExpressionError,
    ExpressionSyntaxError,
    FormatError,
    Value,
    evaluate,
    parse_expression,
    parse_template,
    render,
)
from leadwire.engine.expressions.evaluator import equal
from leadwire.engine.expressions.filters import e164, number, split_name

SCOPE: dict[str, Value] = {
    "answers": {
        "email": " A@Example.com ",
        "rooms": ["Kitchen", "Bath"],
        "budget": "$1,200",
        "age": "41",
        "name": "Grace Brewster Hopper",
    },
    "lead": {"id": "1", "created_time": datetime(2026, 1, 2, tzinfo=UTC), "is_test": True},
    "pinterest": {"campaign": None},
    "contact": {"id": "{contact_id}"},
    "const": {"n": 3},
    "now": datetime(2026, 1, 3, tzinfo=UTC),
}
ENV = Environment(SCOPE, {"t": {"kitchen": "k"}})

LANGUAGE_CHARS = list("{}()[]|.,'\"=!<>~-_ :\n\\0123456789abcxyz")
WORDS = [
    *LANGUAGE_CHARS,
    "{{",
    "}}",
    "and",
    "or",
    "not",
    "in",
    "contains",
    "starts_with",
    "exists",
    "true",
    "null",
    "answers",
    "lead",
    "contact",
    "now",
    "const",
    ".email",
    ".rooms",
    "['age']",
    "'x'",
    "12",
    "-3.5",
    *(f"| {name}" for name in FILTERS),
    "| e164(region='US')",
    "| lookup(t)",
    "| date('%Y', tz='UTC')",
    "| default('d')",
]


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=st.one_of(st.sampled_from(LANGUAGE_CHARS), st.characters()), max_size=80))
def test_the_parser_raises_only_its_own_error_on_random_text(text: str) -> None:
    for parse in (parse_template, parse_expression):
        position = 0
        try:
            parse(text)
        except ExpressionSyntaxError as exc:
            position = exc.position
        assert 0 <= position <= len(text)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(WORDS), max_size=14))
def test_random_token_soup_parses_or_fails_cleanly_and_evaluates_safely(words: list[str]) -> None:
    """Whatever parses evaluates to a value or raises the language's own error, nothing else."""
    source = " ".join(words)
    try:
        node = parse_expression(source)
    except ExpressionSyntaxError:
        return
    with contextlib.suppress(ExpressionError):
        evaluate(node, ENV)


_names = st.sampled_from(
    [
        "answers.email",
        "answers.rooms",
        "answers['age']",
        "lead.created_time",
        "lead.is_test",
        "pinterest.campaign",
        "const.n",
        "answers.name",
        "now",
    ]
)
_literals = st.one_of(
    st.integers(-1000, 1000).map(str),
    st.sampled_from(["'kitchen'", "'A'", "null", "true", "['x', 'Bath']", "''", "0.5"]),
)
_filters = st.sampled_from(
    [
        "trim",
        "lower",
        "upper",
        "title",
        "slug",
        "digits",
        "string",
        "default('z')",
        "split_name",
        "split_name.first",
        "e164",
        "email",
        "date",
        "number",
        "lookup(t)",
        "join('-')",
        "split",
        "replace('a', 'b')",
        "truncate(3)",
        "first",
        "last",
        "length",
        "prefix('p:')",
        "suffix('!')",
    ]
)


@st.composite
def expressions(draw: st.DrawFn, depth: int = 0) -> str:
    """Draw a well-formed expression of the language."""
    atom = draw(st.one_of(_names, _literals))
    for name in draw(st.lists(_filters, max_size=3)):
        atom = f"{atom} | {name}"
    if depth >= 2 or draw(st.booleans()):
        return atom
    other = draw(expressions(depth + 1))
    op = draw(
        st.sampled_from(
            ["==", "!=", "<", ">=", "in", "not in", "contains", "starts_with", "and", "or", "~"]
        )
    )
    form = draw(st.sampled_from(["{a} {op} ({b})", "not ({a} {op} ({b}))", "({a}) exists"]))
    return form.format(a=atom, op=op, b=other)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(expressions())
def test_well_formed_expressions_always_parse_and_evaluate_safely(source: str) -> None:
    node = parse_expression(source)
    template = parse_template("{{ " + source + " }}")
    with contextlib.suppress(ExpressionError):
        assert evaluate(node, ENV) == render(template, ENV)


_REGIONS = sorted(
    region
    for region in phonenumbers.SUPPORTED_REGIONS
    if phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
)


@settings(max_examples=300)
@given(
    st.sampled_from(_REGIONS),
    st.sampled_from(
        [
            phonenumbers.PhoneNumberFormat.E164,
            phonenumbers.PhoneNumberFormat.INTERNATIONAL,
            phonenumbers.PhoneNumberFormat.NATIONAL,
            phonenumbers.PhoneNumberFormat.RFC3966,
        ]
    ),
    st.sampled_from([phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE]),
)
def test_e164_round_trips_valid_numbers(region: str, style: int, kind: int) -> None:
    example = phonenumbers.example_number_for_type(region, kind)
    assume(example is not None and phonenumbers.is_valid_number(example))
    expected = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
    written = phonenumbers.format_number(example, style)
    assert e164(written, region) == expected
    assert e164(expected, "US") == expected, "a number with + is read whatever the region"
    assert e164(e164(written, region), region) == expected


@given(st.text(alphabet="0123456789abc-() ", max_size=12))
def test_e164_refuses_what_is_not_a_valid_number(text: str) -> None:
    try:
        result = e164(text, "US")
    except FormatError as exc:
        refused = (exc.value, exc.reason)
    else:
        assert isinstance(result, str)
        assert phonenumbers.is_valid_number(phonenumbers.parse(result))
        return
    assert refused == (text, "is not a phone number for region US")


@given(st.text(max_size=60))
def test_trim_lower_and_slug_are_idempotent(text: str) -> None:
    for name in ("trim", "lower", "slug", "digits"):
        once = FILTERS[name].function(text)
        assert FILTERS[name].function(once) == once, name
    assert FILTERS["trim"].function(["  a ", text]) == ["a", text.strip()]


_word = st.text(alphabet=st.characters(categories=("Lu", "Ll", "Lo")), min_size=1, max_size=10)


@given(st.lists(_word, min_size=2, max_size=4), st.sampled_from([" ", "  ", "\t", " \n "]))
def test_split_name_splits_first_word_from_the_rest(words: list[str], gap: str) -> None:
    parts = split_name(gap.join(words))
    assert isinstance(parts, dict)
    assert parts["first"] == words[0]
    assert parts["last"] == " ".join(words[1:])
    assert f"{parts['first']} {parts['last']}" == " ".join(words)


@given(_word, _word)
def test_split_name_reads_last_comma_first(first: str, last: str) -> None:
    assert split_name(f"{last}, {first}") == {"first": first, "last": last}
    assert split_name(f"  {first} ") == {"first": first, "last": None}


@given(st.integers(-(10**12), 10**12))
def test_number_reads_grouped_and_currency_text(value: int) -> None:
    assert number(f"{value:,}") == value
    assert number(f"${value}") == value
    assert number(str(value)) == value


@given(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.text(max_size=5),
        st.lists(st.text(max_size=3), max_size=3),
    ),
    st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=5)),
)
def test_equality_is_symmetric_and_membership_agrees(a: Value, b: Value) -> None:
    assert equal(a, b) == equal(b, a)
    assert equal(a, a)
    env = Environment({"a": a, "b": b})
    try:
        found = evaluate(parse_expression("a in [b]"), env)
    except EvaluationError:  # pragma: no cover - a list can hold anything
        pytest.fail("membership in a list never fails")
    assert found == (a is not None and b is not None and equal(a, b))
