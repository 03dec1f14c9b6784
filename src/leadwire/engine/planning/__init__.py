"""Planning: the exact CRM calls a flow version makes for one lead, without making them.

`plan(flow_version, lead, context)` returns a `Plan` — ordered actions (CRM calls, signed webhook
calls, waits) with stable ids and idempotency keys, route decisions, mapping problems and the
outcome. Dry runs print it; the executor runs it step by step.
"""

from leadwire.engine.planning.plan import (
    CONTACT_ID,
    Action,
    CrmCall,
    Outcome,
    Plan,
    Problem,
    RouteDecision,
    Wait,
    WebhookCall,
    idempotency_key,
)
from leadwire.engine.planning.planner import LOCATION_PLACEHOLDER, plan, plan_for
from leadwire.engine.planning.samples import lead_data, read_lead, sample_lead
from leadwire.engine.planning.scope import PinterestContext, event_names, schedule_names

__all__ = [
    "CONTACT_ID",
    "LOCATION_PLACEHOLDER",
    "Action",
    "CrmCall",
    "Outcome",
    "PinterestContext",
    "Plan",
    "Problem",
    "RouteDecision",
    "Wait",
    "WebhookCall",
    "event_names",
    "idempotency_key",
    "lead_data",
    "plan",
    "plan_for",
    "read_lead",
    "sample_lead",
    "schedule_names",
]
