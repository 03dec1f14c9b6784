"""The scheduler: each live schedule flow runs once per due time, however many workers tick.

Every worker runs a `Scheduler` in a thread. A tick reads the schedule flows (cached a few
seconds), and for each one asks for its latest due time after the later of its version's
publication and the last due time it fired (`lw_schedule_state`). If there is one, the tick
records the run `schedule:<flow id>:<due time>` through intake, in one durable transaction
with its workflow. That id is the whole guarantee: two workers firing the same due time race
for one workflow id, and the loser's run comes back as a duplicate, even if they read
different versions of the flow. The state row then moves forward (never back), so a later
tick, or a restarted worker, does not fire that due time again.

- **Missed due times** (no worker ran, a tick came late): only the latest is fired; a schedule
  never catches up on a backlog of runs.
- **A new schedule** (or a version that changes one) fires only for due times after it was
  published.
- A schedule run has no lead and no contact: its steps read `schedule.due_at`, `const` and
  `now`; steps that need a contact must follow an `upsert_contact`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Table

from leadwire.engine.flows.triggers import ScheduleTrigger
from leadwire.engine.runtime import LeadIntake
from leadwire.engine.runtime.housekeeping import every
from leadwire.engine.sources.due_times import due_text, latest_due
from leadwire.engine.sources.targets import FlowTarget, TriggeredRun, load_targets
from leadwire.store.app import AppStore
from leadwire.store.models.triggers import ScheduleStateRow
from leadwire.store.types import utcnow
from leadwire.store.upserts import dialect_insert

log = logging.getLogger(__name__)

TRIGGER = "schedule"
DEFAULT_TICK_S = 1.0
DEFAULT_TARGETS_TTL_S = 5.0
STATE: Table = ScheduleStateRow.__table__  # type: ignore[assignment]


def schedule_run(target: FlowTarget, due: datetime) -> TriggeredRun:
    """Return the run of `target` for due time `due`."""
    text = due_text(due)
    subject = f"schedule:{text}"
    return TriggeredRun(
        lead_id=subject,
        flow_id=target.flow_id,
        flow_version=target.version,
        location_id=target.check_runnable(),
        payload=target.payload(trigger=TRIGGER, subject=subject, schedule={"due_at": text}),
        run_key=f"schedule:{target.flow_id}:{text}",
    )


class Scheduler:
    """Fires due schedule flows; one per worker process, any number per database."""

    def __init__(
        self,
        store: AppStore,
        intake: LeadIntake,
        *,
        clock: Callable[[], datetime] = utcnow,
        targets_ttl_s: float = DEFAULT_TARGETS_TTL_S,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._intake = intake
        self._clock = clock
        self._ttl_s = targets_ttl_s
        self._monotonic = monotonic
        self._targets: list[FlowTarget] = []
        self._read_at: float | None = None
        # The last due time known fired, per flow: saves reading the state row every tick.
        self._fired: dict[str, datetime] = {}
        self._warned: set[tuple[str, int]] = set()

    def targets(self) -> list[FlowTarget]:
        """Return the live schedule flows, read again when the cached list is too old."""
        now = self._monotonic()
        if self._read_at is None or now - self._read_at >= self._ttl_s:
            with self._store.read_sessions() as session:
                self._targets = load_targets(session, trigger_types={TRIGGER})
            self._read_at = now
        return self._targets

    def tick(self, now: datetime | None = None) -> list[str]:
        """Fire every schedule due by `now` (default: the clock); return the runs started."""
        moment = now or self._clock()
        started: list[str] = []
        for target in self.targets():
            try:
                run_id = self._fire_if_due(target, moment)
            except Exception:  # one flow's failure (the database, say) must not stop the others
                log.exception("schedule.fire_failed flow=%s", target.flow_id)
                continue
            if run_id is not None:
                started.append(run_id)
        return started

    def run_forever(self, stop: threading.Event, tick_s: float = DEFAULT_TICK_S) -> None:
        """Tick every `tick_s` until `stop` is set; for a worker's thread. Never raises."""
        log.info("schedule.started tick_s=%s", tick_s)
        every(stop, tick_s, self.tick, "schedule.tick")
        log.info("schedule.stopped")

    def _due(self, target: FlowTarget, now: datetime, fired: datetime | None) -> datetime | None:
        trigger = target.document.trigger
        assert isinstance(trigger, ScheduleTrigger)
        after = target.published_at if fired is None else max(fired, target.published_at)
        return latest_due(trigger, target.document.timezone, after=after, until=now)

    def _fire_if_due(self, target: FlowTarget, now: datetime) -> str | None:
        if self._due(target, now, self._fired.get(target.flow_id)) is None:
            return None
        fired = self._read_state(target.flow_id)  # another worker may have fired it
        if fired is not None:
            self._fired[target.flow_id] = fired
        due = self._due(target, now, fired)
        if due is None:
            return None
        try:
            run = schedule_run(target, due)
        except ValueError as exc:
            if (target.flow_id, target.version) not in self._warned:
                self._warned.add((target.flow_id, target.version))
                log.error("schedule.cannot_run flow=%s reason=%s", target.flow_id, exc)
            return None
        report = self._intake.accept_leads([run])
        self._advance(target.flow_id, due, run.run_id)
        self._fired[target.flow_id] = due
        if report.accepted:
            log.info("schedule.fired run=%s", run.run_id)
            return run.run_id
        log.debug("schedule.already_fired run=%s", run.run_id)
        return None

    def _read_state(self, flow_id: str) -> datetime | None:
        with self._store.read_sessions() as session:
            row = session.get(ScheduleStateRow, flow_id)
            return None if row is None else row.last_due_at

    def _advance(self, flow_id: str, due: datetime, run_id: str) -> None:
        """Record `due` as fired, unless a later due time is recorded already."""
        with self._store.engine.begin() as conn:
            insert = dialect_insert(conn, STATE)
            values = {
                "flow_id": flow_id,
                "last_due_at": due,
                "last_run_id": run_id,
                "updated_at": utcnow(),
            }
            conn.execute(
                insert.values(values).on_conflict_do_update(
                    index_elements=["flow_id"],
                    set_={k: insert.excluded[k] for k in values if k != "flow_id"},
                    where=STATE.c.last_due_at < insert.excluded.last_due_at,
                )
            )
