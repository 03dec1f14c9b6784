"""Templates: text with `{{ expression }}` parts, and conditions (a bare expression).

A template that is one `{{ expression }}` and nothing else (whitespace aside) renders to the
expression's own value — a list stays a list, a number a number — so `tags: "{{ answers.topics }}"`
gives several tags and a custom field gets a number. Any other template renders to text. A literal
`{{` is written `{{ '{{' }}`.
"""

from __future__ import annotations

from dataclasses import dataclass

from leadwire.engine.expressions.errors import ExpressionSyntaxError
from leadwire.engine.expressions.evaluator import Environment, evaluate
from leadwire.engine.expressions.nodes import Attribute, Index, Literal, Name, Node, walk
from leadwire.engine.expressions.parser import parse_expression, parse_tokens
from leadwire.engine.expressions.tokens import tokenize
from leadwire.engine.expressions.values import Value, checked_text, is_true, to_text

MAX_TEMPLATE_CHARS = 20_000
OPEN, CLOSE = "{{", "}}"


@dataclass(frozen=True, slots=True)
class Part:
    """One `{{ expression }}` of a template: its tree and where its text starts."""

    node: Node
    position: int


@dataclass(frozen=True)
class Template:
    """A parsed template: literal text and expression parts, in order."""

    source: str
    parts: tuple[str | Part, ...]

    @property
    def expressions(self) -> tuple[Part, ...]:
        """Return the expression parts."""
        return tuple(part for part in self.parts if isinstance(part, Part))

    @property
    def single(self) -> Part | None:
        """Return the one expression if the template is nothing else (whitespace aside)."""
        found = self.expressions
        texts = [part for part in self.parts if isinstance(part, str)]
        if len(found) == 1 and all(not text.strip() for text in texts):
            return found[0]
        return None

    def uses(self, root: str, key: str) -> bool:
        """Return whether the template reads `root.key` (e.g. `contact.id`)."""
        return any(reads(part.node, root, key) for part in self.expressions)


def reads(node: Node, root: str, key: str) -> bool:
    """Return whether `node` reads `root.key` or `root['key']` anywhere."""
    for item in walk(node):
        is_key = (isinstance(item, Attribute) and item.name == key) or (
            isinstance(item, Index) and isinstance(item.key, Literal) and item.key.value == key
        )
        if is_key and isinstance(item, Attribute | Index):
            target = item.target
            if isinstance(target, Name) and target.name == root:
                return True
    return False


def parse_template(source: str) -> Template:
    """Parse a template; ExpressionSyntaxError names the position of the first problem."""
    if len(source) > MAX_TEMPLATE_CHARS:
        raise ExpressionSyntaxError(
            f"a template is longer than {MAX_TEMPLATE_CHARS} characters", source, 0
        )
    parts: list[str | Part] = []
    at = 0
    while True:
        opening = source.find(OPEN, at)
        if opening < 0:
            if at < len(source):
                parts.append(source[at:])
            return Template(source, tuple(parts))
        if opening > at:
            parts.append(source[at:opening])
        tokens, at = tokenize(source, opening + len(OPEN), in_template=True)
        if len(tokens) == 1:
            raise ExpressionSyntaxError("'{{ }}' holds no expression", source, opening)
        parts.append(Part(parse_tokens(source, tokens), tokens[0].position))


def render(template: Template, env: Environment) -> Value:
    """Return the template's value in `env` (see the module doc for when it is not text)."""
    single = template.single
    if single is not None:
        return evaluate(single.node, env)
    pieces = [
        part if isinstance(part, str) else to_text(evaluate(part.node, env))
        for part in template.parts
    ]
    return checked_text("".join(pieces))


@dataclass(frozen=True)
class Condition:
    """A parsed condition (a route rule, a filter): an expression judged true or false."""

    source: str
    node: Node

    def holds(self, env: Environment) -> bool:
        """Return whether the condition is true in `env`."""
        return is_true(evaluate(self.node, env))


def parse_condition(source: str) -> Condition:
    """Parse a condition such as `answers.budget | number >= 5000 and answers.email exists`."""
    return Condition(source, parse_expression(source))
