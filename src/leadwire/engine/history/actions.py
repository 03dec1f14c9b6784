"""What a person does to runs in the inbox — replay one, replay many, dismiss — and the outcome.

The inbox (`leadwire.engine.runtime.replay.Inbox`) acts; this adds what a person needs to
know when it did nothing: no such item, or the item is no longer open (and why).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from pydantic import computed_field
from sqlalchemy.orm import Session

from leadwire.engine.history.queries import count_open_inbox, find_inbox_item
from leadwire.engine.runtime.replay import Inbox
from leadwire.store.models.runs import InboxStatus

BULK_LIMIT = 500


class Outcome(StrEnum):
    """What became of a request to act on one inbox item."""

    DONE = "done"
    NOT_FOUND = "not_found"
    NOT_OPEN = "not_open"


@dataclass(frozen=True, slots=True)
class ItemAction:
    """The outcome of replaying or dismissing one item; `workflow_id` of a replay's fork."""

    run_id: str
    outcome: Outcome
    status: InboxStatus | None = None
    workflow_id: str | None = None

    @property
    def message(self) -> str:
        """Say what happened, for a person."""
        if self.outcome is Outcome.NOT_FOUND:
            return f"run {self.run_id} has no inbox item"
        if self.outcome is Outcome.NOT_OPEN:
            return f"the inbox item of run {self.run_id} is {self.status}, not open"
        return f"run {self.run_id}: done"


@dataclass(frozen=True, slots=True)
class BulkReplay:
    """What a bulk replay forked, and how many matching items are still open."""

    workflow_ids: tuple[str, ...]
    remaining: int

    @computed_field  # type: ignore[prop-decorator]
    @property
    def replayed(self) -> int:
        """How many items this replay forked."""
        return len(self.workflow_ids)


SessionFactory = Callable[[], Session]


def _not_done(sessions: SessionFactory, run_id: str) -> ItemAction:
    with sessions() as session:
        item = find_inbox_item(session, run_id)
    if item is None:
        return ItemAction(run_id, Outcome.NOT_FOUND)
    return ItemAction(run_id, Outcome.NOT_OPEN, status=item.status)


def replay_item(inbox: Inbox, sessions: SessionFactory, run_id: str) -> ItemAction:
    """Replay an open item from its failed step; say why not when it could not."""
    fork_id = inbox.replay(run_id)
    if fork_id is None:
        return _not_done(sessions, run_id)
    return ItemAction(run_id, Outcome.DONE, status=InboxStatus.REPLAYED, workflow_id=fork_id)


def dismiss_item(inbox: Inbox, sessions: SessionFactory, run_id: str) -> ItemAction:
    """Close an open item without replaying it; say why not when it could not."""
    if not inbox.dismiss(run_id):
        return _not_done(sessions, run_id)
    return ItemAction(run_id, Outcome.DONE, status=InboxStatus.DISMISSED)


def replay_open(
    inbox: Inbox,
    sessions: SessionFactory,
    *,
    flow_id: str | None = None,
    limit: int = BULK_LIMIT,
) -> BulkReplay:
    """Replay up to `limit` open items (of one flow, if given), oldest failure first."""
    forked = inbox.replay_all(flow_id=flow_id, limit=limit)
    with sessions() as session:
        remaining = count_open_inbox(session, flow_id=flow_id)
    return BulkReplay(tuple(forked), remaining)
