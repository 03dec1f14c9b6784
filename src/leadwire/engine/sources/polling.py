"""Polling and backfill: leads exports over overlapping windows, into the same dedupe as hooks.

A poll of an ad account (through one Pinterest connection) exports every lead ad whose form a
live flow takes, over [cursor - overlap, today]: exports take whole UTC days and Pinterest may
report a lead late, so the window reaches back `overlap_days` before the last day covered.
Each ad's leads are routed and accepted (durably, in batches) as its export arrives; the
cursor moves only after all of that, and only if every ad went cleanly. A crash in between
re-exports leads already taken, which start nothing twice — that is what makes it safe.

Backfill is the same over [since, until]; it never moves the cursor backwards. `Poller.run_
forever` is the worker's safety net for missed webhooks (a receiver down longer than
Pinterest retries, a deleted subscription): every `interval_s` it polls each connection a live
flow takes leads from; a lease in the cursor row lets only one worker poll an account.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime, timedelta

import httpx

from leadwire.engine.connections import (
    ConnectionKind,
    PinterestConfig,
    list_connections,
    load_connection,
    open_pinterest_client,
    record_failure,
    record_ok,
)
from leadwire.engine.runtime import LeadIntake
from leadwire.engine.secrets import KeyRing
from leadwire.engine.sources.polling_cursor import (
    CursorKey,
    PollCursor,
    PollOutcome,
    claim_cursor,
    finish_poll,
    poll_window,
    read_cursor,
    release_lease,
    split_window,
)
from leadwire.engine.sources.polling_exports import Pacing, PollDeferredError, PollStoppedError
from leadwire.engine.sources.polling_run import (
    AccountPoll,
    PollOptions,
    PollProgress,
    PollReport,
    ProgressCallback,
    first_error,
    log_report,
    takes_account,
)
from leadwire.engine.sources.routing import FlowRoutes
from leadwire.errors import AuthError, BadRequestError, LeadwireError
from leadwire.store.app import AppStore
from leadwire.store.types import utcnow

__all__ = ["DEFAULT_INTERVAL_S", "PollOptions", "PollProgress", "PollReport", "Poller"]

log = logging.getLogger(__name__)

# Webhooks land leads in seconds; polling only catches what they missed, so a missed lead waits
# at most ~15 min plus an export's time. A poll costs per lead ad one export (ads_write) and a
# few status reads: for 50 lead ads ~3 writes and ~10 reads a minute, far inside Pinterest's
# per-minute limits, so the quota stays for the lead-context look-ups runs make. Polling much
# more often buys little (exports themselves take a while); much less makes the net slow.
DEFAULT_INTERVAL_S = 15 * 60.0
MAX_TICK_S = 60.0  # how often a worker checks whether an account is due
EXPORT_SCOPE = "ads:write"  # leads_export/create's


def _owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Poller:
    """Polls Pinterest ad accounts' leads exports into intake; one per process, thread-safe
    across accounts (each poll opens its own client)."""

    def __init__(
        self,
        store: AppStore,
        ring: KeyRing,
        intake: LeadIntake,
        routes: FlowRoutes,
        *,
        options: PollOptions | None = None,
        transport: httpx.BaseTransport | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._store = store
        self._ring = ring
        self._intake = intake
        self._routes = routes
        self._options = options or PollOptions()
        self._transport = transport
        self._clock = clock
        self.owner = _owner()

    # -- what to poll --------------------------------------------------------------------

    def key_for(self, connection: str, ad_account_id: str | None = None) -> CursorKey:
        """Return the cursor key of a Pinterest connection (id or name) and ad account."""
        found = load_connection(self._store, connection)
        if not isinstance(found.config, PinterestConfig):
            raise BadRequestError(f"connection {found.name!r} is not a Pinterest connection")
        return CursorKey(found.id, ad_account_id or found.config.ad_account_id)

    def targets(self) -> list[CursorKey]:
        """Return the accounts to poll: each Pinterest connection's, if a live flow takes it.

        A connection known to lack `ads:write` (exports need it) is left to its webhooks.
        """
        live = self._routes.live()
        with self._store.read_sessions() as session:
            connections = [
                c for c in list_connections(session) if c.kind is ConnectionKind.PINTEREST
            ]
        keys: list[CursorKey] = []
        for connection in connections:
            assert isinstance(connection.config, PinterestConfig)
            if connection.scopes and EXPORT_SCOPE not in connection.scopes:
                # Creating an export needs ads:write; webhooks alone still work for it.
                log.debug("polling.skipped connection_id=%s reason=no_ads_write", connection.id)
                continue
            accounts = {connection.config.ad_account_id}
            accounts |= {
                f.trigger.ad_account_id
                for f in live
                if f.pinterest_connection_id == connection.id and f.trigger.ad_account_id
            }
            for account in sorted(accounts):
                key = CursorKey(connection.id, account)
                if any(takes_account(f, key) for f in live):
                    keys.append(key)
        return keys

    @property
    def store(self) -> AppStore:
        """The app store the poller reads connections and keeps cursors in."""
        return self._store

    def is_wanted(self, key: CursorKey) -> bool:
        """Return whether some live flow takes leads of `key`'s account and connection."""
        return any(takes_account(f, key) for f in self._routes.live())

    def cursor(self, key: CursorKey) -> PollCursor | None:
        """Return the cursor of `key`, if that account was polled before."""
        with self._store.read_sessions() as session:
            return read_cursor(session, key)

    # -- one poll or backfill, now -------------------------------------------------------

    def poll(self, key: CursorKey, *, progress: ProgressCallback | None = None) -> PollReport:
        """Poll `key`'s account now over the cursor's window (no lease: an explicit request)."""
        started = self._clock()
        start, end = self._window(key, started)
        return self._run(key, start, end, started, progress, self._options.pacing, None)

    def backfill(
        self,
        key: CursorKey,
        since: date,
        *,
        until: date | None = None,
        progress: ProgressCallback | None = None,
    ) -> PollReport:
        """Export and take in `key`'s leads of [since, until] (default until today, UTC)."""
        started = self._clock()
        today = started.date()
        until = until or today
        if since > until:
            raise BadRequestError(f"since {since} is after until {until}")
        if until > today:
            raise BadRequestError(f"until {until} is in the future (today is {today} UTC)")
        return self._run(key, since, until, started, progress, self._options.pacing, None)

    def _window(self, key: CursorKey, now: datetime) -> tuple[date, date]:
        cursor = self.cursor(key)
        return poll_window(
            cursor.covered_through if cursor else None,
            now.date(),
            overlap_days=self._options.overlap_days,
            lookback_days=self._options.lookback_days,
        )

    # -- the worker's loop ---------------------------------------------------------------

    def poll_due(
        self, *, interval_s: float = DEFAULT_INTERVAL_S, pacing: Pacing | None = None
    ) -> list[PollReport]:
        """Poll every target not polled for `interval_s` that no other worker is polling.

        An account whose poll crashes is logged and skipped (its lease released): the cursor
        stays, so the next round polls the same window again.
        """
        reports: list[PollReport] = []
        for key in self.targets():
            now = self._clock()
            claimed = claim_cursor(
                self._store.sessions,
                key,
                self.owner,
                now,
                lease_s=self._options.lease_s,
                min_age_s=interval_s,
            )
            if not claimed:
                continue
            start, end = self._window(key, now)
            try:
                report = self._run(
                    key, start, end, now, None, pacing or self._options.pacing, self.owner
                )
            except Exception as exc:
                release_lease(self._store.sessions, key, self.owner)
                if isinstance(exc, PollStoppedError):
                    raise
                # One account's crash (its database rows, a bug) must not starve the others.
                log.exception(
                    "polling.account_crashed connection_id=%s ad_account_id=%s",
                    key.connection_id,
                    key.ad_account_id,
                )
                continue
            reports.append(report)
        return reports

    def run_forever(self, stop: threading.Event, interval_s: float = DEFAULT_INTERVAL_S) -> None:
        """Poll due accounts until `stop` is set; for a worker's thread. Never raises.

        Accounts are checked every minute (or `interval_s` if shorter) and polled when
        `interval_s` has passed since their last poll by any worker, so the schedule holds
        across restarts and is shared by all workers. Waits end as soon as `stop` is set.
        """

        def sleep(seconds: float) -> None:
            if stop.wait(seconds):
                raise PollStoppedError

        pacing = replace(self._options.pacing, sleep=sleep)
        tick_s = min(interval_s, MAX_TICK_S)
        log.info("polling.started owner=%s interval_s=%s", self.owner, interval_s)
        while not stop.is_set():
            try:
                self.poll_due(interval_s=interval_s, pacing=pacing)
            except PollStoppedError:
                break
            except Exception:  # a failed round (database down...) must not end the thread
                log.exception("polling.round_failed owner=%s", self.owner)
            stop.wait(tick_s)
        log.info("polling.stopped owner=%s", self.owner)

    # -- the poll itself -----------------------------------------------------------------

    def _run(
        self,
        key: CursorKey,
        start: date,
        end: date,
        started: datetime,
        progress: ProgressCallback | None,
        pacing: Pacing,
        owner: str | None,
    ) -> PollReport:
        report = PollReport(key.connection_id, key.ad_account_id, start, end)
        not_before: datetime | None = None
        try:
            with open_pinterest_client(
                self._store, self._ring, key.connection_id, transport=self._transport
            ) as client:
                AccountPoll(
                    key,
                    client,
                    store=self._store,
                    intake=self._intake,
                    routes=self._routes,
                    options=self._options,
                    pacing=pacing,
                    clock=self._clock,
                    owner=owner,
                    progress=progress,
                ).run(report, split_window(start, end, self._options.max_export_days))
        except PollDeferredError as exc:
            not_before = self._clock() + timedelta(seconds=exc.retry_after_s or 0.0)
            report.account_error = f"deferred until {not_before.isoformat()}: {exc}"
        except AuthError as exc:
            report.account_error = f"{type(exc).__name__}: {exc}"
            record_failure(self._store, key.connection_id, str(exc))
        except LeadwireError as exc:
            report.account_error = f"{type(exc).__name__}: {exc}"
        else:
            record_ok(self._store, key.connection_id)
        outcome = PollOutcome(
            window_start=start,
            window_end=end,
            started_at=started,
            is_clean=report.is_clean,
            high_water_at=report.newest_lead_at,
            error=report.account_error or first_error(report.errors),
            not_before=not_before,
        )
        report.cursor = finish_poll(self._store.sessions, key, outcome, self._clock(), owner=owner)
        log_report(report)
        return report
