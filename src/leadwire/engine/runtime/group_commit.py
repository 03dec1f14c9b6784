"""Group commit for intake: leads of concurrent callers share durable transactions.

A webhook brings one lead; a durable commit costs a disk flush (about 2 ms here), so one
transaction per request caps intake at a few hundred leads a second. Callers hand their leads
to a `GroupIntake`: one of them (the leader) commits everything waiting in one `accept_leads`
transaction while the others wait, and what arrives during that commit goes in the next one.
Nothing waits on a timer: under load, batches grow by themselves to fill the flush time.
Each caller still returns only after its own leads are committed.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass

from leadwire.engine.runtime.intake import IntakeReport, LeadIn, LeadIntake


@dataclass
class _Ticket:
    leads: Sequence[LeadIn]
    done: Future[IntakeReport]


class GroupIntake:
    """Accepts leads from many threads; one committer thread commits what arrives together."""

    def __init__(self, intake: LeadIntake, *, max_batch: int = 500) -> None:
        self._intake = intake
        self._max_batch = max_batch
        self._ready = threading.Condition()
        self._waiting: list[_Ticket] = []
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="intake-group-commit", daemon=True)
        self._thread.start()

    def accept(self, leads: Sequence[LeadIn]) -> IntakeReport:
        """Durably enqueue `leads` (with other callers' leads); return once committed."""
        return self.submit(leads).result()

    def submit(self, leads: Sequence[LeadIn]) -> Future[IntakeReport]:
        """Hand `leads` over to be committed; the future is done once they are (or failed).

        For callers that must not block waiting, such as an event loop (`asyncio.wrap_future`).
        """
        ticket = _Ticket(leads, Future())
        with self._ready:
            if self._closed:
                raise RuntimeError("intake is closed")
            self._waiting.append(ticket)
            self._ready.notify()
        return ticket.done

    def close(self) -> None:
        """Commit what is waiting, then stop the committer thread."""
        with self._ready:
            self._closed = True
            self._ready.notify()
        self._thread.join()

    def _run(self) -> None:
        while True:
            with self._ready:
                while not self._waiting and not self._closed:
                    self._ready.wait()
                if not self._waiting:  # closed, and everything committed
                    return
                batch = self._take()
            if batch:  # empty when every caller waiting had given up
                self._commit(batch)

    def _take(self) -> list[_Ticket]:
        taken: list[_Ticket] = []
        size = 0
        while self._waiting and (
            not taken or size + len(self._waiting[0].leads) <= self._max_batch
        ):
            ticket = self._waiting.pop(0)
            # A caller that gave up first (its future cancelled) is left out; once running, a
            # ticket can no longer be cancelled, so its result can always be set.
            if ticket.done.set_running_or_notify_cancel():
                taken.append(ticket)
                size += len(ticket.leads)
        return taken

    def _commit(self, batch: list[_Ticket]) -> None:
        try:
            report = self._intake.accept_leads([lead for t in batch for lead in t.leads])
        except Exception as exc:
            if len(batch) == 1:
                batch[0].done.set_exception(exc)
                return
            # One caller's bad lead must not fail the others: commit each on its own.
            for ticket in batch:
                self._commit([ticket])
            return
        accepted = set(report.accepted)
        for ticket in batch:
            mine_accepted, mine_dupes = [], []
            for lead in ticket.leads:
                run_id = lead.run_id
                if run_id in accepted:
                    accepted.discard(run_id)  # a later copy in the batch is a duplicate
                    mine_accepted.append(run_id)
                else:
                    mine_dupes.append(run_id)
            ticket.done.set_result(IntakeReport(tuple(mine_accepted), tuple(mine_dupes)))
