"""Reading flow documents from YAML or JSON text, with problems that name their place and line.

JSON is read as YAML (it is a subset), so one reader serves both and line numbers come from one
place. YAML anchors and aliases are refused: they let a small text expand into a huge document.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from leadwire.engine.flows.checks import check_document
from leadwire.engine.flows.document import FlowDocument
from leadwire.engine.flows.errors import FlowValidationError, Location, Problem
from leadwire.engine.flows.steps import STEP_TYPES

# PyYAML ships no type hints (types-PyYAML is not a dependency): imported as Any on purpose.
yaml: Any = importlib.import_module("yaml")
MAX_DOCUMENT_BYTES = 512 * 1024
_UNION_TAGS = frozenset({*STEP_TYPES, "pinterest_lead", "crm_event", "schedule", "manual"})


def _line_index(text: str) -> dict[Location, int]:
    """Return the 1-based line of every place in the YAML text."""
    lines: dict[Location, int] = {}

    def visit(node: Any, location: Location) -> None:
        lines.setdefault(location, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                name = key.value if isinstance(key, yaml.ScalarNode) else str(key.start_mark)
                lines[(*location, name)] = key.start_mark.line + 1
                visit(value, (*location, name))
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                visit(item, (*location, index))

    root = yaml.compose(text, Loader=yaml.SafeLoader)
    if root is not None:
        visit(root, ())
    return lines


def _line_of(lines: Mapping[Location, int], location: Location) -> int | None:
    for end in range(len(location), -1, -1):
        if location[:end] in lines:
            return lines[location[:end]]
    return None


def _pydantic_problems(exc: ValidationError) -> list[Problem]:
    problems = []
    for error in exc.errors(include_url=False):
        location: list[str | int] = []
        for part in error["loc"]:
            # A tagged union adds its tag to the location (`steps.0.add_task.due`): drop it.
            if (
                isinstance(part, str)
                and part in _UNION_TAGS
                and location
                and (isinstance(location[-1], int) or location[-1] == "trigger")
            ):
                continue
            if part != "[key]":  # a bad mapping key: the key itself is the place
                location.append(part)
        message = str(error["msg"]).removeprefix("Value error, ")
        problems.append(Problem(tuple(location), message))
    return problems


def parse_data(text: str) -> Any:
    """Return the data of a YAML or JSON text; FlowValidationError if it is not readable."""
    if len(text.encode()) > MAX_DOCUMENT_BYTES:
        raise FlowValidationError([Problem((), f"the document is over {MAX_DOCUMENT_BYTES} bytes")])
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, yaml.AliasEvent):
                line = event.start_mark.line + 1
                raise FlowValidationError(
                    [Problem((), "YAML aliases (*name) are not supported", line)]
                )
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise FlowValidationError([Problem((), f"not YAML or JSON: {problem}", line)]) from None


def validate_data(data: Any, text: str | None = None) -> FlowDocument:
    """Return the flow in `data`, or raise FlowValidationError listing every problem."""
    if not isinstance(data, dict):
        raise FlowValidationError([Problem((), "a flow is a mapping (name, trigger, steps, ...)")])
    try:
        document = FlowDocument.model_validate(data)
    except ValidationError as exc:
        problems = _pydantic_problems(exc)
    else:
        problems = check_document(document)
        if not problems:
            return document
    if text is not None:
        lines = _line_index(text)
        problems = [problem.at_line(_line_of(lines, problem.location)) for problem in problems]
    raise FlowValidationError(problems)


def load_flow(text: str) -> FlowDocument:
    """Return the flow written in `text` (YAML or JSON); FlowValidationError if it is not valid."""
    return validate_data(parse_data(text), text)


def dump_flow(document: FlowDocument) -> str:
    """Return the document as YAML, in the order its fields are declared."""
    text: str = yaml.safe_dump(
        document.to_data(), sort_keys=False, allow_unicode=True, width=100, default_flow_style=False
    )
    return text
