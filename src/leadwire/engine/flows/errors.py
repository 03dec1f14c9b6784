"""A flow document's problems: each names its place in the document (and line) and what is wrong."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from leadwire.errors import FatalError, NotFoundError

Location = tuple[str | int, ...]
_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def dotted(location: Location) -> str:
    """Return a location as people read it: `steps[2].fields.email`, `custom_fields['a.b']`."""
    text = ""
    for part in location:
        if isinstance(part, int):
            text += f"[{part}]"
        elif _PLAIN_KEY.match(part):
            text += f".{part}" if text else part
        else:
            text += f"[{part!r}]"
    return text or "(document)"


@dataclass(frozen=True)
class Problem:
    """One problem at `location` of the document; `line` is 1-based, when the text is known."""

    location: Location
    message: str
    line: int | None = None

    def at_line(self, line: int | None) -> Problem:
        """Return the problem with its line."""
        return replace(self, line=line)

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line is not None else ""
        return f"{where}{dotted(self.location)}: {self.message}"


class FlowError(FatalError):
    """Root of the flows' errors."""


class FlowValidationError(FlowError):
    """The document is not a valid flow; `problems` lists every problem found."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        count = len(self.problems)
        head = f"the flow has {count} problem{'s' if count != 1 else ''}"
        super().__init__("\n".join([f"{head}:", *(f"  {p}" for p in self.problems)]))


class FlowNotFoundError(FlowError, NotFoundError):
    """No flow (or version) by that id or name."""
