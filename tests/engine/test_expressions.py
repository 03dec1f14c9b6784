"""The expression language: the brief's examples, comparisons, errors with positions and fields."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from leadwire.engine.expressions import (
    Environment,
    EvaluationError,
    ExpressionSyntaxError,
    FormatError,
    MappingError,
    Value,
    check,
    parse_condition,
    parse_expression,
    parse_template,
    render,
)
from leadwire.engine.expressions.parser import MAX_DEPTH
from leadwire.engine.expressions.tokens import MAX_EXPRESSION_CHARS

SCOPE: dict[str, Value] = {
    "answers": {
        "email": "  Ada.Lovelace@Example.COM ",
        "full_name": "Ada  King Lovelace",
        "phone_number": "(512) 555-0142",
        "What is your budget?": "$12,500",
        "Which rooms?": ["Kitchen", "Bath"],
        "age": "34",
    },
    "lead": {
        "id": "7001",
        "created_time": datetime(2026, 3, 2, 3, 30, tzinfo=UTC),
        "is_test": False,
    },
    "pinterest": {"campaign": "Spring remodel", "ad": None},
    "const": {"region": "US"},
    "now": datetime(2026, 3, 2, 12, 0, tzinfo=UTC),
}
TABLES = {"rooms": {"kitchen": "kitchen-remodel", "Bath": "bathroom"}}
ENV = Environment(SCOPE, TABLES)


def value_of(template: str, env: Environment = ENV) -> Value:
    return render(parse_template(template), env)


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{{ answers.email | trim | lower }}", "ada.lovelace@example.com"),
        (
            "{{ lead.created_time | date('%Y-%m-%d', tz='America/New_York') }}",
            "2026-03-01",  # 03:30 UTC is the evening before in New York
        ),
        ("{{ answers['What is your budget?'] | default('unknown') }}", "$12,500"),
        ("{{ answers['How soon?'] | default('unknown') }}", "unknown"),
        ("{{ answers.full_name | split_name.first }}", "Ada"),
        ("{{ answers.full_name | split_name.last }}", "King Lovelace"),
        ("{{ answers.phone_number | e164(region='US') }}", "+15125550142"),
        ("{{ answers.phone_number | e164(region=const.region) }}", "+15125550142"),
        ("{{ answers['Which rooms?'] | lookup(rooms) }}", ["kitchen-remodel", "bathroom"]),
        ("{{ answers['Which rooms?'] | lookup('rooms') | first }}", "kitchen-remodel"),
        ("{{ answers['What is your budget?'] | number }}", 12500),
        ("{{ answers['Which rooms?'] | slug | prefix('room:') }}", ["room:kitchen", "room:bath"]),
        ("{{ pinterest.ad | slug | prefix('ad:') }}", None),
        ("Hi {{ answers.full_name | split_name.first }}!", "Hi Ada!"),
        ("{{ answers['Which rooms?'] }} and more", "Kitchen, Bath and more"),
        ("{{ 'a}}b' }}", "a}}b"),
        ("{{ '{{' }} literal", "{{ literal"),
        ("no expressions", "no expressions"),
        ("{{ answers.EMAIL | email }}", "Ada.Lovelace@example.com"),
        ("{{ 'x' ~ lead.id ~ 1.5 }}", "x70011.5"),
        ("{{ lead.created_time | date('iso') }}", "2026-03-02T03:30:00.000Z"),
        ("{{ answers.age | number }}", 34),
        ("{{ [1, 2, 3] | length }}", 3),
        ("{{ answers['Which rooms?'][1] }}", "Bath"),
        ("{{ answers['Which rooms?'][5] }}", None),
        ("{{ lead.missing.deeper | upper }}", None),
    ],
)
def test_templates_render(template: str, expected: Value) -> None:
    assert value_of(template) == expected


def test_date_uses_the_environment_time_zone_unless_given() -> None:
    env = Environment(SCOPE, TABLES, timezone="Asia/Tokyo")
    assert value_of("{{ lead.created_time | date('%H:%M %Z') }}", env) == "12:30 JST"
    assert value_of("{{ lead.created_time | date('%H:%M', tz='UTC') }}", env) == "03:30"


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("answers['What is your budget?'] | number > 10000", True),
        ("answers['What is your budget?'] | number <= 10000", False),
        ("answers.email exists and answers.fax exists", False),
        ("answers.email exists or answers.fax exists", True),
        ("not answers.fax exists", True),
        ("'kitchen' in answers['Which rooms?']", True),
        ("'garage' not in answers['Which rooms?']", True),
        ("answers['Which rooms?'] contains 'BATH'", True),
        (
            "answers.email | trim | starts_with 'ada'"
            if False
            else "answers.email starts_with '  ada'",
            True,
        ),
        ("answers.email | trim ends_with 'COM'", True),
        ("answers.age == 34", True),
        ("answers.age != '34'", False),
        ("lead.is_test == false", True),
        ("lead.is_test == 0", False),
        ("pinterest.campaign == 'spring REMODEL'", True),
        ("answers.age > 30 and (answers.age < 40)", True),
        ("lead.created_time < now", True),
        ("answers.fax > 3", False),
        ("'mod' in pinterest.campaign", True),
        ("'campaign' in pinterest", True),
        ("null == null", True),
        ("-1 < 0", True),
    ],
)
def test_conditions(condition: str, expected: bool) -> None:
    assert parse_condition(condition).holds(ENV) is expected


@pytest.mark.parametrize(
    ("source", "problem", "column"),
    [
        ("{{ answers.email | }}", "expected a formatter name after '|'", 20),
        ("{{ answers.email | trim( }}", "expected a value but found the end", 26),
        ("x {{ (a", "'{{' is never closed by '}}'", 3),
        ("{{ 'abc }}", "a string is never closed", 4),
        ("{{ a < b < c }}", "comparisons do not chain", 10),
        ("{{ }}", "holds no expression", 1),
        ("{{ a @ b }}", "unexpected character '@'", 6),
        ("{{ a b }}", "unexpected 'b'", 6),
        ("{{ 12ab }}", "a number runs into a name", 4),
        ("{{ 'a\\q' }}", "unknown escape", 6),
        ("{{ x | f(a=1, 2) }}", "a positional argument follows a named one", 15),
        ("{{ x | f(a=1, a=2) }}", "argument 'a' is given twice", 15),
    ],
)
def test_syntax_errors_name_the_position(source: str, problem: str, column: int) -> None:
    with pytest.raises(ExpressionSyntaxError) as caught:
        parse_template(source)
    assert problem in str(caught.value)
    assert caught.value.column == column, caught.value.excerpt()
    assert str(caught.value).endswith(f"at column {column}")
    line, caret = caught.value.excerpt().splitlines()
    assert caret.index("^") == column - 1
    assert line == source


def test_syntax_errors_in_multi_line_templates_name_line_and_column() -> None:
    with pytest.raises(ExpressionSyntaxError) as caught:
        parse_template("Campaign: {{ pinterest.campaign }}\nAd: {{ pinterest.ad | }}")
    assert str(caught.value).endswith("at line 2, column 23")
    assert (caught.value.line, caught.value.column) == (2, 23)


def test_nesting_and_length_are_bounded() -> None:
    deep = "(" * (MAX_DEPTH + 1) + "1" + ")" * (MAX_DEPTH + 1)
    with pytest.raises(ExpressionSyntaxError, match="nests deeper"):
        parse_expression(deep)
    parse_expression("(" * (MAX_DEPTH - 1) + "1" + ")" * (MAX_DEPTH - 1))
    with pytest.raises(ExpressionSyntaxError, match="longer than"):
        parse_expression("a" + " or a" * (MAX_EXPRESSION_CHARS // 5 + 1))
    with pytest.raises(ExpressionSyntaxError, match="nests deeper"):
        parse_expression("not " * (MAX_DEPTH + 1) + "true")


def test_text_growth_is_bounded() -> None:
    env = Environment({"answers": {"x": "a" * 5_000}})
    with pytest.raises(EvaluationError, match="grows beyond"):
        value_of("{{ answers.x | replace('a', 'aaaaaaaaaa') | replace('a', 'aaaaaaaaaa') }}", env)


def test_no_python_attribute_is_reachable() -> None:
    """Names reach map keys only: dunder names are just missing keys, and text has no keys."""
    assert value_of("{{ answers.__class__ }}") is None
    assert value_of("{{ lead['__dict__'] }}") is None
    with pytest.raises(EvaluationError, match="cannot take"):
        value_of("{{ answers.email.__class__ }}")
    with pytest.raises(EvaluationError, match="there is no name"):
        value_of("{{ __builtins__ }}")
    with pytest.raises(EvaluationError, match="no formatter"):
        value_of("{{ answers.email | eval }}")


def test_format_errors_carry_the_value_and_mapping_errors_name_the_field() -> None:
    env = Environment({"answers": {"phone": "12ab", "email": "not-an-address"}})
    with pytest.raises(FormatError) as caught:
        value_of("{{ answers.phone | e164(region='US') }}", env)
    assert caught.value.value == "12ab"
    error = MappingError("phone", caught.value.value, caught.value.reason)
    assert str(error) == "mapping phone: '12ab' is not a phone number for region US"
    with pytest.raises(FormatError) as caught:
        value_of("{{ answers.email | email }}", env)
    assert str(MappingError("email", caught.value.value, caught.value.reason)).startswith(
        "mapping email: 'not-an-address' is not an email address"
    )


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("{{ answers.email | e164(region='ZZ') }}", "has no region 'ZZ'"),
        ("{{ lead.created_time | date(tz='Mars/Olympus') }}", "is not a time zone"),
        ("{{ answers.email | number }}", "is not a number"),
        ("{{ answers.email > 3 }}", "cannot compare text"),
        ("{{ lead.created_time > 'x' }}", "cannot order a date-time and a text"),
        ("{{ answers | trim }}", "'trim' needs text, not a map"),
        ("{{ answers.email | lookup(nowhere) }}", "no look-up table 'nowhere'"),
        ("{{ 3 contains 1 }}", "cannot contain"),
        ("{{ answers.email | split('') }}", "non-empty separator"),
        ("{{ answers.email | truncate(-1) }}", "length of 0 or more"),
        ("{{ answers.email | date }}", "is not a date"),
    ],
)
def test_evaluation_errors_say_what_is_wrong(template: str, message: str) -> None:
    with pytest.raises(EvaluationError, match=message):
        value_of(template)


def test_single_expression_templates_keep_their_type() -> None:
    assert value_of("  {{ answers['Which rooms?'] }}\n") == ["Kitchen", "Bath"]
    assert value_of("{{ 5 }}") == 5
    assert value_of("{{ 5 }} ") == 5
    assert value_of("n={{ 5 }}") == "n=5"
    assert value_of("{{ lead.is_test }}") is False
    assert value_of("{{ lead.is_test }}!") == "false!"


def test_dates_from_text_and_epoch_milliseconds() -> None:
    env = Environment(
        {"answers": {"dob": "1990-09-25", "us": "09/25/1990", "ms": 1_772_422_200_000}}
    )
    assert value_of("{{ answers.dob | date('%d.%m.%Y') }}", env) == "25.09.1990"
    assert value_of("{{ answers.us | date }}", env) == "1990-09-25"
    assert value_of("{{ answers.ms | date('iso') }}", env) == "2026-03-02T03:30:00.000Z"
    assert value_of("{{ answers.dob | date('iso') }}", env) == "1990-09-25"
    assert value_of("{{ answers.dob | date < '1991-01-01' }}", env) is True
    assert render(parse_template("{{ d | date }}"), Environment({"d": date(2026, 1, 2)})) == (
        "2026-01-02"
    )


def test_checks_find_problems_without_a_lead() -> None:
    node = parse_expression(
        "answrs.x | lookup(nope) | e164(region='ZZ') | frob | date(tz='Mars/Base') "
        "| default | trim(1) | replace('a', new='b', old='c')"
    )
    messages = [finding.message for finding in check(node, tables=["rooms"])]
    assert messages[0].startswith("there is no name 'answrs'")
    assert messages[1] == "there is no look-up table 'nope' (rooms)"
    assert messages[2] == "'ZZ' is not a region (a country code)"
    assert messages[3].startswith("there is no formatter 'frob'")
    assert "is not a time zone" in messages[4]
    assert messages[5] == "'default' takes (fallback): 'fallback' is missing"
    assert messages[6] == "'trim' takes no arguments"
    assert messages[7] == "'replace' takes (old, new): 'old' is given twice"
    assert check(parse_expression("answers.rooms | lookup(rooms) | trim"), tables=["rooms"]) == []
    assert check(parse_expression("lookup"), tables=["lookup"])[0].message.startswith(
        "there is no name 'lookup'"
    )
