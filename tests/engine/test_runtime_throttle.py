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
from dataclasses import dataclass, field

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leadwire.engine.runtime import RateBudget, RateObservation
from leadwire.engine.runtime.throttle import LocationThrottle


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
                throttle.finished("A", ticket)
                continue
            if size < 0:
                throttle.release("A", ticket, 0)
                continue
            # A step asks for no more calls than the budget holds (as `_run_calls` does).
            batch = min(size, throttle.budget.calls_per_interval())
            wait = throttle.admit("A", ticket, batch)
            if wait > 0:
                self.waits += 1
                order += 1
                heapq.heappush(due, (at + wait, order, ticket, size))
                continue
            sent = at
            for _ in range(batch):  # one after the other, as a step makes them
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


def test_a_returning_segment_goes_before_new_ones() -> None:
    clock = Clock()
    throttle = LocationThrottle(RateBudget(burst=4, headroom=1), clock=clock)
    assert throttle.admit("A", "first", 4) == 0
    wait = throttle.admit("A", "second", 4)
    assert wait > 0
    for _ in range(4):
        throttle.finished("A", "first")
    throttle.release("A", "first", 0)
    clock.now += wait
    # A newcomer queues behind the segment whose turn it is...
    assert throttle.admit("A", "newcomer", 1) > 0
    # ...which goes.
    assert throttle.admit("A", "second", 4) == 0
    assert throttle.admit("B", "elsewhere", 4) == 0  # locations are paced apart


def test_slots_of_calls_not_made_are_given_back() -> None:
    throttle = LocationThrottle(RateBudget(burst=4, headroom=1), clock=Clock())
    assert throttle.admit("A", "one", 4) == 0
    throttle.finished("A", "one")
    throttle.release("A", "one", 3)  # the first call failed: the other three were never made
    assert throttle.admit("A", "two", 3) == 0
    assert throttle.admit("A", "three", 1) > 0


def test_a_batch_larger_than_the_budget_is_refused() -> None:
    throttle = LocationThrottle(RateBudget(burst=3, headroom=1), clock=Clock())
    with pytest.raises(ValueError, match="3 calls"):
        throttle.admit("A", "big", 8)


def test_a_spent_budget_pauses_its_location_for_an_interval() -> None:
    clock = Clock()
    throttle = LocationThrottle(RateBudget(), clock=clock)
    # No call of this worker's made the CRM's count: all 100 were someone else's.
    throttle.observe("A", RateObservation(100, 0, 10_000, 5000))
    assert throttle.admit("A", "run", 1) == 10.0
    assert throttle.admit("B", "run", 1) == 0.0
    clock.now += 10
    assert throttle.admit("A", "run", 1) == 0.0


def test_a_429_pauses_for_its_retry_after_and_the_daily_quota_until_midnight() -> None:
    clock = Clock()
    throttle = LocationThrottle(RateBudget(), clock=clock)
    throttle.refuse("A", 3.0)
    assert throttle.wait_s("A") == 3.0
    throttle.refuse("A", 1.0)  # a shorter pause never shortens a longer one
    assert throttle.wait_s("A") == 3.0
    throttle.observe("B", RateObservation(100, 50, 10_000, 0))
    assert throttle.wait_s("B") == 86_400 - clock.now % 86_400


def test_calls_someone_else_made_hold_slots_too() -> None:
    clock = Clock()
    throttle = LocationThrottle(RateBudget(burst=10, headroom=1), clock=clock)
    assert throttle.admit("A", "mine", 1) == 0
    throttle.finished("A", "mine")
    throttle.release("A", "mine", 0)
    # The CRM counts 8 calls in its window; this worker made one.
    throttle.observe("A", RateObservation(10, 2, 10_000, None))
    assert throttle.admit("A", "two", 2) == 0
    assert throttle.admit("A", "more", 1) > 0
    # Its own calls never count twice: an answer counting them holds nothing more, so every
    # slot is free an interval on.
    throttle.finished("A", "two")
    throttle.finished("A", "two")
    throttle.release("A", "two", 0)
    throttle.observe("A", RateObservation(10, 0, 10_000, None))
    assert throttle.admit("A", "more", 1) > 0
    clock.now += 10
    assert throttle.admit("A", "more", 10) == 0


def test_published_limits_are_followed() -> None:
    throttle = LocationThrottle(RateBudget(), clock=Clock())
    throttle.observe("A", RateObservation(100, 99, 10_000, None))
    assert throttle.budget.calls_per_interval() == 100
    throttle.observe("A", RateObservation(50, 49, 5_000, None))
    assert (throttle.budget.burst, throttle.budget.interval_s) == (50, 5.0)
    assert throttle.budget.calls_per_interval() == 50
    throttle.set_budget(RateBudget(burst=20, headroom=1))
    assert throttle.budget.calls_per_interval() == 20
