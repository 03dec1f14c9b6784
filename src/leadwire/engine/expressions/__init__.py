"""The mapping language: a small, safe expression language for templates and route rules.

`{{ answers.email | trim | lower }}`, `{{ answers.full_name | split_name.first }}`,
`answers['What is your budget?'] | number >= 5000 and answers.email exists`. No code runs: a
tokenizer and a recursive-descent parser build a tree that is evaluated against plain data; there
are no loops, no calls but the formatters, and sizes are bounded. `docs/flows.md` has the
reference. Public surface: parse with `parse_template` / `parse_condition`, check with `check`,
evaluate with `render` / `Condition.holds` in an `Environment`.
"""

from leadwire.engine.expressions.checks import ROOTS, Finding, check
from leadwire.engine.expressions.errors import (
    EvaluationError,
    ExpressionError,
    ExpressionSyntaxError,
    FormatError,
    MappingError,
)
from leadwire.engine.expressions.evaluator import Environment, Tables, evaluate
from leadwire.engine.expressions.filters import FILTERS
from leadwire.engine.expressions.parser import parse_expression
from leadwire.engine.expressions.templates import (
    Condition,
    Template,
    parse_condition,
    parse_template,
    render,
)
from leadwire.engine.expressions.values import Scope, Value, is_empty, to_json, to_text

__all__ = [
    "FILTERS",
    "ROOTS",
    "Condition",
    "Environment",
    "EvaluationError",
    "ExpressionError",
    "ExpressionSyntaxError",
    "Finding",
    "FormatError",
    "MappingError",
    "Scope",
    "Tables",
    "Template",
    "Value",
    "check",
    "evaluate",
    "is_empty",
    "parse_condition",
    "parse_expression",
    "parse_template",
    "render",
    "to_json",
    "to_text",
]
