"""Where leads come from: Pinterest hooks (the receiver's URLs) and routing to live flows.

hooks.py keeps the receiving URLs (secret hashed, delivery key sealed); routing.py turns a lead
into one run per live flow it triggers, with the payload the executor plans from; polling*.py
poll Pinterest's leads exports over overlapping windows (a safety net for missed webhooks, and
backfill) with a durable cursor per connection and ad account; targets.py, crm_events.py,
schedule.py (with due_times.py) and manual.py start the other triggers' runs: CRM events,
schedules and a person's `flows run` / `runs rerun`.
"""

from leadwire.engine.sources.hooks import (
    HOOK_PATH,
    Hook,
    create_hook,
    delivery_key_of,
    find_hook,
    list_hooks,
    remove_hook,
)
from leadwire.engine.sources.polling import (
    DEFAULT_INTERVAL_S,
    Poller,
    PollOptions,
    PollProgress,
    PollReport,
)
from leadwire.engine.sources.polling_cursor import CursorKey
from leadwire.engine.sources.routing import (
    FlowRoutes,
    LiveFlow,
    RoutingError,
    email_of,
    load_live_flows,
    run_payload,
)

__all__ = [
    "DEFAULT_INTERVAL_S",
    "HOOK_PATH",
    "CursorKey",
    "FlowRoutes",
    "Hook",
    "LiveFlow",
    "PollOptions",
    "PollProgress",
    "PollReport",
    "Poller",
    "RoutingError",
    "create_hook",
    "delivery_key_of",
    "email_of",
    "find_hook",
    "list_hooks",
    "load_live_flows",
    "remove_hook",
    "run_payload",
]
