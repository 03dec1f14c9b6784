"""The data a lead's workflow carries: the job, its progress between segments, and call records.

DBOS stores workflow inputs and step outputs with its serializer; they cross it as plain
JSON-shaped dicts, never as these classes, so stored rows do not depend on class paths.

A run (one lead in one flow version) is a chain of workflow *segments*. The first segment's id
is the run id, derived from the lead: a second delivery of the lead finds it taken. A segment
that meets a retryable error ends after enqueuing the next segment with a delay, so a run that
waits for hours holds no worker thread and no queue slot.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from leadwire.engine.runtime.contracts import JsonObject


def run_id_for(lead_id: str, flow_id: str, flow_version: int) -> str:
    """Return the run id (the first segment's workflow id) of a lead in a flow version."""
    return f"lead:{lead_id}:{flow_id}:v{flow_version}"


def segment_id_for(chain: str, segment: int) -> str:
    """Return the workflow id of segment `segment` of the chain rooted at `chain`."""
    return chain if segment == 0 else f"{chain}/{segment}"


def replay_id_for(run_id: str, replay: int) -> str:
    """Return the workflow id of the `replay`-th replay of a run (a DBOS fork)."""
    return f"{run_id}/replay{replay}"


@dataclass(frozen=True, slots=True)
class LeadJob:
    """What a run does: fixed at intake, the same for every segment."""

    run_id: str
    lead_id: str
    flow_id: str
    flow_version: int
    location_id: str
    payload: JsonObject
    received_ms: int

    def to_wire(self) -> JsonObject:
        """Return the job as a JSON-shaped dict."""
        return {
            "run_id": self.run_id,
            "lead_id": self.lead_id,
            "flow_id": self.flow_id,
            "flow_version": self.flow_version,
            "location_id": self.location_id,
            "payload": self.payload,
            "received_ms": self.received_ms,
        }

    @classmethod
    def from_wire(cls, data: JsonObject) -> LeadJob:
        """Read a job written by `to_wire`."""
        return cls(
            run_id=str(data["run_id"]),
            lead_id=str(data["lead_id"]),
            flow_id=str(data["flow_id"]),
            flow_version=int(data["flow_version"]),
            location_id=str(data["location_id"]),
            payload=dict(data["payload"]),
            received_ms=int(data["received_ms"]),
        )


# The workflow code's version a new run starts under. A run started under an older one finds
# the checkpoints that code made where it made them, so it keeps that code's order of steps:
# 1 — `prepare` always a step; 2 — `prepare` a step only when the executor looks things up.
PROGRESS_VERSION = 2


@dataclass(frozen=True, slots=True)
class Progress:
    """Where a segment starts: the next call, what earlier calls bound, and the retry budget.

    `attempts` and `first_failure_ms` count the failures of the call at `next_index` so far;
    `tries` counts the segments the run ran before this one; `prepared` is what the executor's
    `prepare` answered in the run's first segment (None until then). `version` is the workflow
    code's the run started under (see `PROGRESS_VERSION`); a run keeps it to its end.
    """

    chain: str
    segment: int = 0
    next_index: int = 0
    bindings: dict[str, str] = field(default_factory=dict)
    crm_ids: dict[str, str] = field(default_factory=dict)
    attempts: int = 0
    first_failure_ms: int | None = None
    tries: int = 0
    prepared: JsonObject | None = None
    version: int = PROGRESS_VERSION

    @property
    def expected_workflow_id(self) -> str:
        """The workflow id a segment started from this progress has, unless it is a fork."""
        return segment_id_for(self.chain, self.segment)

    def for_replay(self, workflow_id: str) -> Progress:
        """Return this progress as the root of a new chain with a fresh retry budget."""
        return replace(self, chain=workflow_id, segment=0, attempts=0, first_failure_ms=None)

    def to_wire(self) -> JsonObject:
        """Return the progress as a JSON-shaped dict."""
        return {
            "chain": self.chain,
            "segment": self.segment,
            "next_index": self.next_index,
            "bindings": self.bindings,
            "crm_ids": self.crm_ids,
            "attempts": self.attempts,
            "first_failure_ms": self.first_failure_ms,
            "tries": self.tries,
            "prepared": self.prepared,
            "version": self.version,
        }

    @classmethod
    def from_wire(cls, data: JsonObject) -> Progress:
        """Read a progress written by `to_wire`."""
        first = data.get("first_failure_ms")
        prepared = data.get("prepared")
        return cls(
            chain=str(data["chain"]),
            segment=int(data.get("segment", 0)),
            next_index=int(data.get("next_index", 0)),
            bindings={str(k): str(v) for k, v in dict(data.get("bindings", {})).items()},
            crm_ids={str(k): str(v) for k, v in dict(data.get("crm_ids", {})).items()},
            attempts=int(data.get("attempts", 0)),
            first_failure_ms=int(first) if first is not None else None,
            tries=int(data.get("tries", 0)),
            prepared=dict(prepared) if isinstance(prepared, dict) else None,
            # Written before versions were: the first.
            version=int(data.get("version", 1)),
        )


class CallOutcome(StrEnum):
    """How one attempt of one call ended."""

    OK = "ok"
    RETRY = "retry"
    FATAL = "fatal"
    # Not made: the location's rate budget had no room; the segment comes back at its turn.
    WAIT = "wait"


@dataclass(frozen=True, slots=True)
class CallRecord:
    """One attempt of one call, as the step that made it checkpointed it."""

    index: int
    step_id: str
    summary: str
    outcome: CallOutcome
    started_ms: int
    duration_ms: int
    outputs: dict[str, str] = field(default_factory=dict)
    crm_ids: dict[str, str] = field(default_factory=dict)
    result: str = ""
    error_type: str | None = None
    error_message: str | None = None
    retry_after_s: float | None = None
    # Set on a successful call that asks the run to pause before the next one.
    resume_after_s: float | None = None

    @property
    def finished_ms(self) -> int:
        """When the attempt ended (epoch milliseconds)."""
        return self.started_ms + self.duration_ms

    def to_wire(self) -> JsonObject:
        """Return the record as a JSON-shaped dict."""
        return {
            "index": self.index,
            "step_id": self.step_id,
            "summary": self.summary,
            "outcome": self.outcome.value,
            "started_ms": self.started_ms,
            "duration_ms": self.duration_ms,
            "outputs": self.outputs,
            "crm_ids": self.crm_ids,
            "result": self.result,
            "error_type": self.error_type,
            "error_message": self.error_message,
            "retry_after_s": self.retry_after_s,
            "resume_after_s": self.resume_after_s,
        }

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> CallRecord:
        """Read a record written by `to_wire`."""
        retry_after = data.get("retry_after_s")
        resume_after = data.get("resume_after_s")
        return cls(
            index=int(data["index"]),
            step_id=str(data["step_id"]),
            summary=str(data["summary"]),
            outcome=CallOutcome(data["outcome"]),
            started_ms=int(data["started_ms"]),
            duration_ms=int(data["duration_ms"]),
            outputs=dict(data.get("outputs", {})),
            crm_ids=dict(data.get("crm_ids", {})),
            result=str(data.get("result", "")),
            error_type=data.get("error_type"),
            error_message=data.get("error_message"),
            retry_after_s=float(retry_after) if retry_after is not None else None,
            resume_after_s=float(resume_after) if resume_after is not None else None,
        )
