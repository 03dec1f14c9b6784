"""The syntax tree of an expression: small frozen nodes, each with its offset in the source."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum


class Comparison(StrEnum):
    """Binary tests of route rules and filters."""

    EQ = "=="
    NE = "!="
    LT = "<"
    LE = "<="
    GT = ">"
    GE = ">="
    IN = "in"
    NOT_IN = "not in"
    CONTAINS = "contains"
    STARTS_WITH = "starts_with"
    ENDS_WITH = "ends_with"


@dataclass(frozen=True, slots=True)
class Literal:
    """A constant: string, number, true, false or null."""

    value: str | int | float | bool | None
    position: int


@dataclass(frozen=True, slots=True)
class ListLiteral:
    """`[a, b, c]`."""

    items: tuple[Node, ...]
    position: int


@dataclass(frozen=True, slots=True)
class Name:
    """A root name of the context: `answers`, `lead`, `pinterest`, `contact`, `const`, `now`."""

    name: str
    position: int


@dataclass(frozen=True, slots=True)
class Attribute:
    """`target.name`: a key of a mapping (never an attribute of a Python object)."""

    target: Node
    name: str
    position: int


@dataclass(frozen=True, slots=True)
class Index:
    """`target[key]`: a key of a mapping or a position in a list."""

    target: Node
    key: Node
    position: int


@dataclass(frozen=True, slots=True)
class Filter:
    """`value | name(args, key=arg)`."""

    value: Node
    name: str
    args: tuple[Node, ...]
    kwargs: tuple[tuple[str, Node], ...]
    position: int


@dataclass(frozen=True, slots=True)
class Concat:
    """`a ~ b ~ c`: the parts as text, joined."""

    parts: tuple[Node, ...]
    position: int


@dataclass(frozen=True, slots=True)
class Compare:
    """`left <op> right`."""

    op: Comparison
    left: Node
    right: Node
    position: int


@dataclass(frozen=True, slots=True)
class Exists:
    """`value exists`: not null, not empty text, not an empty list."""

    value: Node
    position: int


@dataclass(frozen=True, slots=True)
class Not:
    """`not value`."""

    value: Node
    position: int


@dataclass(frozen=True, slots=True)
class Logical:
    """`a and b and c` / `a or b or c`."""

    op: str
    operands: tuple[Node, ...]
    position: int


Node = (
    Literal
    | ListLiteral
    | Name
    | Attribute
    | Index
    | Filter
    | Concat
    | Compare
    | Exists
    | Not
    | Logical
)


def children(node: Node) -> Iterator[Node]:
    """Yield the direct children of `node`."""
    if isinstance(node, ListLiteral):
        yield from node.items
    elif isinstance(node, Attribute):
        yield node.target
    elif isinstance(node, Index):
        yield node.target
        yield node.key
    elif isinstance(node, Filter):
        yield node.value
        yield from node.args
        yield from (value for _, value in node.kwargs)
    elif isinstance(node, Concat):
        yield from node.parts
    elif isinstance(node, Compare):
        yield node.left
        yield node.right
    elif isinstance(node, Exists | Not):
        yield node.value
    elif isinstance(node, Logical):
        yield from node.operands


def walk(node: Node) -> Iterator[Node]:
    """Yield `node` and every node under it."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(children(current))
