"""Run history: search runs by lead id, e-mail, status and flow; a run's timeline; counts.

One implementation for the CLI (`leadwire runs`, `leadwire inbox`) and the JSON API.
"""

from leadwire.engine.history.actions import (
    BulkReplay,
    ItemAction,
    Outcome,
    dismiss_item,
    replay_item,
    replay_open,
)
from leadwire.engine.history.cursor import CursorError, decode_cursor, encode_cursor
from leadwire.engine.history.leads import read_run_lead
from leadwire.engine.history.model import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    RunFilter,
    RunPage,
    RunSummary,
    StatusCounts,
    StepView,
    Timeline,
)
from leadwire.engine.history.queries import (
    count_open_inbox,
    count_runs,
    find_inbox_item,
    load_timeline,
    normalize_email,
    search_runs,
)

__all__ = [
    "DEFAULT_LIMIT",
    "MAX_LIMIT",
    "BulkReplay",
    "CursorError",
    "ItemAction",
    "Outcome",
    "RunFilter",
    "RunPage",
    "RunSummary",
    "StatusCounts",
    "StepView",
    "Timeline",
    "count_open_inbox",
    "count_runs",
    "decode_cursor",
    "dismiss_item",
    "encode_cursor",
    "find_inbox_item",
    "load_timeline",
    "normalize_email",
    "read_run_lead",
    "replay_item",
    "replay_open",
    "search_runs",
]
