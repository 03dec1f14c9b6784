"""Evaluating a syntax tree against a context of plain values and the flow's look-up tables.

Names reach only the keys of the context's maps; a missing key is null (answers differ from form
to form) and null flows through keys and formatters, so `answers.phone | e164` of a lead without a
phone is null, not an error. Text comparisons ignore case, as a person reading answers would.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from leadwire.engine.expressions.errors import EvaluationError, shown
from leadwire.engine.expressions.filters import FILTERS
from leadwire.engine.expressions.nodes import (
    Attribute,
    Compare,
    Comparison,
    Concat,
    Exists,
    Filter,
    Index,
    ListLiteral,
    Literal,
    Name,
    Node,
    Not,
)
from leadwire.engine.expressions.values import (
    Scope,
    Value,
    checked_text,
    is_empty,
    is_true,
    to_text,
    type_name,
)

Tables = Mapping[str, Mapping[str, str]]


@dataclass(frozen=True)
class Environment:
    """What an expression may read: the context's root names and the flow's look-up tables."""

    scope: Scope
    tables: Tables = field(default_factory=dict)
    timezone: str = "UTC"  # `date` formats in it unless given `tz=`


def get_key(target: Value, key: str | int, where: str) -> Value:
    """Return `target[key]`: a map's key (exact, else ignoring case) or a list's item; else null."""
    if target is None:
        return None
    if isinstance(target, Mapping):
        if not isinstance(key, str):
            raise EvaluationError(f"a map's keys are text, not {shown(key)} ({where})")
        if key in target:
            return target[key]
        folded = key.casefold()
        return next((v for k, v in target.items() if k.casefold() == folded), None)
    if isinstance(target, list) and isinstance(key, int) and not isinstance(key, bool):
        return target[key] if -len(target) <= key < len(target) else None
    raise EvaluationError(f"cannot take {shown(key)} of a {type_name(target)} ({where})")


def _plain_number(value: Value) -> int | float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return value
    if isinstance(value, str):
        text = value.strip()
        try:
            return int(text) if text.lstrip("+-").isdigit() else float(text)
        except ValueError:
            return None
    return None


def equal(left: Value, right: Value) -> bool:
    """Return whether two values are equal: text ignoring case, `'5' == 5`, no `true == 1`."""
    if isinstance(left, bool) or isinstance(right, bool):
        return isinstance(left, bool) and isinstance(right, bool) and left is right
    if isinstance(left, str) and isinstance(right, str):
        return left.casefold() == right.casefold()
    if isinstance(left, int | float) or isinstance(right, int | float):
        a, b = _plain_number(left), _plain_number(right)
        return a is not None and b is not None and a == b
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(map(equal, left, right))
    return left == right


def _sign(left: Value, right: Value) -> int:
    """Return -1, 0 or 1 as `left` sorts before, with or after `right`."""
    if isinstance(left, int | float) or isinstance(right, int | float):
        a, b = _plain_number(left), _plain_number(right)
        if a is None or b is None:
            raise EvaluationError(
                f"cannot compare {type_name(left)} {shown(left)} with "
                f"{type_name(right)} {shown(right)}; use '| number' on answers like '$5,000'"
            )
        return (a > b) - (a < b)
    if isinstance(left, str) and isinstance(right, str):
        x, y = left.casefold(), right.casefold()
        return (x > y) - (x < y)
    if isinstance(left, datetime) and isinstance(right, datetime):
        try:
            return (left > right) - (left < right)
        except TypeError:  # one aware, one naive: never built by leadwire, refuse clearly
            raise EvaluationError("cannot order date-times with and without a zone") from None
    is_plain_date = not isinstance(left, datetime) and not isinstance(right, datetime)
    if isinstance(left, date) and isinstance(right, date) and is_plain_date:
        return (left > right) - (left < right)
    raise EvaluationError(f"cannot order a {type_name(left)} and a {type_name(right)}")


def _order(op: Comparison, left: Value, right: Value) -> bool:
    if left is None or right is None:
        return False
    sign = _sign(left, right)
    if op is Comparison.LT:
        return sign < 0
    if op is Comparison.LE:
        return sign <= 0
    if op is Comparison.GT:
        return sign > 0
    return sign >= 0


def contains(container: Value, item: Value) -> bool:
    """Return whether `container` holds `item`: a list's item, a text's part, a map's key."""
    if container is None or item is None:
        return False
    if isinstance(container, list):
        return any(equal(member, item) for member in container)
    if isinstance(container, str):
        return to_text(item).casefold() in container.casefold()
    if isinstance(container, Mapping):
        return get_key(container, to_text(item), "in") is not None
    raise EvaluationError(f"a {type_name(container)} cannot contain anything")


def compare(op: Comparison, left: Value, right: Value) -> bool:
    """Return the result of `left <op> right`."""
    if op is Comparison.EQ:
        return equal(left, right)
    if op is Comparison.NE:
        return not equal(left, right)
    if op is Comparison.IN:
        return contains(right, left)
    if op is Comparison.NOT_IN:
        return not contains(right, left)
    if op is Comparison.CONTAINS:
        return contains(left, right)
    if op in (Comparison.STARTS_WITH, Comparison.ENDS_WITH):
        if left is None or right is None:
            return False
        text, part = to_text(left).casefold(), to_text(right).casefold()
        return text.startswith(part) if op is Comparison.STARTS_WITH else text.endswith(part)
    return _order(op, left, right)


def _lookup(value: Value, table: Mapping[str, str], default: Value) -> Value:
    def one(item: Value) -> Value:
        found = get_key(table, to_text(item).strip(), "lookup")
        return default if found is None else found

    if isinstance(value, list):
        return [hit for hit in map(one, value) if hit is not None]
    return one(value)


def table_name(node: Node, env: Environment) -> str:
    """Return the table a `lookup` names: a bare name (`lookup(sources)`) or any text."""
    return node.name if isinstance(node, Name) else to_text(evaluate(node, env))


def _filter(node: Filter, env: Environment) -> Value:
    spec = FILTERS.get(node.name)
    if spec is None:
        raise EvaluationError(f"there is no formatter '{node.name}'")
    value = evaluate(node.value, env)
    if value is None and spec.keeps_null:
        return None
    names = spec.params
    if len(node.args) > len(names) or any(k not in names for k, _ in node.kwargs):
        raise EvaluationError(f"'{node.name}' takes ({', '.join(names)})")
    given = dict(zip(names, node.args, strict=False))
    if any(key in given for key, _ in node.kwargs):
        raise EvaluationError(f"'{node.name}' is given an argument twice")
    given |= dict(node.kwargs)
    if any(name not in given for name in names[: spec.required]):
        raise EvaluationError(f"'{node.name}' needs ({', '.join(names[: spec.required])})")
    if node.name == "lookup":
        name = table_name(given["table"], env)
        if name not in env.tables:
            raise EvaluationError(f"there is no look-up table '{name}'")
        default = evaluate(given["default"], env) if "default" in given else None
        return _lookup(value, env.tables[name], default)
    args = {key: evaluate(arg, env) for key, arg in given.items()}
    if node.name == "date":
        args.setdefault("tz", env.timezone)
    return spec.function(value, **args)


def evaluate(node: Node, env: Environment) -> Value:
    """Return the value of `node` in `env`; raises EvaluationError (or FormatError) only."""
    if isinstance(node, Literal):
        return node.value
    if isinstance(node, Name):
        if node.name not in env.scope:
            raise EvaluationError(f"there is no name '{node.name}'")
        return env.scope[node.name]
    if isinstance(node, Attribute):
        return get_key(evaluate(node.target, env), node.name, f".{node.name}")
    if isinstance(node, Index):
        key = evaluate(node.key, env)
        if not isinstance(key, str | int) or isinstance(key, bool):
            raise EvaluationError(f"{shown(key)} cannot be a key")
        return get_key(evaluate(node.target, env), key, f"[{key!r}]")
    if isinstance(node, Filter):
        return _filter(node, env)
    if isinstance(node, ListLiteral):
        return [evaluate(item, env) for item in node.items]
    if isinstance(node, Concat):
        return checked_text("".join(to_text(evaluate(part, env)) for part in node.parts))
    if isinstance(node, Compare):
        return compare(node.op, evaluate(node.left, env), evaluate(node.right, env))
    if isinstance(node, Exists):
        return not is_empty(evaluate(node.value, env))
    if isinstance(node, Not):
        return not is_true(evaluate(node.value, env))
    if node.op == "and":
        return all(is_true(evaluate(operand, env)) for operand in node.operands)
    return any(is_true(evaluate(operand, env)) for operand in node.operands)
