"""Webhook deliveries: encrypted leads reach real receivers, retried only as Pinterest does."""

from __future__ import annotations

import asyncio
import dataclasses
import secrets
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from leadwire.connectors.pinterest.envelope import decode_delivery
from leadwire.connectors.pinterest.leads import FieldType, Lead, QuestionType
from leadwire.errors import DecodeError
from leadwire.sandbox import admin, keys, outbox
from leadwire.sandbox.answers import lead_of, pair_answers
from leadwire.sandbox.deliveries import Dispatcher
from leadwire.sandbox.generator import LeadGenerator
from leadwire.sandbox.ids import new_id
from leadwire.sandbox.leads import ACCOUNT_LEVEL, Source, lead_ad_of, record_lead
from leadwire.sandbox.models import Delivery, LeadForm, SandboxLead, Subscription, utcnow
from leadwire.sandbox.retries import (
    RETRY_AFTER_CEILING_S,
    RetryPolicy,
    Verdict,
    classify,
    parse_retry_after,
    retry_delay_s,
)
from leadwire.sandbox.store import SandboxStore, open_store
from tests.conftest import make_settings
from tests.databases import postgres_database
from tests.receivers import Receiver, eventually, receiving
from tests.sandbox.conftest import Tenant

# Tiny backoff so retries happen within the test; three attempts so giving up is quick too.
FAST = RetryPolicy(max_attempts=3, base_s=0.02, cap_s=0.1)


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    """A receiver shared by this module's tests (each uses its own URLs)."""
    with receiving() as found:
        yield found


def in_ms(lead: Lead) -> Lead:
    """Return `lead` with its time cut to milliseconds, as a delivery carries it."""
    moment = lead.created_time
    return dataclasses.replace(
        lead, created_time=moment.replace(microsecond=moment.microsecond // 1000 * 1000)
    )


def stored_lead(store: SandboxStore, lead_id: str) -> SandboxLead:
    """Return a stored lead."""
    with store.read_sessions() as session:
        lead = session.get(SandboxLead, lead_id)
    assert lead is not None
    return lead


# Through the running sandbox: the test endpoint, the app's own dispatcher.


def subscribe(api: httpx.Client, tenant: Tenant, url: str, form: str | None) -> dict[str, str]:
    """Create a subscription through the API; return it as GET shows it (with its key)."""
    body = {"webhook_url": url} | ({"lead_form_id": form} if form else {})
    path = f"/ad_accounts/{tenant.ad_account_id}/leads/subscriptions"
    created = api.post(path, json=body)
    assert created.status_code == 200, created.text
    fetched = api.get(f"{path}/{created.json()['id']}")
    assert fetched.status_code == 200
    sub: dict[str, str] = fetched.json()
    return sub


def test_a_test_lead_arrives_encrypted_and_decodes_to_the_right_lead(
    tenant: Tenant, api: httpx.Client, receiver: Receiver
) -> None:
    url = receiver.endpoint()
    sub = subscribe(api, tenant, url, tenant.project_form)
    answers = [
        "Ada Lovelace",
        "ada@example.com",
        "+14155550123",
        "12 St James's Square, London",
        "1815-12-10",
        "Analytical Engines Ltd",
        "A kitchen\nwith a view, please",
        "$1,000 to $5,000",
        "Kitchens,Gardens",
    ]
    path = f"/ad_accounts/{tenant.ad_account_id}/lead_forms/{tenant.project_form}/test"
    sent = api.post(path, json={"answers": answers})
    assert sent.status_code == 200, sent.text
    assert sent.json() == {"subscription_id": sub["id"]}

    (hit,) = eventually(lambda: receiver.hits(url))
    assert hit.headers["content-type"] == "application/json"
    assert "authorization" not in hit.headers
    assert b"ada@example.com" not in hit.body
    assert b"Lovelace" not in hit.body
    (lead,) = decode_delivery(hit.body, sub["cryptographic_key"])
    ad = tenant.hierarchy.ads[1]
    assert lead.is_test is True
    assert (lead.ad_account_id, lead.lead_form_id, lead.ad_id) == (
        tenant.ad_account_id,
        tenant.project_form,
        ad.ad_id,
    )
    assert (lead.campaign_id, lead.ad_group_id) == (
        tenant.hierarchy.campaign_id,
        tenant.hierarchy.ad_group_id,
    )
    assert [a.question_type for a in lead.answers] == [
        QuestionType.FULL_NAME,
        QuestionType.EMAIL,
        QuestionType.PHONE_NUMBER,
        QuestionType.ADDRESS,
        QuestionType.DATE_OF_BIRTH,
        *[QuestionType.CUSTOM] * 4,
    ]
    assert [a.values for a in lead.answers] == [
        *[(text,) for text in answers[:-1]],
        ("Kitchens", "Gardens"),
    ]
    assert lead.answers[-1].field_type is FieldType.CHECKBOX
    assert lead.custom_answer("budget") is not None
    assert lead.answer(QuestionType.EMAIL) is not None
    assert lead == in_ms(lead_of(stored_lead(tenant.server.store, lead.lead_id)))

    log = eventually(lambda: _delivered_log(api, tenant))
    assert log["lead_id"] == lead.lead_id
    assert log["subscription_id"] == sub["id"]
    assert (log["attempts"], log["last_status_code"]) == (1, 200)


def _delivered_log(api: httpx.Client, tenant: Tenant) -> dict[str, object] | None:
    with httpx.Client(base_url=tenant.url, headers=api.headers) as plain:
        answer = plain.get("/sandbox/deliveries", params={"ad_account_id": tenant.ad_account_id})
    assert answer.status_code == 200, answer.text
    items: list[dict[str, object]] = answer.json()["items"]
    return items[0] if items and items[0]["status"] == "delivered" else None


def test_form_and_account_level_subscriptions_both_receive(
    tenant: Tenant, api: httpx.Client, receiver: Receiver
) -> None:
    form_url, account_url = receiver.endpoint(), receiver.endpoint()
    form_sub = subscribe(api, tenant, form_url, tenant.contact_form)
    account_sub = subscribe(api, tenant, account_url, None)
    contact = [
        "Ada",
        "Lovelace",
        "ada@example.com",
        "+14155550123",
        "94107",
        "San Francisco",
        "CA",
        "United States",
        "Female",
        "36",
    ]
    base = f"/ad_accounts/{tenant.ad_account_id}/lead_forms"
    first = api.post(f"{base}/{tenant.contact_form}/test", json={"answers": contact})
    assert first.json() == {"subscription_id": form_sub["id"]}, "the form's own comes first"

    (to_form,) = eventually(lambda: receiver.hits(form_url))
    (to_account,) = eventually(lambda: receiver.hits(account_url))
    (via_form,) = decode_delivery(to_form.body, form_sub["cryptographic_key"])
    (via_account,) = decode_delivery(to_account.body, account_sub["cryptographic_key"])
    assert via_form == via_account
    with pytest.raises(DecodeError):
        decode_delivery(to_form.body, account_sub["cryptographic_key"])

    # A lead of another form reaches the account-level subscription only.
    project = generated_answers(tenant.server.store, tenant.project_form)
    other = api.post(f"{base}/{tenant.project_form}/test", json={"answers": project})
    assert other.json() == {"subscription_id": account_sub["id"]}
    eventually(lambda: len(receiver.hits(account_url)) == 2)
    (second,) = decode_delivery(
        receiver.hits(account_url)[1].body, account_sub["cryptographic_key"]
    )
    assert second.lead_form_id == tenant.project_form
    assert len(receiver.hits(form_url)) == 1


def generated_answers(store: SandboxStore, form_id: str) -> list[str]:
    """Return answers to a form as the test endpoint takes them (CHECKBOX comma-joined)."""
    with store.read_sessions() as session:
        form = session.get(LeadForm, form_id)
        assert form is not None
        values = LeadGenerator("en_US", seed=5).answers(form.questions)
    return [v if isinstance(v, str) else ",".join(v) for v in values]


# Dispatchers outside any app, on a database of their own, with a clock the test moves.


class FakeClock:
    """A clock that stands still until the test moves it (ahead of real time, so rows that
    were queued at real time are due)."""

    def __init__(self) -> None:
        self._now = utcnow() + timedelta(minutes=10)
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        """Move the clock on, and wake the dispatchers to look again."""
        with self._lock:
            self._now += timedelta(seconds=seconds)
        outbox.notify()


@dataclasses.dataclass(frozen=True)
class Bare:
    """A migrated store no app serves, with one account and its demo forms."""

    store: SandboxStore
    url: str
    master_key: bytes
    ad_account_id: str
    form_id: str


def _migrated(tmp: Path, url: str | None) -> str:
    store = open_store(make_settings(tmp), url=url)
    rendered = store.engine.url.render_as_string(hide_password=False)
    store.engine.dispose()
    return rendered


@pytest.fixture(scope="module")
def bare_sqlite(tmp_path_factory: pytest.TempPathFactory) -> str:
    """URL of a migrated SQLite sandbox store."""
    return _migrated(tmp_path_factory.mktemp("bare-sandbox"), None)


@pytest.fixture(scope="module")
def bare_postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a migrated PostgreSQL sandbox store."""
    with postgres_database() as url:
        yield _migrated(tmp_path_factory.mktemp("bare-sandbox-pg"), url)


@pytest.fixture
def bare(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Bare]:
    """A fresh account on a store of this backend that only the test's dispatchers watch."""
    url: str = request.getfixturevalue(f"bare_{backend}")
    store = open_store(make_settings(tmp_path), url=url, migrate=False)
    with store.sessions() as session:
        user = admin.create_user(session, f"bare-{new_id()}")
        account = admin.create_ad_account(session, user.id, "bare")
        hierarchy = admin.create_demo_hierarchy(session, account.id)
        session.commit()
    yield Bare(store, url, secrets.token_bytes(32), account.id, hierarchy.ads[1].lead_form_id)
    store.engine.dispose()


def add_subscription(bare: Bare, url: str, *, form: bool = True) -> tuple[str, str]:
    """Subscribe `url` to the bare form (or its account); return (id, key)."""
    sub_id, key = new_id(), keys.new_subscription_key()
    with bare.store.sessions() as session:
        session.add(
            Subscription(
                id=sub_id,
                ad_account_id=bare.ad_account_id,
                lead_form_id=bare.form_id if form else None,
                lead_form_key=bare.form_id if form else ACCOUNT_LEVEL,
                webhook_url=url,
                user_account_id="1",
                key_ciphertext=keys.seal(bare.master_key, sub_id, key),
            )
        )
        session.commit()
    return sub_id, key


def add_leads(bare: Bare, count: int = 1, seed: int = 1) -> list[str]:
    """Record `count` generated leads of the bare form; return their ids."""
    generator = LeadGenerator("de_DE", seed)
    ids: list[str] = []
    with bare.store.sessions() as session:
        form = session.get(LeadForm, bare.form_id)
        assert form is not None
        for _ in range(count):
            lead = record_lead(
                session,
                ad_account_id=bare.ad_account_id,
                lead_form_id=form.id,
                answers=pair_answers(form.questions, generator.answers(form.questions)),
                source=Source.GENERATOR,
                context=lead_ad_of(session, form),
            )
            ids.append(lead.id)
        session.commit()
    return ids


def deliveries(bare: Bare, subscription_id: str) -> list[Delivery]:
    """Return a subscription's deliveries."""
    with bare.store.read_sessions() as session:
        query = select(Delivery).where(Delivery.subscription_id == subscription_id)
        return list(session.scalars(query.order_by(Delivery.id)).all())


def only(bare: Bare, subscription_id: str, status: str) -> Delivery | None:
    """Return the subscription's only delivery if it has `status`."""
    rows = deliveries(bare, subscription_id)
    return rows[0] if len(rows) == 1 and rows[0].status == status else None


def run_dispatcher(
    bare: Bare,
    stop: threading.Event,
    *,
    store: SandboxStore | None = None,
    clock: FakeClock | None = None,
    poll_interval_s: float = 0.02,
    batch_size: int = 20,
    timeout: httpx.Timeout | None = None,
    master_key: bytes | None = None,
) -> threading.Thread:
    """Run a dispatcher on its own event loop in a thread, as another process would."""

    async def main() -> None:
        dispatcher = Dispatcher(
            store or bare.store,
            master_key or bare.master_key,
            policy=FAST,
            poll_interval_s=poll_interval_s,
            batch_size=batch_size,
            timeout=timeout or httpx.Timeout(5.0),
            clock=clock or utcnow,
        )
        async with dispatcher:
            await asyncio.to_thread(stop.wait)

    thread = threading.Thread(target=asyncio.run, args=(main(),), daemon=True)
    thread.start()
    return thread


@pytest.fixture
def dispatching(bare: Bare) -> Iterator[threading.Event]:
    """Run one fast-retry dispatcher on the bare store for the test."""
    stop = threading.Event()
    thread = run_dispatcher(bare, stop)
    yield stop
    stop.set()
    thread.join(timeout=20)


def test_500_then_200_is_delivered_once_after_a_retry(
    bare: Bare, dispatching: threading.Event, receiver: Receiver
) -> None:
    url = receiver.endpoint(500)
    sub, key = add_subscription(bare, url)
    (lead_id,) = add_leads(bare)

    delivered = eventually(lambda: only(bare, sub, "delivered"))
    first, second = receiver.hits(url)
    assert delivered.attempts == 2
    assert delivered.last_status_code == 200
    assert delivered.last_error is None
    (lead,) = decode_delivery(second.body, key)
    assert decode_delivery(first.body, key) == [lead]
    assert lead == in_ms(lead_of(stored_lead(bare.store, lead_id)))
    assert len(receiver.hits(url)) == 2


@pytest.mark.parametrize("status", [400, 404, 408, 410])
def test_other_4xx_fail_at_once_without_retry(
    bare: Bare, dispatching: threading.Event, receiver: Receiver, status: int
) -> None:
    url = receiver.endpoint(status)
    sub, _ = add_subscription(bare, url)
    add_leads(bare)

    failed = eventually(lambda: only(bare, sub, "failed"))
    assert failed.attempts == 1
    assert failed.last_status_code == status
    assert (failed.last_error or "").startswith(f"HTTP {status}")
    assert len(receiver.hits(url)) == 1


def test_5xx_and_dead_receivers_are_retried_until_the_last_attempt(
    bare: Bare, dispatching: threading.Event, receiver: Receiver
) -> None:
    busy = receiver.endpoint(503, 502, 500, 504)
    busy_sub, _ = add_subscription(bare, busy)
    dead_sub, _ = add_subscription(bare, "http://127.0.0.1:9/hook", form=False)  # discard port
    add_leads(bare)

    failed = eventually(lambda: only(bare, busy_sub, "failed"))
    assert failed.attempts == FAST.max_attempts
    assert (failed.last_error or "").startswith("gave up after 3 attempts: HTTP 500")
    assert len(receiver.hits(busy)) == FAST.max_attempts
    dead = eventually(lambda: only(bare, dead_sub, "failed"))
    assert dead.attempts == FAST.max_attempts
    assert dead.last_status_code is None
    assert "connection error" in (dead.last_error or "")


def test_a_429_waits_for_retry_after_then_delivers(bare: Bare, receiver: Receiver) -> None:
    clock = FakeClock()
    stop = threading.Event()
    thread = run_dispatcher(bare, stop, clock=clock)
    try:
        url = receiver.endpoint((429, {"Retry-After": "120"}))
        sub, _ = add_subscription(bare, url)
        add_leads(bare)
        attempted_at = clock()

        def rescheduled() -> Delivery | None:
            row = only(bare, sub, "pending")
            return row if row is not None and row.last_status_code == 429 else None

        pending = eventually(rescheduled)
        # FAST alone would wait at most 0.02 s; the receiver asked for two minutes.
        assert pending.next_attempt_at >= attempted_at + timedelta(seconds=120)
        assert len(receiver.hits(url)) == 1
        clock.advance(121)
        delivered = eventually(lambda: only(bare, sub, "delivered"))
    finally:
        stop.set()
        thread.join(timeout=20)
    assert delivered.attempts == 2
    assert len(receiver.hits(url)) == 2


def test_a_receiver_slower_than_the_timeout_is_retried(bare: Bare, receiver: Receiver) -> None:
    url = receiver.endpoint((200, 1.0))
    sub, _ = add_subscription(bare, url)
    stop = threading.Event()
    thread = run_dispatcher(bare, stop, timeout=httpx.Timeout(0.3))
    try:
        add_leads(bare)
        delivered = eventually(lambda: only(bare, sub, "delivered"))
    finally:
        stop.set()
        thread.join(timeout=20)
    assert delivered.attempts == 2
    assert len(receiver.hits(url)) == 2


def test_two_dispatchers_on_one_database_never_deliver_twice(
    bare: Bare, receiver: Receiver, tmp_path: Path
) -> None:
    url = receiver.endpoint()
    sub, key = add_subscription(bare, url)
    lead_ids = add_leads(bare, 60)
    other = open_store(make_settings(tmp_path), url=bare.url, migrate=False)  # its own pool
    stop = threading.Event()
    threads = [
        run_dispatcher(bare, stop, store=store, poll_interval_s=0.01, batch_size=7)
        for store in (bare.store, other)
    ]
    try:
        eventually(lambda: all(d.status == "delivered" for d in deliveries(bare, sub)))
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=20)
        other.engine.dispose()
    received = [decode_delivery(hit.body, key)[0].lead_id for hit in receiver.hits(url)]
    assert sorted(received) == sorted(lead_ids)
    assert all(d.attempts == 1 for d in deliveries(bare, sub))


def test_a_commit_wakes_the_dispatcher_without_waiting_for_a_poll(
    bare: Bare, receiver: Receiver
) -> None:
    url = receiver.endpoint()
    sub, _ = add_subscription(bare, url)
    stop = threading.Event()
    # Polls once at start, then only every 10 minutes: only a wake-up can deliver in time.
    thread = run_dispatcher(bare, stop, poll_interval_s=600)
    try:
        add_leads(bare)
        eventually(lambda: only(bare, sub, "delivered"))
        add_leads(bare, seed=2)
        both = eventually(
            lambda: [d.status for d in deliveries(bare, sub)] == ["delivered", "delivered"]
        )
        assert both
    finally:
        stop.set()
        thread.join(timeout=20)


def test_undeliverable_deliveries_fail_without_a_request(bare: Bare, receiver: Receiver) -> None:
    reserved_sub, _ = add_subscription(bare, "https://hooks.example.com/pinterest")
    url = receiver.endpoint()
    sealed_sub, _ = add_subscription(bare, url, form=False)
    stop = threading.Event()
    thread = run_dispatcher(bare, stop, master_key=secrets.token_bytes(32))  # not the sealer
    try:
        add_leads(bare)
        reserved = eventually(lambda: only(bare, reserved_sub, "failed"))
        sealed = eventually(lambda: only(bare, sealed_sub, "failed"))
    finally:
        stop.set()
        thread.join(timeout=20)
    assert reserved.attempts == 1
    assert "reserved for documentation" in (reserved.last_error or "")
    assert sealed.last_error == "the subscription key cannot be unsealed"
    assert receiver.hits(url) == []


def test_deleting_a_subscription_drops_its_pending_deliveries(bare: Bare) -> None:
    sub, _ = add_subscription(bare, "http://127.0.0.1:9/never")
    add_leads(bare, 2)
    assert len(deliveries(bare, sub)) == 2
    with bare.store.sessions() as session:
        found = session.get(Subscription, sub)
        session.delete(found)
        session.commit()
    assert deliveries(bare, sub) == []


# The retry rule and the backoff, as pure functions.


@given(status=st.integers(min_value=100, max_value=599))
def test_only_429_and_5xx_are_retried(status: int) -> None:
    verdict = classify(status)
    if 200 <= status < 300:
        assert verdict is Verdict.DELIVERED
    elif status == 429 or status >= 500:
        assert verdict is Verdict.RETRY
    else:
        assert verdict is Verdict.FAILED


@given(
    attempt=st.integers(min_value=1, max_value=10_000),
    unit=st.floats(min_value=0, max_value=1, exclude_max=True),
    retry_after=st.none() | st.floats(min_value=0, max_value=10**7),
)
def test_the_wait_is_jittered_capped_and_never_shorter_than_retry_after(
    attempt: int, unit: float, retry_after: float | None
) -> None:
    policy = RetryPolicy(max_attempts=5, base_s=2.0, cap_s=300.0)
    delay = retry_delay_s(attempt, policy, unit, retry_after)
    ceiling = min(300.0, 2.0 * 2.0 ** min(attempt - 1, 64))
    if retry_after is None:
        assert 0 <= delay <= ceiling
    else:
        assert delay >= min(retry_after, RETRY_AFTER_CEILING_S)
        assert delay <= max(ceiling, RETRY_AFTER_CEILING_S)


def test_retry_after_is_read_as_seconds_or_a_date() -> None:
    now = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)
    assert parse_retry_after("120", now) == 120.0
    assert parse_retry_after("Wed, 01 Jan 2025 12:01:30 GMT", now) == 90.0
    assert parse_retry_after("Wed, 01 Jan 2025 11:00:00 GMT", now) == 0.0
    for nonsense in (None, "", "soon", "-5", "\uff11\uff12"):  # full-width digits
        assert parse_retry_after(nonsense, now) is None
