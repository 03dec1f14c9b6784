"""Mapping values for one run: rendering templates, recording problems, stopping on `on_error`.

A value that cannot be mapped is a `Problem` naming the step, the field and the value. With the
step's `on_error: skip_field` the field is left out and the run goes on with what is valid; with
`stop` the run stops and the problem is its reason. Either way nothing is dropped silently.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Final

from pydantic import JsonValue

from leadwire.engine.expressions import (
    Condition,
    Environment,
    EvaluationError,
    ExpressionError,
    FormatError,
    MappingError,
    Tables,
    Template,
    Value,
    is_empty,
    parse_condition,
    parse_template,
    render,
    to_json,
    to_text,
)
from leadwire.engine.expressions.errors import shown
from leadwire.engine.flows.steps import OnError, StepBase
from leadwire.engine.planning.plan import Problem, pointer


class Skipped:
    """The value of a field left out after a problem."""


SKIPPED: Final = Skipped()


@lru_cache(maxsize=4096)
def template_of(source: str) -> Template:
    """Return a parsed template (parsed once per process: flows are read far more than edited)."""
    return parse_template(source)


@lru_cache(maxsize=1024)
def condition_of(source: str) -> Condition:
    """Return a parsed condition."""
    return parse_condition(source)


@dataclass
class Mapper:
    """The names a run's templates read (growing as steps run) and the problems met so far."""

    scope: dict[str, Value]
    tables: Tables
    timezone: str = "UTC"
    problems: list[Problem] = field(default_factory=list)
    stop_reason: str | None = None

    @property
    def env(self) -> Environment:
        """Return the environment templates are evaluated in."""
        return Environment(self.scope, self.tables, self.timezone)

    @property
    def is_stopped(self) -> bool:
        """Return whether a problem stopped the run."""
        return self.stop_reason is not None

    def fail(self, step: StepBase, error: MappingError) -> None:
        """Record a problem of `step`; stop the run if the step says so."""
        stops = step.on_error is OnError.STOP
        value = None if error.value is None else shown(error.value)
        self.problems.append(
            Problem(
                step_id=step.id, field=error.field, value=value, message=str(error), stopped=stops
            )
        )
        if stops:
            self.stop_reason = str(error)

    def stop(self, step: StepBase, error: MappingError) -> None:
        """Record a problem that stops the run whatever the step's `on_error`."""
        self.problems.append(
            Problem(
                step_id=step.id, field=error.field, value=None, message=str(error), stopped=True
            )
        )
        self.stop_reason = str(error)

    def value(self, step: StepBase, name: str, source: str) -> Value | Skipped:
        """Return the value of template `source` mapped into field `name`, or SKIPPED."""
        try:
            return render(template_of(source), self.env)
        except FormatError as exc:
            self.fail(step, MappingError(name, exc.value, exc.reason))
        except (EvaluationError, ExpressionError) as exc:
            self.fail(step, MappingError(name, None, str(exc)))
        return SKIPPED

    def text(self, step: StepBase, name: str, source: str | None) -> str | None:
        """Return a template's value as trimmed text; None when absent, empty or skipped."""
        if source is None:
            return None
        value = self.value(step, name, source)
        if isinstance(value, Skipped) or is_empty(value):
            return None
        return to_text(value).strip() or None

    def required_text(self, step: StepBase, name: str, source: str, what: str) -> str | None:
        """Return a text the step cannot do without; a problem when it comes out empty."""
        before = len(self.problems)
        text = self.text(step, name, source)
        if text is None and len(self.problems) == before:
            self.fail(step, MappingError(name, None, f"gave no text, so {what}"))
        return text

    def json(
        self, step: StepBase, name: str, value: JsonValue, at: tuple[str | int, ...] = ()
    ) -> tuple[JsonValue, list[str]]:
        """Return JSON with its texts rendered, and the pointers where it holds the contact id."""
        if isinstance(value, str):
            rendered = self.value(step, name + pointer(at), value)
            data = None if isinstance(rendered, Skipped) else to_json(rendered)
            uses_id = template_of(value).uses("contact", "id")
            return data, [pointer(at)] if uses_id and data is not None else []
        if isinstance(value, list):
            items, pointers = [], []
            for index, item in enumerate(value):
                data, found = self.json(step, name, item, (*at, index))
                items.append(data)
                pointers += found
            return items, pointers
        if isinstance(value, dict):
            members: dict[str, JsonValue] = {}
            pointers = []
            for key, item in value.items():
                members[key], found = self.json(step, name, item, (*at, key))
                pointers += found
            return members, pointers
        return value, []

    def holds(self, step: StepBase, name: str, source: str) -> bool | None:
        """Return whether a condition holds; None (and a problem) if it cannot be evaluated."""
        try:
            return condition_of(source).holds(self.env)
        except FormatError as exc:
            self.fail(step, MappingError(name, exc.value, exc.reason))
        except (EvaluationError, ExpressionError) as exc:
            self.fail(step, MappingError(name, None, str(exc)))
        return None
