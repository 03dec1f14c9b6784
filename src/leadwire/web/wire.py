"""The JSON API's bodies: what the API adds to run history's views, and its request bodies.

A response is a frozen dataclass that FastAPI serialises with pydantic. Where run history
already has the shape (`RunPage`, `Timeline`, `InboxItem`, `BulkReplay`), the API answers with
it as it is, so no shape is written twice; only envelopes and API-only fields live here.
Request bodies are pydantic models, so they are validated (and unknown keys refused).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, model_validator

from leadwire.engine.history import StatusCounts
from leadwire.engine.runtime import InboxItem
from leadwire.store.models.runs import InboxStatus


def to_json(body: object) -> str:
    """Return a response body as the API answers it, indented (the CLI's `--json`)."""
    return TypeAdapter(type(body)).dump_json(body, indent=2).decode()


@dataclass(frozen=True, slots=True)
class InboxOut:
    """Inbox items, oldest failure first."""

    items: list[InboxItem]


@dataclass(frozen=True, slots=True)
class HealthOut(StatusCounts):
    """The process is up and its database answers; runs by status; open inbox items."""

    ok: bool = True

    @classmethod
    def of(cls, counts: StatusCounts) -> HealthOut:
        """Return the health answer for the counts (reading them is the database check)."""
        return cls(**asdict(counts))


@dataclass(frozen=True, slots=True)
class ItemActionOut:
    """What a replay or dismissal did to one item."""

    run_id: str
    status: InboxStatus
    workflow_id: str | None = None


class BulkReplayIn(BaseModel):
    """Which open items to replay: those of one flow, or (explicitly) all of them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    flow_id: str | None = Field(default=None, min_length=1, max_length=128)
    all: bool = Field(default=False, description="Replay the open items of every flow.")
    limit: int = Field(default=500, ge=1, le=500, description="At most this many this call.")

    @model_validator(mode="after")
    def _one_scope(self) -> BulkReplayIn:
        if (self.flow_id is None) == (not self.all):
            raise ValueError('give "flow_id", or "all": true (not both)')
        return self
