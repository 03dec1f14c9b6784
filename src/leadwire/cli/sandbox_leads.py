"""`leadwire sandbox leads ...`: the lead generator's commands.

Helper H8 fills this module: `register(app)` adds the `leads` command (`--form ID --count N
--rate R`, with a progress bar) to the `sandbox` Typer app. Until then it adds nothing.
"""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the generator's commands to the `sandbox` app (nothing yet)."""
