"""What the runtime needs from the rest of the engine: calls to run, and something to run them.

The planner turns a lead and a flow version into an ordered list of self-contained CRM calls;
the runtime only needs each call's stable id and a one-line description, and an executor that
performs one call given the values earlier calls produced (the contact id of the upsert, say).
Integration is an adapter that satisfies these Protocols.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeAlias

# A lead's payload as accepted at intake: plain JSON, stored with its workflow.
JsonObject: TypeAlias = dict[str, Any]


class StepCall(Protocol):
    """One outside call of a lead's plan."""

    @property
    def step_id(self) -> str:
        """Stable id of the step in its flow version (also the root of its idempotency key)."""
        ...

    def describe(self) -> str:
        """Summarise the call's inputs in one line, without personal data."""
        ...

    @property
    def requests(self) -> int:
        """How many requests to the CRM the call may make (0: none, e.g. bookkeeping or a
        webhook): that many of its location's rate-budget slots are admitted for it."""
        ...


@dataclass(frozen=True, slots=True)
class RateObservation:
    """What the CRM's `X-RateLimit-*` headers said on one response (None: header absent)."""

    burst_max: int | None = None
    burst_remaining: int | None = None
    interval_ms: int | None = None
    daily_remaining: int | None = None

    @classmethod
    def from_headers(cls, headers: Mapping[str, str]) -> RateObservation:
        """Read the HighLevel rate-limit headers; unparsable values count as absent."""
        lowered = {k.lower(): v for k, v in headers.items()}

        def number(name: str) -> int | None:
            raw = lowered.get(name)
            try:
                return int(raw) if raw is not None else None
            except ValueError:
                return None

        return cls(
            burst_max=number("x-ratelimit-max"),
            burst_remaining=number("x-ratelimit-remaining"),
            interval_ms=number("x-ratelimit-interval-milliseconds"),
            daily_remaining=number("x-ratelimit-daily-remaining"),
        )


@dataclass(frozen=True, slots=True)
class StepResult:
    """What a call produced.

    `outputs` are bindings later calls may refer to (e.g. `{"contact_id": "..."}`); `crm_ids`
    name what the call created or touched, for the run's timeline; `summary` describes the
    outcome in one line without personal data. `resume_after_s` makes the run pause before its
    next call (a `delay` step): the runtime ends the segment and enqueues the next one with
    that delay, so the pause holds no thread. `requests` is how many requests to the CRM the
    call made, of the `StepCall.requests` admitted for it: fewer when another call's bulk
    request carried it, or a look-up found what a create would have made (the slots not used
    are given back at once).
    """

    outputs: Mapping[str, str] = field(default_factory=dict)
    crm_ids: Mapping[str, str] = field(default_factory=dict)
    summary: str = ""
    rate: RateObservation | None = None
    resume_after_s: float | None = None
    requests: int = 1


class StepExecutor(Protocol):
    """Turns a lead's payload into its calls and performs them.

    `prepare` gives once per run what planning needs besides the payload: the time the lead
    was received (due dates count from it) and, where `looks_up` says so, data fetched from
    outside (the lead's Pinterest context). Every `plan` of the run gets the same answer, so
    re-planning after a crash, a retry or a replay gives the same calls. When `looks_up` is
    true the runtime checkpoints the answer (a DBOS step: an outside answer can change);
    otherwise `prepare` must be a pure function of its arguments, and is simply called again.
    It should degrade rather than fail (a missing ad name is no reason to hold a lead); an
    exception sends the run to the inbox.

    `execute` must be idempotent: a call in flight when a worker dies is made again. It raises
    `leadwire.errors.RetryableError` (rescheduled, honouring `retry_after_s`) or `FatalError`
    (the run goes to the needs-attention inbox); any other exception is treated as fatal.
    """

    def looks_up(self, payload: JsonObject) -> bool:
        """Whether `prepare` asks anything outside for this payload.

        A function of the payload alone: the runtime asks again whenever DBOS executes a
        segment again, and the answer decides the order of the segment's checkpoints. (A
        change of its rule is a change of the workflow: bump `PROGRESS_VERSION`.)
        """
        ...

    def prepare(self, payload: JsonObject, received_ms: int) -> JsonObject:
        """Return what planning needs besides the payload (JSON data)."""
        ...

    def plan(self, payload: JsonObject, prepared: JsonObject) -> Sequence[StepCall]:
        """Return the ordered calls a lead's payload asks for (raise `FatalError` if none can)."""
        ...

    def execute(self, call: StepCall, bindings: Mapping[str, str]) -> StepResult:
        """Perform one call, resolving its symbolic references from `bindings`."""
        ...
