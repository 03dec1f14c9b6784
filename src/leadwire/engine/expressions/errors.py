"""What goes wrong with an expression: at parse time (with a position) or at evaluation time."""

from __future__ import annotations

from leadwire.errors import FatalError


class ExpressionError(FatalError):
    """Root of the expression language's errors."""


class ExpressionSyntaxError(ExpressionError):
    """The text is not an expression (or template) of the language; `position` is 0-based."""

    def __init__(self, problem: str, source: str, position: int) -> None:
        self.problem = problem
        self.source = source
        self.position = max(0, min(position, len(source)))
        before = source[: self.position]
        self.line = before.count("\n") + 1
        self.column = self.position - (before.rfind("\n") + 1) + 1
        where = f"column {self.column}"
        if "\n" in source:
            where = f"line {self.line}, column {self.column}"
        super().__init__(f"{problem} at {where}")

    def excerpt(self) -> str:
        """Return the offending line with a caret under the position."""
        start = self.source.rfind("\n", 0, self.position) + 1
        end = self.source.find("\n", self.position)
        line = self.source[start : end if end >= 0 else len(self.source)]
        return f"{line}\n{' ' * (self.position - start)}^"


class EvaluationError(ExpressionError):
    """An expression could not be evaluated against its context (a wrong type, say)."""


class FormatError(EvaluationError):
    """A formatter refused a value: `value` is what it got, `reason` says why (no subject)."""

    def __init__(self, value: object, reason: str) -> None:
        self.value = value
        self.reason = reason
        super().__init__(f"{shown(value)} {reason}")


class MappingError(EvaluationError):
    """Mapping `field` failed on `value`: 'mapping phone: '12ab' is not a phone number ...'."""

    def __init__(self, field: str, value: object, reason: str) -> None:
        self.field = field
        self.value = value
        self.reason = reason
        subject = f"{shown(value)} " if value is not None else ""
        super().__init__(f"mapping {field}: {subject}{reason}")


SHOWN_CHARS = 80


def shown(value: object) -> str:
    """Return `value` as an error message quotes it: repr, cut to a readable length."""
    text = repr(value)
    return text if len(text) <= SHOWN_CHARS else text[: SHOWN_CHARS - 1] + "…"
