"""A recursive-descent parser for the expression language.

Grammar, loosest binding first (one comparison per level: `a < b < c` is an error)::

    expression := and ('or' and)*
    and        := not ('and' not)*
    not        := 'not' not | test
    test       := concat [('==' | '!=' | '<' | '<=' | '>' | '>=' | 'in' | 'not' 'in'
                           | 'contains' | 'starts_with' | 'ends_with') concat | 'exists']
    concat     := pipe ('~' pipe)*
    pipe       := postfix ('|' NAME ['(' arguments ')'] accessor*)*
    postfix    := primary accessor*
    accessor   := '.' NAME | '[' expression ']'
    primary    := NAME | STRING | ['-'] NUMBER | 'true' | 'false' | 'null'
                | '(' expression ')' | '[' [expression (',' expression)* [',']] ']'
    arguments  := [argument (',' argument)*]   argument := [NAME '='] expression

Nesting is bounded (`MAX_DEPTH`), so no input can exhaust the stack.
"""

from __future__ import annotations

from leadwire.engine.expressions.errors import ExpressionSyntaxError
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
    Logical,
    Name,
    Node,
    Not,
)
from leadwire.engine.expressions.tokens import Kind, Token, tokenize

MAX_DEPTH = 32
_COMPARISONS = {
    "==": Comparison.EQ,
    "!=": Comparison.NE,
    "<": Comparison.LT,
    "<=": Comparison.LE,
    ">": Comparison.GT,
    ">=": Comparison.GE,
    "in": Comparison.IN,
    "contains": Comparison.CONTAINS,
    "starts_with": Comparison.STARTS_WITH,
    "ends_with": Comparison.ENDS_WITH,
}
_CONSTANTS: dict[str, bool | None] = {"true": True, "false": False, "null": None}


class _Parser:
    def __init__(self, source: str, tokens: list[Token]) -> None:
        self.source = source
        self.tokens = tokens
        self.at = 0
        self.depth = 0

    @property
    def current(self) -> Token:
        return self.tokens[self.at]

    def fail(self, problem: str, token: Token | None = None) -> ExpressionSyntaxError:
        token = token or self.current
        return ExpressionSyntaxError(problem, self.source, token.position)

    def advance(self) -> Token:
        token = self.current
        if token.kind is not Kind.END:
            self.at += 1
        return token

    def is_at(self, text: str) -> bool:
        return self.current.kind in (Kind.OP, Kind.KEYWORD) and self.current.text == text

    def expect(self, text: str) -> Token:
        if not self.is_at(text):
            raise self.fail(f"expected '{text}' but found {self.current.describe()}")
        return self.advance()

    def enter(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.fail(f"the expression nests deeper than {MAX_DEPTH} levels")

    def expression(self) -> Node:
        self.enter()
        first = self.conjunction()
        operands = [first]
        while self.is_at("or"):
            self.advance()
            operands.append(self.conjunction())
        self.depth -= 1
        return (
            first if len(operands) == 1 else Logical("or", tuple(operands), first_position(first))
        )

    def conjunction(self) -> Node:
        first = self.negation()
        operands = [first]
        while self.is_at("and"):
            self.advance()
            operands.append(self.negation())
        return (
            first if len(operands) == 1 else Logical("and", tuple(operands), first_position(first))
        )

    def negation(self) -> Node:
        if self.is_at("not"):
            token = self.advance()
            self.enter()
            inner = self.negation()
            self.depth -= 1
            return Not(inner, token.position)
        return self.test()

    def test(self) -> Node:
        left = self.concat()
        token = self.current
        if self.is_at("exists"):
            self.advance()
            return Exists(left, token.position)
        if self.is_at("not"):
            self.advance()
            self.expect("in")
            return Compare(Comparison.NOT_IN, left, self.concat(), token.position)
        op = _COMPARISONS.get(token.text) if token.kind in (Kind.OP, Kind.KEYWORD) else None
        if op is None:
            return left
        self.advance()
        right = self.concat()
        after = self.current
        if after.kind in (Kind.OP, Kind.KEYWORD) and (
            after.text in _COMPARISONS or after.text == "exists"
        ):
            raise self.fail("comparisons do not chain; join them with 'and'")
        return Compare(op, left, right, token.position)

    def concat(self) -> Node:
        first = self.pipe()
        parts = [first]
        while self.is_at("~"):
            self.advance()
            parts.append(self.pipe())
        return first if len(parts) == 1 else Concat(tuple(parts), first_position(first))

    def pipe(self) -> Node:
        value = self.postfix(self.primary())
        while self.is_at("|"):
            self.advance()
            name = self.current
            if name.kind is not Kind.NAME:
                raise self.fail(f"expected a formatter name after '|' but found {name.describe()}")
            self.advance()
            args: list[Node] = []
            kwargs: list[tuple[str, Node]] = []
            if self.is_at("("):
                self.arguments(args, kwargs)
            value = self.postfix(
                Filter(value, name.text, tuple(args), tuple(kwargs), name.position)
            )
        return value

    def arguments(self, args: list[Node], kwargs: list[tuple[str, Node]]) -> None:
        self.expect("(")
        while not self.is_at(")"):
            after = self.tokens[self.at + 1] if self.at + 1 < len(self.tokens) else self.current
            if self.current.kind is Kind.NAME and after.text == "=" and after.kind is Kind.OP:
                key = self.advance()
                self.advance()
                if any(existing == key.text for existing, _ in kwargs):
                    raise self.fail(f"argument '{key.text}' is given twice", key)
                kwargs.append((key.text, self.expression()))
            elif kwargs:
                raise self.fail("a positional argument follows a named one")
            else:
                args.append(self.expression())
            if not self.is_at(")"):
                self.expect(",")
        self.advance()

    def postfix(self, node: Node) -> Node:
        while True:
            token = self.current
            if self.is_at("."):
                self.advance()
                name = self.current
                if name.kind not in (Kind.NAME, Kind.KEYWORD):
                    raise self.fail(f"expected a name after '.' but found {name.describe()}")
                self.advance()
                node = Attribute(node, name.text, token.position)
            elif self.is_at("["):
                self.advance()
                key = self.expression()
                self.expect("]")
                node = Index(node, key, token.position)
            else:
                return node

    def primary(self) -> Node:
        token = self.advance()
        if token.kind is Kind.NAME:
            return Name(token.text, token.position)
        if token.kind is Kind.STRING:
            return Literal(token.text, token.position)
        if token.kind is Kind.NUMBER:
            return Literal(number(token.text), token.position)
        if token.kind is Kind.KEYWORD and token.text in _CONSTANTS:
            return Literal(_CONSTANTS[token.text], token.position)
        if token.kind is Kind.OP and token.text == "-" and self.current.kind is Kind.NUMBER:
            return Literal(-number(self.advance().text), token.position)
        if token.kind is Kind.OP and token.text == "(":
            inner = self.expression()
            self.expect(")")
            return inner
        if token.kind is Kind.OP and token.text == "[":
            self.enter()
            items: list[Node] = []
            while not self.is_at("]"):
                items.append(self.expression())
                if not self.is_at("]"):
                    self.expect(",")
            self.advance()
            self.depth -= 1
            return ListLiteral(tuple(items), token.position)
        raise self.fail(f"expected a value but found {token.describe()}", token)


def number(text: str) -> int | float:
    """Return a number token's value (int unless it has a fraction)."""
    return float(text) if "." in text else int(text)


def first_position(node: Node) -> int:
    """Return where `node` starts in the source."""
    while isinstance(node, Attribute | Index | Filter):
        node = node.target if isinstance(node, Attribute | Index) else node.value
    return node.position


def parse_tokens(source: str, tokens: list[Token]) -> Node:
    """Parse one expression from `tokens` (which end with END)."""
    parser = _Parser(source, tokens)
    if parser.current.kind is Kind.END:
        raise parser.fail("the expression is empty")
    node = parser.expression()
    rest = parser.tokens[parser.at]
    if rest.kind is not Kind.END:
        raise parser.fail(f"unexpected {rest.describe()}")
    return node


def parse_expression(source: str) -> Node:
    """Parse an expression such as a route rule: `answers.budget | number > 5000`."""
    tokens, _ = tokenize(source)
    return parse_tokens(source, tokens)
