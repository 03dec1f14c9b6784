"""The tokenizer: expression text to tokens, each with its offset in the source.

Inside a template the tokenizer starts after `{{` and stops at the first `}}` outside a string
literal, so `{{ 'a}}b' }}` is one expression. Nothing here raises anything but
`ExpressionSyntaxError`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from leadwire.engine.expressions.errors import ExpressionSyntaxError

MAX_EXPRESSION_CHARS = 2_000


class Kind(StrEnum):
    """Token kinds."""

    NAME = "name"
    STRING = "string"
    NUMBER = "number"
    OP = "operator"
    KEYWORD = "keyword"
    END = "end"


KEYWORDS = frozenset(
    {
        "and",
        "or",
        "not",
        "in",
        "contains",
        "starts_with",
        "ends_with",
        "exists",
        "true",
        "false",
        "null",
    }
)
# Longest first, so `==` is not read as `=` `=`.
OPERATORS = ("==", "!=", "<=", ">=", "<", ">", "=", "|", ".", ",", "(", ")", "[", "]", "~", "-")
_DIGITS = frozenset("0123456789")
ESCAPES = {"\\": "\\", "'": "'", '"': '"', "n": "\n", "t": "\t"}


@dataclass(frozen=True, slots=True)
class Token:
    """One token: its kind, its text (a string literal's decoded value) and where it starts."""

    kind: Kind
    text: str
    position: int

    def describe(self) -> str:
        """Return the token as an error message names it."""
        if self.kind is Kind.END:
            return "the end of the expression"
        if self.kind is Kind.STRING:
            return f"the string {self.text!r}"
        return f"'{self.text}'"


def _is_name_start(char: str) -> bool:
    return char.isascii() and (char.isalpha() or char == "_")


def _is_name_char(char: str) -> bool:
    return char.isascii() and (char.isalnum() or char == "_")


class _Scanner:
    def __init__(self, source: str, start: int, *, in_template: bool) -> None:
        self.source = source
        self.at = start
        self.start = start
        self.in_template = in_template

    def fail(self, problem: str, position: int) -> ExpressionSyntaxError:
        return ExpressionSyntaxError(problem, self.source, position)

    def string(self, quote: str) -> Token:
        begin = self.at
        self.at += 1
        chars: list[str] = []
        while self.at < len(self.source):
            char = self.source[self.at]
            if char == quote:
                self.at += 1
                return Token(Kind.STRING, "".join(chars), begin)
            if char == "\\":
                escaped = self.source[self.at + 1 : self.at + 2]
                if escaped not in ESCAPES:
                    raise self.fail(f"unknown escape '\\{escaped}' in a string", self.at)
                chars.append(ESCAPES[escaped])
                self.at += 2
                continue
            chars.append(char)
            self.at += 1
        raise self.fail("a string is never closed", begin)

    def digits(self) -> None:
        while self.at < len(self.source) and self.source[self.at] in _DIGITS:
            self.at += 1

    def number(self) -> Token:
        begin = self.at
        self.digits()
        if self.source[self.at : self.at + 1] == "." and (
            self.source[self.at + 1 : self.at + 2] in _DIGITS
        ):
            self.at += 1
            self.digits()
        if self.at < len(self.source) and _is_name_char(self.source[self.at]):
            raise self.fail("a number runs into a name", begin)
        return Token(Kind.NUMBER, self.source[begin : self.at], begin)

    def name(self) -> Token:
        begin = self.at
        while self.at < len(self.source) and _is_name_char(self.source[self.at]):
            self.at += 1
        text = self.source[begin : self.at]
        return Token(Kind.KEYWORD if text in KEYWORDS else Kind.NAME, text, begin)

    def next(self) -> Token | None:
        """Return the next token; None when a template's `}}` is reached (consumed)."""
        while self.at < len(self.source) and self.source[self.at] in " \t\r\n":
            self.at += 1
        if self.at - self.start > MAX_EXPRESSION_CHARS:
            raise self.fail(
                f"an expression is longer than {MAX_EXPRESSION_CHARS} characters", self.start
            )
        if self.at >= len(self.source):
            if self.in_template:
                raise self.fail("'{{' is never closed by '}}'", self.start - 2)
            return Token(Kind.END, "", self.at)
        char = self.source[self.at]
        if self.in_template and self.source.startswith("}}", self.at):
            self.at += 2
            return None
        if char in "'\"":
            return self.string(char)
        if char in _DIGITS:
            return self.number()
        if _is_name_start(char):
            return self.name()
        for operator in OPERATORS:
            if self.source.startswith(operator, self.at):
                self.at += len(operator)
                return Token(Kind.OP, operator, self.at - len(operator))
        raise self.fail(f"unexpected character {char!r}", self.at)


def tokenize(source: str, start: int = 0, *, in_template: bool = False) -> tuple[list[Token], int]:
    """Return the tokens from `start` (ending with an END token) and the offset after them.

    With `in_template`, stop after the closing `}}`; the END token sits where `}}` began.
    """
    scanner = _Scanner(source, start, in_template=in_template)
    tokens: list[Token] = []
    while True:
        before = scanner.at
        token = scanner.next()
        if token is None:
            tokens.append(Token(Kind.END, "", scanner.at - 2))
            return tokens, scanner.at
        tokens.append(token)
        if token.kind is Kind.END:
            return tokens, scanner.at
        if scanner.at == before:  # pragma: no cover - every branch above advances
            raise scanner.fail("the tokenizer is stuck", before)
