"""The throttle: calls paced per location, waiting segments given turns, pauses.

The property tests drive the throttle as a worker does, in simulated time: segments of a few
calls arrive, ask for their slots, make their calls one after the other (each taking a random
time to answer) or come back at the time they were given. The CRM is then free to count a call
at any moment between its sending and its answer; whatever it picks, no span of the interval
may hold more than the budget's calls.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine

from leadwire.engine.runtime import RateBudget, RateObservation, RetryPolicy, StepResult
from leadwire.engine.runtime.calls import run_calls
from leadwire.engine.runtime.context import SegmentContext
from leadwire.engine.runtime.throttle import LocationThrottle
from leadwire.errors import FatalError


def _wait(throttle: LocationThrottle, location_id: str, ticket: str, calls: int) -> float:
    """0.0 if `calls` requests may go now (all of them), else how long to wait."""
    admission = throttle.admit(location_id, ticket, calls)
    assert admission.granted in (0, calls)
    return admission.wait_s


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Simulation:
    """Segments of `calls` calls each, run through one throttle on a simulated clock."""

    budget: RateBudget
    seed: int
    clock: Clock = field(default_factory=Clock)
    # (sent, answered) of every call made
    calls: list[tuple[float, float]] = field(default_factory=list)
    waits: int = 0
    # The share of calls another call's bulk request carries: they make no request.
    carried: float = 0.0

    def run(self, arrivals: list[tuple[float, int]], max_call_s: float) -> float:
        """Run every segment to its end; return when the last call was answered."""
        rng = random.Random(self.seed)
        throttle = LocationThrottle(self.budget, clock=self.clock)
        start = self.clock.now
        # (time, order, ticket, calls): a segment due to ask for its slots; with 0 calls, an
        # answer, which frees the slot of one of the ticket's calls; with -n, the end of the
        # ticket's step, n calls not made
        due = [(start + at, n, f"run-{n}", size) for n, (at, size) in enumerate(arrivals)]
        heapq.heapify(due)
        order = len(due)
        while due:
            at, _, ticket, size = heapq.heappop(due)
            self.clock.now = at
            if size == 0:
                throttle.finished("A", ticket, 1)
                continue
            if size < 0:
                throttle.release("A", ticket, 0)
                continue
            admission = throttle.admit("A", ticket, size)
            if not admission.granted:
                self.waits += 1
                order += 1
                heapq.heappush(due, (at + admission.wait_s, order, ticket, size))
                continue
            batch = admission.granted  # the rest in the segment's next step
            sent = at
            for _ in range(batch):  # one after the other, as a step makes them
                if rng.random() < self.carried:
                    throttle.finished("A", ticket, 0)
                    continue
                answered = sent + rng.uniform(0.001, max_call_s)
                self.calls.append((sent, answered))
                order += 1
                heapq.heappush(due, (answered, order, ticket, 0))
                sent = answered
            order += 1
            heapq.heappush(due, (sent, order, ticket, -1))
            if size > batch:  # the rest in the segment's next step
                order += 1
                heapq.heappush(due, (sent, order, ticket, size - batch))
        return max((a for _, a in self.calls), default=start) - start

    def worst_window(self) -> int:
        """The most calls the CRM can have counted in one span of the interval."""
        rng = random.Random(self.seed + 1)
        counted = sorted(rng.uniform(sent, answered) for sent, answered in self.calls)
        worst, low = 0, 0
        for high, t in enumerate(counted):
            while counted[low] <= t - self.budget.interval_s:
                low += 1
            worst = max(worst, high - low + 1)
        return worst


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 120),
    st.lists(st.tuples(st.floats(0, 40), st.integers(1, 9)), min_size=1, max_size=80),
    st.floats(0.001, 3.0),
    st.integers(0, 2**32),
)
def test_no_span_of_the_interval_carries_more_than_the_budget(
    burst: int, arrivals: list[tuple[float, int]], max_call_s: float, seed: int
) -> None:
    budget = RateBudget(burst=burst, interval_s=10.0)
    simulation = Simulation(budget, seed)
    simulation.run(arrivals, max_call_s)
    assert len(simulation.calls) == sum(size for _, size in arrivals)  # every segment ran
    assert simulation.worst_window() <= budget.calls_per_interval()


def test_a_backlog_spends_the_budget_with_few_waits_per_segment() -> None:
    # 300 leads of 4 calls at once against 100 calls per 10 s: the budget is the limit, and
    # the throttle should spend nearly all of it.
    budget = RateBudget()
    simulation = Simulation(budget, seed=7)
    took = simulation.run([(0.0, 4)] * 300, max_call_s=0.05)
    assert simulation.worst_window() <= budget.calls_per_interval()
    minute = sum(1 for sent, _ in simulation.calls if sent - simulation.calls[0][0] < 60)
    assert minute >= 0.9 * 600  # >= 90 % of six windows' 100 calls
    assert took < 1200 / 90 * 10
    # Waiting segments come back in turn, not all at a window's end: a few times each at most.
    assert simulation.waits < 300 * 2


def test_a_backlog_whose_calls_bulk_requests_carry_still_spends_the_budget() -> None:
    # One call in four rides on another's request and gives its slot back: turns must come
    # faster for the freed slots to be used (they came at four calls' pace before).
    budget = RateBudget()
    simulation = Simulation(budget, seed=7, carried=0.25)
    simulation.run([(0.0, 4)] * 400, max_call_s=0.05)
    assert simulation.worst_window() <= budget.calls_per_interval()
    minute = sum(1 for sent, _ in simulation.calls if sent - simulation.calls[0][0] < 60)
    assert minute >= 0.9 * 600


def test_a_returning_segment_goes_before_new_ones() -> None:
    clock = Clock()
    throttle = LocationThrottle(RateBudget(burst=4, headroom=1), clock=clock)
    assert _wait(throttle, "A", "first", 4) == 0
    wait = _wait(throttle, "A", "second", 4)
    assert wait > 0
    for _ in range(4):
        throttle.finished("A", "first", 1)
    throttle.release("A", "first", 0)
    clock.now += wait
    # A newcomer queues behind the segment whose turn it is...
    assert _wait(throttle, "A", "newcomer", 1) > 0
    # ...which goes.
    assert _wait(throttle, "A", "second", 4) == 0
    assert _wait(throttle, "B", "elsewhere", 4) == 0  # locations are paced apart


def test_slots_of_calls_not_made_are_given_back() -> None:
    throttle = LocationThrottle(RateBudget(burst=4, headroom=1), clock=Clock())
    assert _wait(throttle, "A", "one", 4) == 0
    throttle.finished("A", "one", 1)
    throttle.release("A", "one", 3)  # the first call failed: the other three were never made
    assert _wait(throttle, "A", "two", 3) == 0
    assert _wait(throttle, "A", "three", 1) > 0


def _turn_spacing(calls: list[tuple[int, int]]) -> float:
    """The time between turns of waiting segments whose calls took (requests, slots) each,
    once a backlog's worth of such segments ran."""
    clock = Clock()
    throttle = LocationThrottle(RateBudget(burst=100, headroom=1), clock=clock)
    size = sum(slots for _, slots in calls)
    for n in range(300):
        assert throttle.admit("A", f"warm-{n}", size).granted == size
        for sent, slots in calls:
            throttle.finished("A", f"warm-{n}", sent, slots=slots)
        throttle.release("A", f"warm-{n}", 0)
        clock.now += 1.0
    clock.now += 20.0  # every slot free again
    while throttle.admit("A", f"full-{clock.now}", size).granted:
        clock.now += 0.001
    waits = [throttle.admit("A", f"line-{n}", size).wait_s for n in range(3)]
    return waits[2] - waits[1]


def test_turns_come_at_the_pace_of_the_requests_calls_really_make() -> None:
    hold = 10.1  # the interval, and the least time a step's calls are assumed to take
    one = (1, 1)
    assert _turn_spacing([one] * 4) == pytest.approx(hold / 25)  # 25 segments per hold
    # One call in four carried by another's bulk request: three slots' worth per segment.
    assert _turn_spacing([one, (0, 1), one, one]) == pytest.approx(hold / 33, rel=0.05)
    # A task and a note looked up, then created (a CRM without idempotency keys): six slots.
    assert _turn_spacing([one, one, (2, 2), (2, 2)]) == pytest.approx(hold / 16, rel=0.05)
    # ... and where the look-ups found them (a retry): four requests, four slots' worth.
    assert _turn_spacing([one, one, (1, 2), (1, 2)]) == pytest.approx(hold / 25, rel=0.05)


def test_a_batch_larger_than_the_budget_gets_what_there_is() -> None:
    throttle = LocationThrottle(RateBudget(burst=3, headroom=1), clock=Clock())
    assert throttle.admit("A", "big", 8).granted == 3  # the rest in a later step
    with pytest.raises(ValueError, match="at least one"):
        throttle.admit("A", "none", 0)


def test_a_wall_clock_set_back_holds_nothing() -> None:
    clock, wall = Clock(), Clock()
    throttle = LocationThrottle(RateBudget(burst=1, headroom=1), clock=clock, wall_clock=wall)
    assert _wait(throttle, "A", "one", 1) == 0
    throttle.finished("A", "one", 1)
    throttle.release("A", "one", 0)
    wall.now -= 3600  # NTP, a VM resumed: spans are measured on the monotonic clock
    clock.now += 10
    assert _wait(throttle, "A", "two", 1) == 0


def test_a_spent_budget_pauses_its_location_for_an_interval() -> None:
    clock = Clock()
    throttle = LocationThrottle(RateBudget(), clock=clock)
    # No call of this worker's made the CRM's count: all 100 were someone else's.
    throttle.observe("A", RateObservation(100, 0, 10_000, 5000))
    assert _wait(throttle, "A", "run", 1) == 10.0
    assert _wait(throttle, "B", "run", 1) == 0.0
    clock.now += 10
    assert _wait(throttle, "A", "run", 1) == 0.0


def test_a_429_pauses_for_its_retry_after_and_the_daily_quota_until_midnight() -> None:
    clock = Clock()
    throttle = LocationThrottle(RateBudget(), clock=clock, wall_clock=clock)
    throttle.refuse("A", 3.0)
    assert throttle.wait_s("A") == 3.0
    throttle.refuse("A", 1.0)  # a shorter pause never shortens a longer one
    assert throttle.wait_s("A") == 3.0
    throttle.observe("B", RateObservation(100, 50, 10_000, 0))
    assert throttle.wait_s("B") == 86_400 - clock.now % 86_400


def test_calls_someone_else_made_hold_slots_too() -> None:
    clock = Clock()
    throttle = LocationThrottle(RateBudget(burst=10, headroom=1), clock=clock)
    assert _wait(throttle, "A", "mine", 1) == 0
    throttle.finished("A", "mine", 1)
    throttle.release("A", "mine", 0)
    # The CRM counts 8 calls in its window; this worker made one.
    throttle.observe("A", RateObservation(10, 2, 10_000, None))
    assert _wait(throttle, "A", "two", 2) == 0
    assert _wait(throttle, "A", "more", 1) > 0
    # Its own calls never count twice: an answer counting them holds nothing more, so every
    # slot is free an interval on.
    throttle.finished("A", "two", 1)
    throttle.finished("A", "two", 1)
    throttle.release("A", "two", 0)
    throttle.observe("A", RateObservation(10, 0, 10_000, None))
    assert _wait(throttle, "A", "more", 1) > 0
    clock.now += 10
    assert _wait(throttle, "A", "more", 10) == 0


def test_published_limits_are_followed() -> None:
    throttle = LocationThrottle(RateBudget(), clock=Clock())
    throttle.observe("A", RateObservation(100, 99, 10_000, None))
    assert throttle.budget.calls_per_interval() == 100
    throttle.observe("A", RateObservation(50, 49, 5_000, None))
    assert (throttle.budget.burst, throttle.budget.interval_s) == (50, 5.0)
    assert throttle.budget.calls_per_interval() == 50


# --- the calls step's use of the throttle --------------------------------------------------


@dataclass(frozen=True)
class _Call:
    step_id: str
    requests: int = 1

    def describe(self) -> str:
        return self.step_id


class _Stop(BaseException):
    """What stopping a worker's thread mid-call raises."""


@dataclass
class _Executor:
    """Answers each call by its step id: "fail" is fatal, "pause-others" has another segment
    meet a 429 meanwhile, "carried" rode on another call's bulk request and "twice" needed a
    request of its own after one; everything else succeeds."""

    throttle: LocationThrottle
    made: list[str] = field(default_factory=list)

    def looks_up(self, payload: dict[str, object]) -> bool:
        return False

    def prepare(self, payload: dict[str, object], received_ms: int) -> dict[str, object]:
        return {}

    def plan(self, payload: dict[str, object], prepared: dict[str, object]) -> list[_Call]:
        return []

    def execute(self, call: _Call, bindings: Mapping[str, str]) -> StepResult:
        self.made.append(call.step_id)
        if call.step_id == "fail":
            raise FatalError("refused")
        if call.step_id == "stop":
            raise _Stop
        if call.step_id == "pause-others":
            self.throttle.refuse("A", 5.0)
        return StepResult(requests={"carried": 0, "twice": 2, "found": 1}.get(call.step_id, 1))


def _context(throttle: LocationThrottle, executor: _Executor) -> SegmentContext:
    return SegmentContext(
        executor=executor,
        throttle=throttle,
        retry=RetryPolicy(),
        calls_per_step=8,
        queue_name="q",
        engine=create_engine("sqlite://"),
    )


def _outcomes(out: dict[str, Any]) -> list[str]:
    return [str(record["outcome"]) for record in out["records"]]


def test_a_step_holds_slots_only_for_the_requests_it_made() -> None:
    clock = Clock()
    throttle = LocationThrottle(RateBudget(burst=10, headroom=1), clock=clock)
    executor = _Executor(throttle)
    ctx = _context(throttle, executor)
    calls = [_Call("plan", requests=0), _Call("a"), _Call("fail"), _Call("b")]
    out = run_calls(ctx, "A", "run-1", 0, calls, {})
    assert _outcomes(out) == ["ok", "ok", "fatal"]
    assert executor.made == ["plan", "a", "fail"]
    # Two requests made hold their slots for an interval; the one not made gave its back.
    assert throttle.held("A") == 2
    clock.now += 10
    assert throttle.held("A") == 0


def test_a_call_another_request_carried_gives_its_slot_back_at_once() -> None:
    clock = Clock()
    throttle = LocationThrottle(RateBudget(burst=6, headroom=1), clock=clock)
    executor = _Executor(throttle)
    # "twice" and "found" are a task looked up, then created (or found): two slots each.
    calls = [_Call("a"), _Call("carried"), _Call("twice", requests=2), _Call("found", 2)]
    out = run_calls(_context(throttle, executor), "A", "run-1", 0, calls, {})
    assert _outcomes(out) == ["ok", "ok", "ok", "ok"]
    # Six slots taken, four requests made: one by "a", none by "carried", two by "twice",
    # one by "found".
    assert throttle.held("A") == 4
    assert _wait(throttle, "A", "next", 2) == 0  # the slots of requests not made are free
    assert _wait(throttle, "A", "full", 1) > 0
    clock.now += 10
    assert throttle.held("A") == 2  # only "next", still in flight


@pytest.mark.parametrize(
    ("burst", "calls", "outcomes", "held"),
    [
        # A look-up, then a create that failed: which reached the CRM is unknown, so both
        # hold their slots ("b" was never made: its slot is free).
        (4, [_Call("a"), _Call("fail", 2), _Call("b")], ["ok", "fatal"], 3),
        # A call of two requests goes on a budget of one; "b" waits for the next step.
        (1, [_Call("twice", 2), _Call("b")], ["ok"], 2),
    ],
    ids=["failed", "budget-of-one"],
)
def test_requests_that_may_have_gone_hold_their_slots_for_an_interval(
    burst: int, calls: list[_Call], outcomes: list[str], held: int
) -> None:
    clock = Clock()
    throttle = LocationThrottle(RateBudget(burst=burst, headroom=1), clock=clock)
    out = run_calls(_context(throttle, _Executor(throttle)), "A", "run-1", 0, calls, {})
    assert _outcomes(out) == outcomes
    assert throttle.held("A") == held
    clock.now += 10
    assert throttle.held("A") == 0  # and nothing is left in flight


def test_a_call_stopped_midway_holds_its_slots() -> None:
    clock = Clock()
    throttle = LocationThrottle(RateBudget(burst=4, headroom=1), clock=clock)
    calls = [_Call("a"), _Call("stop", 2), _Call("b")]
    with pytest.raises(_Stop):
        run_calls(_context(throttle, _Executor(throttle)), "A", "run-1", 0, calls, {})
    assert throttle.held("A") == 3  # its two requests may have gone; "b"'s slot is free
    clock.now += 10
    assert throttle.held("A") == 0


def test_a_pause_met_midway_ends_the_step_with_a_wait() -> None:
    clock = Clock()
    throttle = LocationThrottle(RateBudget(burst=10, headroom=1), clock=clock)
    executor = _Executor(throttle)
    out = run_calls(
        _context(throttle, executor), "A", "run-1", 3, [_Call("pause-others"), _Call("b")], {}
    )
    assert _outcomes(out) == ["ok", "wait"]
    assert out["records"][1]["index"] == 4
    assert out["records"][1]["retry_after_s"] == 5.0
    assert executor.made == ["pause-others"]
    clock.now += 10  # after the pause and the interval, nothing is held
    assert throttle.held("A") == 0


def test_a_step_larger_than_the_budget_makes_what_it_was_granted() -> None:
    clock = Clock()
    throttle = LocationThrottle(RateBudget(burst=2, headroom=1), clock=clock)
    executor = _Executor(throttle)
    calls = [_Call("a"), _Call("note", requests=0), _Call("b"), _Call("c")]
    out = run_calls(_context(throttle, executor), "A", "run-1", 0, calls, {})
    assert _outcomes(out) == ["ok", "ok", "ok"]  # "c" is for the segment's next step
    assert executor.made == ["a", "note", "b"]
    waited = run_calls(_context(throttle, executor), "A", "run-1", 3, [_Call("c")], {})
    assert _outcomes(waited) == ["wait"]
