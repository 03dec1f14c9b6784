"""The tag batcher on its own: who goes alone, who goes together, and what each call gets.

The calls are threads; "alone" and "together" are fakes that record what they were asked. A
gate holds the first call in flight until the others are seen waiting, so every test knows
which calls met.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

import pytest

from leadwire.connectors.contacts.errors import ContactsRateLimitedError
from leadwire.engine.execution.tag_batches import BulkUnavailableError, SendAloneError, TagBatcher
from leadwire.engine.runtime import StepResult
from leadwire.errors import RateLimitedError
from tests.engine.conftest import wait_until

KEY = ("crm", ("hot",))


@dataclass
class FakeCrm:
    """Answers single calls at once, except while `gate` is shut for the first one."""

    gate: threading.Event = field(default_factory=threading.Event)
    in_flight: threading.Event = field(default_factory=threading.Event)
    alone_for: list[str] = field(default_factory=list)
    bulk_for: list[list[str]] = field(default_factory=list)
    # What a bulk request does: tag these (None: all of them), or raise this.
    tags_only: set[str] | None = None
    bulk_error: Exception | None = None
    # Holds the bulk request in flight until set (None: it answers at once).
    bulk_gate: threading.Event | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def alone(self, contact_id: str) -> Callable[[], StepResult]:
        def call() -> StepResult:
            with self.lock:
                first = not self.alone_for
                self.alone_for.append(contact_id)
            if first:
                self.in_flight.set()
                assert self.gate.wait(10), "the test never opened the gate"
            return StepResult(summary=f"alone {contact_id}")

        return call

    def together(self, contact_ids: Sequence[str]) -> Mapping[str, StepResult]:
        with self.lock:
            self.bulk_for.append(list(contact_ids))
        if self.bulk_gate is not None:
            assert self.bulk_gate.wait(10), "the test never let the bulk request go"
        if self.bulk_error is not None:
            raise self.bulk_error
        tagged = [c for c in contact_ids if self.tags_only is None or c in self.tags_only]
        return {c: StepResult(summary="bulk", requests=0) for c in tagged}


@pytest.fixture
def pool() -> Iterator[ThreadPoolExecutor]:
    with ThreadPoolExecutor(max_workers=16) as threads:
        yield threads


def _meet(
    batcher: TagBatcher, crm: FakeCrm, pool: ThreadPoolExecutor, contacts: list[str]
) -> list[Future[StepResult]]:
    """Send `contacts[0]` and hold it in flight until all the others wait (joining in the
    order given, so the first of each batch is known); then let it go."""
    first = pool.submit(batcher.add, KEY, contacts[0], crm.alone(contacts[0]), crm.together)
    assert crm.in_flight.wait(10)
    rest = []
    for contact in contacts[1:]:
        rest.append(pool.submit(batcher.add, KEY, contact, crm.alone(contact), crm.together))
        wait_until(lambda: batcher.waiting(KEY) == len(rest), 10)
    crm.gate.set()
    return [first, *rest]


def test_a_call_with_none_in_flight_goes_alone_at_once() -> None:
    batcher, crm = TagBatcher(), FakeCrm()
    crm.gate.set()
    result = batcher.add(KEY, "c1", crm.alone("c1"), crm.together)
    assert result.summary == "alone c1"
    assert result.requests == 1
    assert crm.bulk_for == []
    assert batcher.lanes() == 0  # nothing is kept once idle


def test_calls_arriving_while_one_is_in_flight_go_together(pool: ThreadPoolExecutor) -> None:
    batcher, crm = TagBatcher(), FakeCrm()
    futures = _meet(batcher, crm, pool, ["c1", "c2", "c3", "c4", "c5"])
    results = [f.result(10) for f in futures]
    assert crm.alone_for == ["c1"]
    assert len(crm.bulk_for) == 1
    assert sorted(crm.bulk_for[0]) == ["c2", "c3", "c4", "c5"]
    assert results[0].summary == "alone c1"
    assert all(r.summary == "bulk" for r in results[1:])
    # One request for the first call, one for the four others: the sender's slot pays for it.
    assert sorted(r.requests for r in results) == [0, 0, 0, 1, 1]
    assert batcher.lanes() == 0


def test_other_keys_do_not_wait(pool: ThreadPoolExecutor) -> None:
    batcher, crm = TagBatcher(), FakeCrm()
    first = pool.submit(batcher.add, KEY, "c1", crm.alone("c1"), crm.together)
    assert crm.in_flight.wait(10)
    other = batcher.add(("crm", ("warm",)), "c2", lambda: StepResult(summary="warm"), crm.together)
    assert other.summary == "warm"
    crm.gate.set()
    assert first.result(10).summary == "alone c1"


def test_a_contact_the_bulk_request_did_not_tag_goes_alone(pool: ThreadPoolExecutor) -> None:
    batcher, crm = TagBatcher(), FakeCrm(tags_only={"c2", "c4"})
    results = [f.result(10) for f in _meet(batcher, crm, pool, ["c1", "c2", "c3", "c4"])]
    assert sorted(crm.alone_for) == ["c1", "c3"]
    assert [r.summary for r in results] == ["alone c1", "bulk", "alone c3", "bulk"]
    # The sender (c2, first to wait) made the bulk request; c3 made its own.
    assert [r.requests for r in results] == [1, 1, 1, 0]


def test_a_sender_its_bulk_request_missed_goes_alone_on_a_slot_lent_by_another(
    pool: ThreadPoolExecutor,
) -> None:
    batcher, crm = TagBatcher(), FakeCrm(tags_only={"c3", "c4"})
    results = [f.result(10) for f in _meet(batcher, crm, pool, ["c1", "c2", "c3", "c4"])]
    assert sorted(crm.alone_for) == ["c1", "c2"]
    assert [r.summary for r in results] == ["alone c1", "alone c2", "bulk", "bulk"]
    # c2 sent the bulk request and then its own, on the slot of c3, which the bulk request
    # carried: c3 holds its slot as if it had made a request.
    assert [r.requests for r in results] == [1, 1, 1, 0]


def test_a_failed_bulk_request_fails_every_call_of_its_batch(pool: ThreadPoolExecutor) -> None:
    refused = ContactsRateLimitedError("add tags: 429", retry_after_s=3.0, status_code=429)
    batcher, crm = TagBatcher(), FakeCrm(bulk_error=refused)
    futures = _meet(batcher, crm, pool, ["c1", "c2", "c3", "c4"])
    assert futures[0].result(10).summary == "alone c1"
    errors = [f.exception(10) for f in futures[1:]]
    for error in errors:
        assert isinstance(error, RateLimitedError)
        assert error.retry_after_s == 3.0
    # Each call raises its own copy: tracebacks of three threads never pile up on one.
    assert len({id(e) for e in errors}) == 3
    assert crm.alone_for == ["c1"]  # none of them was sent again on its own
    assert batcher.lanes() == 0


def test_a_bulk_request_that_cannot_serve_sends_each_call_alone(
    pool: ThreadPoolExecutor,
) -> None:
    batcher, crm = TagBatcher(), FakeCrm(bulk_error=BulkUnavailableError("no such endpoint"))
    futures = _meet(batcher, crm, pool, ["c1", "c2", "c3"])
    assert [futures[0].result(10).summary, futures[2].result(10).summary] == [
        "alone c1",
        "alone c3",
    ]
    # The sender spent its slot on the bulk request: its run retries the call, which then
    # goes alone even while another call of its tags is in flight.
    assert isinstance(futures[1].exception(10), SendAloneError)
    assert sorted(crm.alone_for) == ["c1", "c3"]
    crm.gate.clear()
    crm.in_flight.clear()
    crm.alone_for.clear()
    held = pool.submit(batcher.add, KEY, "c4", crm.alone("c4"), crm.together)
    assert crm.in_flight.wait(10)
    retried = batcher.add(KEY, "c2", crm.alone("c2"), crm.together)
    assert retried.summary == "alone c2"
    assert retried.requests == 1
    crm.gate.set()
    assert held.result(10).summary == "alone c4"
    assert len(crm.bulk_for) == 1


def test_batches_are_capped_and_go_in_turn(pool: ThreadPoolExecutor) -> None:
    batcher, crm = TagBatcher(max_batch=2), FakeCrm()
    contacts = ["c1", "c2", "c3", "c4", "c5", "c6"]
    results = [f.result(10) for f in _meet(batcher, crm, pool, contacts)]
    assert [sorted(b) for b in crm.bulk_for] == [["c2", "c3"], ["c4", "c5"]]
    assert crm.alone_for == ["c1", "c6"]  # the last batch had nobody to go with
    assert sum(r.requests for r in results) == 4
    with pytest.raises(ValueError, match="at least two"):
        TagBatcher(max_batch=1)


def test_a_contact_twice_in_a_batch_is_sent_once(pool: ThreadPoolExecutor) -> None:
    batcher, crm = TagBatcher(), FakeCrm()
    results = [f.result(10) for f in _meet(batcher, crm, pool, ["c1", "c2", "c2", "c3"])]
    assert len(crm.bulk_for) == 1
    assert sorted(crm.bulk_for[0]) == ["c2", "c3"]
    assert all(r.summary == "bulk" for r in results[1:])


def test_a_call_that_stopped_waiting_never_lends_its_slot(pool: ThreadPoolExecutor) -> None:
    bulk_gate = threading.Event()
    batcher = TagBatcher(patience_s=1.0)
    crm = FakeCrm(tags_only={"c3"}, bulk_gate=bulk_gate)
    first = pool.submit(batcher.add, KEY, "c1", crm.alone("c1"), crm.together)
    assert crm.in_flight.wait(10)
    sender = pool.submit(batcher.add, KEY, "c2", crm.alone("c2"), crm.together)
    wait_until(lambda: batcher.waiting(KEY) == 1, 10)
    member = pool.submit(batcher.add, KEY, "c3", crm.alone("c3"), crm.together)
    wait_until(lambda: batcher.waiting(KEY) == 2, 10)
    crm.gate.set()
    # The bulk request hangs past c3's patience: c3 goes alone, on its own slot...
    assert member.result(10).summary == "alone c3"
    bulk_gate.set()
    # ...so when the bulk request tags c3 but not c2, c2 has no slot to borrow.
    assert isinstance(sender.exception(10), SendAloneError)
    assert first.result(10).summary == "alone c1"


def test_a_batch_whose_turn_never_comes_goes_one_call_at_a_time(
    pool: ThreadPoolExecutor,
) -> None:
    batcher, crm = TagBatcher(patience_s=1.0), FakeCrm()
    first = pool.submit(batcher.add, KEY, "c1", crm.alone("c1"), crm.together)
    assert crm.in_flight.wait(10)
    sender = pool.submit(batcher.add, KEY, "c2", crm.alone("c2"), crm.together)
    wait_until(lambda: batcher.waiting(KEY) == 1, 10)
    member = pool.submit(batcher.add, KEY, "c3", crm.alone("c3"), crm.together)
    # c1 stays in flight past the sender's patience: neither waits for it any longer.
    assert sender.result(10).summary == "alone c2"
    assert member.result(10).summary == "alone c3"
    crm.gate.set()
    assert first.result(10).summary == "alone c1"
    assert crm.bulk_for == []
    assert batcher.lanes() == 0


def test_a_call_whose_bulk_request_never_answers_goes_alone_in_the_end(
    pool: ThreadPoolExecutor,
) -> None:
    bulk_gate = threading.Event()
    batcher, crm = TagBatcher(patience_s=1.0), FakeCrm(bulk_gate=bulk_gate)
    futures = _meet(batcher, crm, pool, ["c1", "c2", "c3"])
    # The bulk request hangs past c3's patience: c3 goes alone meanwhile.
    assert futures[2].result(10).summary == "alone c3"
    bulk_gate.set()
    assert futures[1].result(10).summary == "bulk"  # c3 tagged twice: tags are sets
    assert futures[0].result(10).summary == "alone c1"
