"""Faults in the middle of a stream of leads, end to end: nothing lost, nothing twice.

Each scenario submits a stream of leads to the sandbox at a steady rate, breaks something while
the stream flows, lets it recover, then checks every lead: one contact (found by its e-mail and
by its phone), the one all its runs wrote to, with one task and one note, and every run ended
(see `checks`). One stack per backend serves every scenario; the CRM proxy's faults are cleared
after each.
"""

from __future__ import annotations

from collections import Counter

import pytest

from tests.e2e.checks import (
    EXPECTED_TAGS,
    STAGE_TAG,
    all_delivered,
    assert_accounted_for,
    assert_exactly_once,
    deliveries,
    executors,
    landed,
    succeeded_runs,
    tag_steps,
    wait_until,
    wait_until_ended,
)
from tests.e2e.leads import People, Sent, stream
from tests.e2e.stack import CRM_TIMEOUT_S, Stack
from tests.engine.test_runtime_proxy import FaultProxy

pytestmark = pytest.mark.slow

LEADS = 40
RATE_PER_S = 10.0
# Every request matches the proxy's rules: the key part "" is in every Idempotency-Key (and in
# the empty one of a request without a key).
EVERY_CALL = ""
BULK_PATH = "/contacts/bulk/tags/update/add"
# Longer than the engine's CRM client waits for an answer, so a held call times out there.
HANG_S = CRM_TIMEOUT_S + 2.0


def _assert_landed_once(stack: Stack, sent: list[Sent]) -> None:
    wait_until_ended(stack, sent)
    # A call the proxy still holds may yet reach the CRM: count only once none is left.
    wait_until(lambda: _is_idle(stack.proxy), 60, "the CRM proxy answering every call")
    assert_accounted_for(stack, sent)
    assert_exactly_once(stack, sent)


def _is_idle(proxy: FaultProxy) -> bool:
    with proxy.lock:
        return len(proxy.log) == len(proxy.arrivals)


def _answered(proxy: FaultProxy, status: int, since: int) -> int:
    with proxy.lock:
        return sum(1 for seen in proxy.log[since:] if seen.status == status)


def _logged(proxy: FaultProxy) -> int:
    with proxy.lock:
        return len(proxy.log)


def test_a_calm_stream_lands_every_lead_once(stack: Stack, people: People) -> None:
    sent = stream(stack, [people.next("calm") for _ in range(10)], RATE_PER_S).finish()
    _assert_landed_once(stack, sent)


def test_every_new_lead_gets_its_initial_stage(stack: Stack, people: People) -> None:
    # The three flows of a lead race to the CRM, and each upserts its contact. Pin the order in
    # which the stage's flow comes last (its upsert alone carries the postal code): the contact
    # another flow created for this lead is still new to it (fixed in 8628a53).
    stack.ordering.delay(b'"postalCode"', 2.0)
    try:
        sent = stream(stack, [people.next("stage") for _ in range(5)], RATE_PER_S).finish()
        _assert_landed_once(stack, sent)
    finally:
        stack.ordering.delay(b"", 0)
    missing = [s.lead_id for s in sent if STAGE_TAG not in landed(stack, s.person).tags]
    assert not missing, f"{len(missing)} of {len(sent)} new leads have no {STAGE_TAG}"


def test_a_slow_crm_gets_tags_in_bulk_and_every_lead_lands_once(
    stack: Stack, people: People
) -> None:
    # A CRM taking 0.3 s a call and leads arriving faster: runs meet at the same tags step,
    # and their calls go as bulk requests. Every lead still gets every tag its runs add.
    proxy = stack.proxy
    since = _logged(proxy)
    proxy.slow(EVERY_CALL, 0.3)
    try:
        sent = stream(stack, [people.next("bulk") for _ in range(LEADS)], 2 * RATE_PER_S).finish()
        _assert_landed_once(stack, sent)
    finally:
        proxy.slow(EVERY_CALL, 0)
    problems = [
        f"lead {s.lead_id}: tags {sorted(tags)}"
        for s in sent
        if not (tags := landed(stack, s.person).tags) >= {STAGE_TAG, "warm", *EXPECTED_TAGS}
    ]
    assert not problems, "\n".join(problems[:10])
    with proxy.lock:
        answered = [s for s in proxy.log[since:] if s.method == "POST" and 200 <= s.status < 300]
    bulk = sum(1 for s in answered if s.path.endswith(BULK_PATH))
    single = sum(1 for s in answered if s.path.endswith("/tags"))
    calls = tag_steps(stack, sent)
    assert bulk, f"no bulk request: {single} single tag requests for {calls} tag calls"
    assert bulk + single < calls, f"{bulk} bulk + {single} single requests for {calls} calls"


def test_a_worker_killed_mid_stream_then_restarted(stack: Stack, people: People) -> None:
    # A CRM taking half a second a call: the first half's runs are still going when it pauses.
    stack.proxy.slow(EVERY_CALL, 0.5)
    flowing = stream(
        stack, [people.next("kill") for _ in range(LEADS)], RATE_PER_S, pause_at=LEADS // 2
    )
    first_half = flowing.wait_paused()
    wait_until(lambda: succeeded_runs(stack, first_half) >= 1, 60, "a first run succeeding")
    victim = stack.workers[0]
    victim.kill9()
    assert succeeded_runs(stack, first_half) < stack.flows * len(first_half), (
        "the kill must land while runs are going"
    )
    stack.proxy.slow(EVERY_CALL, 0.05)
    # The stream goes on meanwhile: the receiver needs no worker to accept leads (on
    # PostgreSQL the other worker goes on running them).
    sent = flowing.finish()
    stack.restart(victim)  # the same executor id: it recovers what its last life left pending
    _assert_landed_once(stack, sent)
    if len(stack.workers) > 1:
        survivors = {w.executor_id for w in stack.workers if w is not victim}
        second_half = sent[len(first_half) :]
        assert survivors <= executors(stack, second_half), "no other worker took over"


def test_the_crm_failing_rate_limiting_then_hanging_for_a_while(
    stack: Stack, people: People
) -> None:
    proxy = stack.proxy
    flowing = stream(stack, [people.next("crm") for _ in range(LEADS)], RATE_PER_S)
    wait_until(lambda: succeeded_runs(stack, flowing.sent) >= 3, 60, "first runs succeeding")
    # Phases end on what the proxy saw, not on a clock: each fault certainly hit the engine.
    since = _logged(proxy)
    proxy.fail(EVERY_CALL, (500, {}), sticky=True)
    wait_until(lambda: _answered(proxy, 500, since) >= 20, 60, "20 calls answered 500")
    proxy.clear(EVERY_CALL)
    proxy.fail(EVERY_CALL, (429, {"Retry-After": "1"}), sticky=True)
    wait_until(lambda: _answered(proxy, 429, since) >= 10, 60, "10 calls answered 429")
    proxy.clear(EVERY_CALL)
    # Calls arriving now are held past the engine's timeout, then reach the CRM anyway: the
    # engine retries a call the CRM may be carrying out at the same moment.
    with proxy.lock:
        before, logged = len(proxy.arrivals), len(proxy.log)
    proxy.slow(EVERY_CALL, HANG_S)
    wait_until(lambda: len(proxy.arrivals) >= before + 5, 60, "5 calls held")
    proxy.slow(EVERY_CALL, 0)
    sent = flowing.finish()
    _assert_landed_once(stack, sent)
    # The held calls did reach the CRM, and so did the engine's retries of them: the CRM
    # carried out those writes twice over, and the checks above say it kept one of each.
    with proxy.lock:
        answered = proxy.log[logged:]
    done_twice = Counter(s.key for s in answered if s.key and 200 <= s.status < 300)
    assert max(done_twice.values()) >= 2, "no call reached the CRM twice"


def test_every_webhook_delivered_twice(stack: Stack, people: People) -> None:
    # A form-level subscription beside the account-level one: Pinterest then delivers each lead
    # of the form to both, through two URLs with two keys, each delivery on its own schedule.
    name = "e2e-form-hook"
    subscription = stack.add_form_subscription(name)
    try:
        sent = stream(stack, [people.next("twice") for _ in range(LEADS)], RATE_PER_S).finish()
        assert all(len(s.subscriptions) == 2 for s in sent)
        wait_until(lambda: all_delivered(stack, sent), 60, "both deliveries of every lead")
    finally:
        stack.remove_form_subscription(name, subscription)
    _assert_landed_once(stack, sent)


def test_the_receiver_restarted_mid_stream(stack: Stack, people: People) -> None:
    flowing = stream(stack, [people.next("receiver") for _ in range(LEADS)], RATE_PER_S)
    wait_until(lambda: len(flowing.sent) >= 10, 30, "10 leads submitted")
    # A crash, not a clean stop: a delivery in flight gets no answer and is sent again.
    stack.receiver.kill9()
    wait_until(lambda: len(flowing.sent) >= 20, 30, "10 more leads submitted")
    # Restart only once the sandbox has met the dead receiver (on a loaded machine its
    # dispatcher may lag behind the stream): then some delivery is sure to be a retry.
    wait_until(
        lambda: any(
            attempts > 1 or (status != "delivered" and attempts >= 1)
            for found in deliveries(stack, list(flowing.sent)).values()
            for status, attempts in found
        ),
        60,
        "a delivery refused by the dead receiver",
    )
    stack.restart(stack.receiver)
    sent = flowing.finish()
    wait_until(lambda: all_delivered(stack, sent), 60, "every delivery accepted")
    retried = [lead for lead, found in deliveries(stack, sent).items() if found[0][1] > 1]
    assert retried, "no delivery was retried: the receiver was never down for a lead"
    _assert_landed_once(stack, sent)
