"""Durable execution of lead runs on DBOS Transact: intake, workflows, retries, inbox, replay.

One workflow chain per (lead, flow version), its first id derived from the Pinterest lead id;
each outside call a checkpointed step; waits between retries spent DELAYED in the system
database, never in a worker thread. See `ARCHITECTURE.md` and the modules' docstrings.
"""

from leadwire.engine.runtime.backoff import RetryPolicy, retry_delay_s
from leadwire.engine.runtime.contracts import (
    JsonObject,
    RateObservation,
    StepCall,
    StepExecutor,
    StepResult,
)
from leadwire.engine.runtime.group_commit import GroupIntake
from leadwire.engine.runtime.intake import IntakeReport, LeadIn, LeadIntake
from leadwire.engine.runtime.jobs import replay_id_for, run_id_for
from leadwire.engine.runtime.options import RuntimeOptions
from leadwire.engine.runtime.replay import Inbox, InboxItem
from leadwire.engine.runtime.runtime import Runtime, serve_worker
from leadwire.engine.runtime.throttle import LocationThrottle, RateBudget

__all__ = [
    "GroupIntake",
    "Inbox",
    "InboxItem",
    "IntakeReport",
    "JsonObject",
    "LeadIn",
    "LeadIntake",
    "LocationThrottle",
    "RateBudget",
    "RateObservation",
    "RetryPolicy",
    "Runtime",
    "RuntimeOptions",
    "StepCall",
    "StepExecutor",
    "StepResult",
    "replay_id_for",
    "retry_delay_s",
    "run_id_for",
    "serve_worker",
]
