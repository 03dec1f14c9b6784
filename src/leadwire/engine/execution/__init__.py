"""Running flows: the runtime's executor for leadwire plans, and the clients it calls with.

executor.py (`FlowExecutor`: prepare, plan, execute), steps.py (a plan as runtime steps),
crm.py (CRM calls, idempotent), webhooks.py (signed outside calls), context.py (the lead's
Pinterest names, cached), auth.py (a stored connection's token), cache.py (bounded TTL cache).
"""

from leadwire.engine.execution.context import ContextLookup, Looked
from leadwire.engine.execution.crm import CONTACT_ID, CONTACT_NEW, CrmClients
from leadwire.engine.execution.executor import FlowExecutor
from leadwire.engine.execution.steps import ActionStep, EndEarly, PlanNote, RunTarget, steps_of
from leadwire.engine.execution.webhooks import WebhookSender

__all__ = [
    "CONTACT_ID",
    "CONTACT_NEW",
    "ActionStep",
    "ContextLookup",
    "CrmClients",
    "EndEarly",
    "FlowExecutor",
    "Looked",
    "PlanNote",
    "RunTarget",
    "WebhookSender",
    "steps_of",
]
