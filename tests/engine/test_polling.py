"""Polling and backfill through leads exports, against the real sandbox over sockets, both DBs.

Leads are made through the sandbox's own API (the submit endpoint, answers from its lead
generator); a live flow and a CRM connection let them route; runs are only accepted (no
worker runs them), and counted in the app store's runs table.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import inspect, select, update
from typer.testing import CliRunner

from leadwire.backoff import RetryPolicy
from leadwire.cli.leads import app as leads_cli
from leadwire.connectors.pinterest.client import PinterestClient
from leadwire.connectors.pinterest.oauth import PinterestEndpoints
from leadwire.engine.connections import (
    ConnectionSecrets,
    ContactsConfig,
    PinterestConfig,
    add_connection,
)
from leadwire.engine.flows import load_template
from leadwire.engine.flows import store as flows
from leadwire.engine.runtime import LeadIntake, RuntimeOptions
from leadwire.engine.secrets import KeyRing, open_keyring
from leadwire.engine.sources.polling import Poller, PollOptions, PollProgress
from leadwire.engine.sources.polling_cursor import (
    CursorKey,
    PollOutcome,
    claim_cursor,
    finish_poll,
    poll_window,
    split_window,
)
from leadwire.engine.sources.polling_exports import (
    ExportFailedError,
    ExportWait,
    Pacing,
    wait_for_leads,
)
from leadwire.engine.sources.routing import FlowRoutes
from leadwire.sandbox.app import create_app as create_sandbox_app
from leadwire.sandbox.generator import LeadGenerator
from leadwire.sandbox.models import LeadForm
from leadwire.sandbox.ratelimit import RateLimiter
from leadwire.settings import Settings
from leadwire.store.app import AppStore, open_app_store
from leadwire.store.models.base import AppBase
from leadwire.store.models.flows import FlowRow
from leadwire.store.models.runs import RunRow
from tests.engine.conftest import wait_until
from tests.sandbox.conftest import (
    SandboxServer,
    Tenant,
    new_tenant,
    sandbox_postgres,
    sandbox_settings,
    sandbox_sqlite,
)
from tests.servers import running

__all__ = ["sandbox_postgres", "sandbox_sqlite"]

runner = CliRunner()
QUICK_EXPORTS = ExportWait(RetryPolicy(max_attempts=1000, base_s=0.05, cap_s=0.2), timeout_s=30)


def _sandbox_app(server: SandboxServer, **overrides: object) -> Any:
    """Another sandbox app on the same store (so the tenant and its leads are there too)."""
    return create_sandbox_app(
        sandbox_settings(server.settings.data_dir, **overrides), store=server.store
    )


def _quick(server: SandboxServer) -> Iterator[SandboxServer]:
    settings = sandbox_settings(server.settings.data_dir, sandbox_export_delay_s=0.0)
    with running(create_sandbox_app(settings, store=server.store)) as url:
        yield SandboxServer(url, server.store, settings)


@pytest.fixture(scope="module")
def quick_sqlite(sandbox_sqlite: SandboxServer) -> Iterator[SandboxServer]:
    """The SQLite sandbox, served again with exports ready at once (tests stay fast)."""
    yield from _quick(sandbox_sqlite)


@pytest.fixture(scope="module")
def quick_postgres(sandbox_postgres: SandboxServer) -> Iterator[SandboxServer]:
    """The PostgreSQL sandbox, served again with exports ready at once."""
    yield from _quick(sandbox_postgres)


@pytest.fixture
def sandbox(backend: str, request: pytest.FixtureRequest) -> SandboxServer:
    server: SandboxServer = request.getfixturevalue(f"quick_{backend}")
    return server


@dataclass
class World:
    """A sandbox tenant, a Pinterest connection to it, a CRM connection, a published flow."""

    settings: Settings
    store: AppStore
    ring: KeyRing
    intake: LeadIntake
    tenant: Tenant
    routes: FlowRoutes
    flow_id: str = ""
    key: CursorKey = field(default_factory=lambda: CursorKey("", ""))
    rng: int = 0

    def connect(
        self, url: str, name: str, scopes: tuple[str, ...] = ("ads:read", "ads:write")
    ) -> CursorKey:
        """Add a Pinterest connection to the sandbox at `url` acting as the tenant."""
        with self.store.sessions() as session:
            connection = add_connection(
                session,
                self.ring,
                name=name,
                config=PinterestConfig(
                    api_base_url=f"{url}/v5", ad_account_id=self.tenant.ad_account_id
                ),
                values=ConnectionSecrets(access_token=self.tenant.token),
                scopes=scopes,
            )
            session.commit()
        return CursorKey(connection.id, self.tenant.ad_account_id)

    def add_crm(self, name: str) -> str:
        """Add a CRM connection (never called: runs are only accepted here)."""
        with self.store.sessions() as session:
            connection = add_connection(
                session,
                self.ring,
                name=name,
                config=ContactsConfig(base_url="http://127.0.0.1:9", location_id=f"loc-{name}"),
                values=ConnectionSecrets(api_key="pit-polling-test"),
            )
            session.commit()
        return connection.id

    def poller(self, **options: Any) -> Poller:
        """A poller on this world with quick export checks (and `options`)."""
        values: dict[str, Any] = {"export_wait": QUICK_EXPORTS} | options
        return Poller(
            self.store, self.ring, self.intake, self.routes, options=PollOptions(**values)
        )

    def submit(self, ad: int = 0, *, days_ago: float = 0, url: str | None = None) -> str:
        """Submit a generated lead through demo ad `ad`, created `days_ago`; return its id."""
        demo = self.tenant.hierarchy.ads[ad]
        server = self.tenant.server
        with server.store.read_sessions() as session:
            form = session.get(LeadForm, demo.lead_form_id)
            assert form is not None
            questions = list(form.questions)
        self.rng += 1
        answers = LeadGenerator("en_US", self.rng).answers(questions)
        created = datetime.now(UTC) - timedelta(days=days_ago, seconds=1)
        body = {
            "answers": answers,
            "ad_id": demo.ad_id,
            "created_time": int(created.timestamp() * 1000),
        }
        path = f"/sandbox/ad_accounts/{self.tenant.ad_account_id}/lead_forms/{form.id}/leads"
        with httpx.Client(
            base_url=url or self.tenant.url,
            headers={"Authorization": f"Bearer {self.tenant.token}"},
            timeout=10,
        ) as client:
            answer = client.post(path, json=body)
        assert answer.status_code == 200, answer.text
        lead_id: str = answer.json()["lead_id"]
        return lead_id

    def runs(self) -> list[tuple[str, str, int]]:
        """Return (lead id, flow id, version) of every run the app store holds."""
        with self.store.read_sessions() as session:
            rows = session.execute(select(RunRow.lead_id, RunRow.flow_id, RunRow.flow_version))
            return sorted((lead, flow, version) for lead, flow, version in rows)

    def ad_ids(self) -> list[str]:
        """The tenant's demo lead ads."""
        return [ad.ad_id for ad in self.tenant.hierarchy.ads]


@pytest.fixture
def world(app_settings: Settings, app_store: AppStore, sandbox: SandboxServer) -> Iterator[World]:
    ring = open_keyring(app_settings)
    intake = LeadIntake.open(RuntimeOptions.from_settings(app_settings))
    found = World(
        app_settings,
        app_store,
        ring,
        intake,
        new_tenant(sandbox),
        FlowRoutes(app_store.read_sessions, ttl_s=0),
    )
    found.key = found.connect(sandbox.url, "pins")
    found.add_crm("crm")
    with app_store.sessions() as session:
        row = flows.create_flow(session, load_template("lead-tags"), ring)
        flows.publish(session, row.id)
        session.commit()
        found.flow_id = row.id
    yield found
    found.intake.close()
    if found.store is not app_store:  # reopened by the test (a restart)
        found.store.engine.dispose()


def _today() -> date:
    return datetime.now(UTC).date()


# --- windows ---------------------------------------------------------------------------------


def test_a_poll_window_overlaps_the_days_covered_and_looks_back_at_most_30_days() -> None:
    today = date(2026, 11, 28)
    assert poll_window(None, today, overlap_days=2, lookback_days=30) == (date(2026, 11, 26), today)
    covered = date(2026, 11, 27)
    assert poll_window(covered, today, overlap_days=2, lookback_days=30) == (
        date(2026, 11, 25),
        today,
    )
    long_ago = date(2026, 1, 1)
    assert poll_window(long_ago, today, overlap_days=2, lookback_days=30) == (
        date(2026, 10, 29),
        today,
    )


@given(
    start=st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 1, 1)),
    days=st.integers(min_value=0, max_value=400),
    max_days=st.integers(min_value=1, max_value=90),
)
def test_split_window_covers_every_day_once_in_short_ranges(
    start: date, days: int, max_days: int
) -> None:
    end = start + timedelta(days=days)
    ranges = split_window(start, end, max_days)
    assert ranges[0][0] == start
    assert ranges[-1][1] == end
    for (first, last), following in zip(ranges, [*ranges[1:], None], strict=True):
        assert first <= last
        assert (last - first).days + 1 <= max_days
        if following is not None:
            assert following[0] == last + timedelta(days=1)


def test_a_failed_export_is_an_error_naming_the_ad() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"export_status": "FAILED", "download_url": None})

    client = PinterestClient(
        endpoints=PinterestEndpoints(api_base_url="https://pinterest.test/v5"),
        transport=httpx.MockTransport(answer),
    )
    with client, pytest.raises(ExportFailedError, match=r"ad 4242: .* export 77 FAILED"):
        wait_for_leads(client, Pacing(sleep=lambda s: None), QUICK_EXPORTS, "1", "4242", "77")


# --- cursors and leases ------------------------------------------------------------------------


def test_the_migration_makes_exactly_the_cursor_model(app_store: AppStore) -> None:
    with app_store.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"version_table": "lw_alembic_version", "compare_type": True}
        )
        diffs = [d for d in compare_metadata(context, AppBase.metadata) if "lw_poll" in repr(d)]
    assert diffs == []
    assert "lw_poll_cursors" in inspect(app_store.engine).get_table_names()


def test_only_one_worker_polls_an_account_and_the_cursor_never_goes_back(
    app_store: AppStore,
) -> None:
    key = CursorKey("cn_1", "123")
    now = datetime(2026, 11, 28, 12, tzinfo=UTC)
    sessions = app_store.sessions
    assert claim_cursor(sessions, key, "a", now, lease_s=600, min_age_s=900)
    assert not claim_cursor(sessions, key, "b", now, lease_s=600, min_age_s=0), "leased"
    clean = PollOutcome(date(2026, 11, 26), date(2026, 11, 28), now, is_clean=True)
    cursor = finish_poll(sessions, key, clean, now, owner="a")
    assert cursor.covered_through == date(2026, 11, 28)
    later = now + timedelta(minutes=5)
    assert not claim_cursor(sessions, key, "b", later, lease_s=600, min_age_s=900), "not due"
    assert claim_cursor(sessions, key, "b", later, lease_s=600, min_age_s=60)
    # An older clean window (a backfill) does not move the cursor back; a failed one not at all.
    old = PollOutcome(date(2026, 10, 1), date(2026, 10, 5), later, is_clean=True)
    assert finish_poll(sessions, key, old, later).covered_through == date(2026, 11, 28)
    failed = PollOutcome(date(2026, 11, 26), date(2026, 11, 30), later, False, error="ad 1: x")
    after = finish_poll(sessions, key, failed, later, owner="b")
    assert (after.covered_through, after.last_error) == (date(2026, 11, 28), "ad 1: x")
    # A clean window beyond a gap leaves the gap to be polled.
    gap = PollOutcome(date(2026, 12, 5), date(2026, 12, 6), later, is_clean=True)
    assert finish_poll(sessions, key, gap, later).covered_through == date(2026, 11, 28)


# --- against the sandbox -----------------------------------------------------------------------


def test_backfill_accepts_a_run_per_lead_and_again_only_duplicates(world: World) -> None:
    leads = [world.submit(0, days_ago=d) for d in (0, 3, 6)]
    leads += [world.submit(1, days_ago=d) for d in (1, 4)]
    seen: list[PollProgress] = []
    poller = world.poller()

    report = poller.backfill(world.key, _today() - timedelta(days=7), progress=seen.append)

    assert report.errors == {}
    assert report.account_error is None
    assert (report.lead_ads, report.ads_polled, report.ads_skipped) == (2, 2, 0)
    assert (report.leads_seen, report.runs_accepted, report.duplicates) == (5, 5, 0)
    assert report.unmatched == 0
    assert world.runs() == sorted((lead, world.flow_id, 1) for lead in leads)
    assert seen[-1] == PollProgress(2, 2, 2, 2, 5, 5)
    assert report.cursor is not None
    assert report.cursor.covered_through == _today()

    again = poller.backfill(world.key, _today() - timedelta(days=7))
    assert (again.leads_seen, again.runs_accepted, again.duplicates) == (5, 0, 5)

    # A poll exports only the overlap before the cursor: the last two days' leads.
    polled = poller.poll(world.key)
    assert (polled.window_start, polled.window_end) == (_today() - timedelta(days=2), _today())
    assert (polled.leads_seen, polled.runs_accepted, polled.duplicates) == (2, 0, 2)
    assert len(world.runs()) == 5


def test_the_cursor_survives_reopening_the_store_and_republishing_the_flow(
    world: World, app_settings: Settings
) -> None:
    first = [world.submit(0), world.submit(1)]
    assert world.poller().poll(world.key).runs_accepted == 2

    # A restart: a new store, intake and poller.
    world.intake.close()
    world.store.engine.dispose()
    world.store = open_app_store(app_settings)
    world.intake = LeadIntake.open(RuntimeOptions.from_settings(app_settings))
    world.routes = FlowRoutes(world.store.read_sessions, ttl_s=0)
    poller = world.poller()
    cursor = poller.cursor(world.key)
    assert cursor is not None
    assert cursor.covered_through == _today()

    # An edit, published as version 2: the leads version 1 ran are not run again.
    with world.store.sessions() as session:
        edited = load_template("lead-tags").model_copy(update={"description": "edited"})
        flows.save_draft(session, world.flow_id, edited)
        assert flows.publish(session, world.flow_id).version == 2
        session.commit()
    report = poller.poll(world.key)
    assert report.window_start == _today() - timedelta(days=2)
    assert (report.leads_seen, report.runs_accepted, report.duplicates) == (2, 0, 2)

    newer = world.submit(0)
    assert poller.poll(world.key).runs_accepted == 1
    assert world.runs() == sorted(
        [(lead, world.flow_id, 1) for lead in first] + [(newer, world.flow_id, 2)]
    )


def test_a_slow_export_is_waited_for(world: World, sandbox: SandboxServer) -> None:
    with running(_sandbox_app(sandbox, sandbox_export_delay_s=5.0)) as slow_url:
        key = world.connect(slow_url, "pins-slow")
        leads = [world.submit(0), world.submit(1)]
        waits: list[float] = []

        def sleep(seconds: float) -> None:
            waits.append(seconds)
            threading.Event().wait(seconds)

        report = world.poller(pacing=Pacing(sleep=sleep)).poll(key)
    assert report.is_clean, report.errors
    assert report.runs_accepted == len(leads)
    assert waits, "the export was IN_PROGRESS at first and waited for"


def test_an_export_that_never_finishes_fails_its_ad_and_holds_the_cursor(
    world: World, sandbox: SandboxServer
) -> None:
    with running(_sandbox_app(sandbox, sandbox_export_delay_s=3600)) as stuck_url:
        key = world.connect(stuck_url, "pins-stuck")
        world.submit(0)
        waits: list[float] = []
        poller = world.poller(
            pacing=Pacing(sleep=waits.append),
            export_wait=ExportWait(RetryPolicy(1000, 0.1, 0.1), timeout_s=0.5),
        )
        report = poller.poll(key)
    assert set(report.errors) == set(world.ad_ids())
    for ad_id, message in report.errors.items():
        assert f"ad {ad_id}: leads export" in message
        assert "still IN_PROGRESS" in message
    assert report.runs_accepted == 0
    assert report.cursor is not None
    assert report.cursor.covered_through is None
    assert report.cursor.last_error is not None
    assert "still IN_PROGRESS" in report.cursor.last_error
    assert sum(waits) <= 2 * 0.5 + 1e-9, "each export waited at most its bound"


class FakeMinute:
    """The clock of a rate-limited sandbox, moved on only by the poller's waits."""

    def __init__(self) -> None:
        self.now = 1_000_000_020.0  # 20 s into a minute window: a 429 says "retry in 40 s"
        self.waits: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds


@pytest.fixture
def limited(sandbox: SandboxServer) -> Iterator[tuple[str, FakeMinute]]:
    """A sandbox allowing 2 reads and 2 writes a minute, on a clock the poller's sleeps move."""
    minute = FakeMinute()
    app = _sandbox_app(
        sandbox,
        sandbox_rate_read_per_min=2,
        sandbox_rate_write_per_min=2,
        sandbox_export_delay_s=0,
    )
    limits = {"ads_read": 2, "ads_analytics": 2, "ads_write": 2}
    app.state.sandbox = dataclasses.replace(
        app.state.sandbox, limiter=RateLimiter(limits, clock=lambda: minute.now)
    )
    with running(app) as url:
        yield url, minute


def test_rate_limits_are_waited_out(world: World, limited: tuple[str, FakeMinute]) -> None:
    url, minute = limited
    key = world.connect(url, "pins-limited")
    leads = [world.submit(0), world.submit(1), world.submit(1)]

    report = world.poller(pacing=Pacing(sleep=minute.sleep)).poll(key)

    assert report.is_clean, (report.errors, report.account_error)
    assert report.runs_accepted == len(leads)
    # Waited as long as Pinterest said (X-RateLimit-Reset), not a short backoff.
    assert max(minute.waits) >= 40


def test_a_spent_quota_defers_the_account(world: World, limited: tuple[str, FakeMinute]) -> None:
    url, minute = limited
    key = world.connect(url, "pins-quota")
    world.submit(0)
    world.submit(1)
    poller = world.poller(pacing=Pacing(sleep=minute.sleep, max_wait_s=10))

    report = poller.poll(key)

    assert report.account_error is not None
    assert "deferred until" in report.account_error
    assert report.cursor is not None
    assert report.cursor.covered_through is None
    assert report.cursor.not_before is not None
    now = datetime.now(UTC)
    assert report.cursor.not_before > now
    assert not claim_cursor(world.store.sessions, key, "w", now, lease_s=60, min_age_s=0)


def test_leads_that_cannot_be_routed_hold_the_cursor_until_fixed(world: World) -> None:
    crm2 = world.add_crm("crm-two")  # two CRMs, and the flow names none: it cannot run
    leads = [world.submit(0), world.submit(1)]
    poller = world.poller()

    report = poller.poll(world.key)
    assert (report.unroutable, report.runs_accepted) == (2, 0)
    assert set(report.errors) == set(world.ad_ids())
    assert all("could not be routed" in m and "names no CRM" in m for m in report.errors.values())
    assert report.cursor is not None
    assert report.cursor.covered_through is None

    with world.store.sessions() as session:
        session.execute(
            update(FlowRow).where(FlowRow.id == world.flow_id).values(contacts_connection_id=crm2)
        )
        session.commit()
    fixed = poller.poll(world.key)
    assert fixed.is_clean
    assert fixed.runs_accepted == 2
    assert [lead for lead, _, _ in world.runs()] == sorted(leads)
    assert fixed.cursor is not None
    assert fixed.cursor.covered_through == _today()


def test_ads_whose_form_no_flow_takes_are_not_exported(world: World) -> None:
    wanted = world.tenant.hierarchy.ads[1]
    with world.store.sessions() as session:
        document = load_template("lead-tags")
        trigger = document.trigger.model_copy(update={"lead_form_ids": [wanted.lead_form_id]})
        flows.save_draft(session, world.flow_id, document.model_copy(update={"trigger": trigger}))
        flows.publish(session, world.flow_id)
        session.commit()
    world.submit(0)
    taken = world.submit(1)
    report = world.poller().poll(world.key)
    assert (report.lead_ads, report.ads_polled, report.ads_skipped) == (2, 1, 1)
    assert [lead for lead, _, _ in world.runs()] == [taken]


def test_the_poller_thread_polls_each_live_connection_once_and_stops(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="leadwire.engine.sources.polling_run")
    leads = [world.submit(0), world.submit(1)]
    pollers = [world.poller(), world.poller()]  # two workers sharing one schedule
    world.connect(world.tenant.url, "pins-read-only", scopes=("ads:read",))  # cannot export
    assert pollers[0].targets() == [world.key]
    stop = threading.Event()
    threads = [
        threading.Thread(target=p.run_forever, args=(stop, 3600.0), daemon=True) for p in pollers
    ]
    for thread in threads:
        thread.start()
    try:
        wait_until(
            lambda: (c := pollers[0].cursor(world.key)) is not None and c.last_ok_at is not None,
            20,
        )
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=10)
    assert not any(thread.is_alive() for thread in threads)
    cursor = pollers[0].cursor(world.key)
    assert cursor is not None
    assert cursor.covered_through == _today()
    assert sorted(lead for lead, _, _ in world.runs()) == sorted(leads)
    polls = [r for r in caplog.records if r.getMessage().startswith("polling.done")]
    assert len(polls) == 1, "the second worker found the account leased, then not due"


# --- the CLI -----------------------------------------------------------------------------------


def _cli(settings: Settings, *args: str) -> Any:
    return runner.invoke(leads_cli, list(args), obj=settings, env={"COLUMNS": "200"})


def test_cli_backfill_shows_a_summary(world: World) -> None:
    world.submit(0, days_ago=2)
    world.submit(1)
    since = (_today() - timedelta(days=3)).isoformat()
    result = _cli(world.settings, "backfill", "--since", since)
    assert result.exit_code == 0, result.output
    assert "runs started" in result.output
    assert f"{since} .. {_today()}" in result.output
    assert len(world.runs()) == 2
    again = _cli(world.settings, "poll", "--connection", "pins")
    assert again.exit_code == 0, again.output
    assert len(world.runs()) == 2
    shown = _cli(world.settings, "cursors")
    assert shown.exit_code == 0, shown.output
    assert world.tenant.ad_account_id in shown.output


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--since", "2026-13-01"], "--since"),
        (["--since", "yesterday"], "--since"),
        (["--since", "2026-01-02", "--until", "soon"], "--until"),
        (["--since", "2026-01-02", "--until", "2026-01-01"], "--since"),
        (["--since", "2999-01-01"], "--since"),
        (["--since", "2026-01-02", "--until", "2999-01-01"], "--until"),
    ],
)
def test_cli_bad_dates_are_clear_errors_naming_the_option(
    app_settings: Settings, args: list[str], named: str
) -> None:
    result = _cli(app_settings, "backfill", *args)
    assert result.exit_code == 2, result.output
    assert named in result.output


@pytest.mark.parametrize("command", [[], ["backfill"], ["poll"], ["cursors"]])
def test_every_command_has_help(command: list[str]) -> None:
    result = runner.invoke(leads_cli, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output


def test_cli_without_a_connection_or_flow_says_what_to_do(world: World) -> None:
    result = _cli(world.settings, "poll", "--connection", "nope")
    assert result.exit_code == 2
    assert "nope" in result.output
    world.connect(world.tenant.url, "pins-two")
    result = _cli(world.settings, "poll")
    assert result.exit_code == 1
    assert "choose with --connection" in result.output
