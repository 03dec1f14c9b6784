"""One poll of one ad account: its lead ads, their exports, their leads, and the report.

`AccountPoll.run` lists the account's lead ads, keeps those whose form a live flow takes,
exports each over the window (a few exports in flight, since Pinterest builds them while we
wait), and hands each export's leads to intake as it arrives. An ad that fails is recorded
with why and the others carry on; a spent quota (`PollDeferredError`) or refused credentials
(`AuthError`) end the whole poll. The caller moves the cursor from the report.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

from leadwire.connectors.pinterest.client import PinterestClient
from leadwire.connectors.pinterest.leads import Lead
from leadwire.connectors.pinterest.pagination import MAX_PAGE_SIZE, iter_items
from leadwire.connectors.pinterest.wire.ads import Ad, EntityStatus
from leadwire.connectors.pinterest.wire.pages import Page
from leadwire.engine.runtime import LeadIntake
from leadwire.engine.sources.polling_cursor import CursorKey, PollCursor, renew_lease
from leadwire.engine.sources.polling_exports import (
    ExportWait,
    Pacing,
    PollDeferredError,
    start_export,
    wait_for_leads,
)
from leadwire.engine.sources.polling_intake import take_leads
from leadwire.engine.sources.routing import FlowRoutes, LiveFlow
from leadwire.errors import AuthError, LeadwireError
from leadwire.store.app import AppStore

log = logging.getLogger(__name__)

# Ads that may have collected leads lately; drafts never did.
LEAD_AD_STATUSES = (EntityStatus.ACTIVE, EntityStatus.PAUSED, EntityStatus.ARCHIVED)


@dataclass(frozen=True)
class PollOptions:
    """How polls run. `lookback_days`: Pinterest keeps lead data 30 days, polls look no further
    back; `max_export_days`: longer windows are split into several exports per ad."""

    overlap_days: int = 2
    lookback_days: int = 30
    max_export_days: int = 31
    batch_size: int = 500
    max_exports_in_flight: int = 8
    lease_s: float = 1800.0
    pacing: Pacing = field(default_factory=Pacing)
    export_wait: ExportWait = field(default_factory=ExportWait)


@dataclass(frozen=True, slots=True)
class PollProgress:
    """How far a poll or backfill is: exports (one per ad and window slice), ads, leads, runs."""

    exports_done: int
    exports_total: int
    ads_done: int
    ads_total: int
    leads_seen: int
    runs_accepted: int


ProgressCallback = Callable[[PollProgress], None]


@dataclass
class PollReport:
    """What a poll or backfill of one account did; filled in as it runs."""

    connection_id: str
    ad_account_id: str
    window_start: date
    window_end: date
    lead_ads: int = 0
    ads_polled: int = 0
    ads_skipped: int = 0  # lead ads whose form no live flow takes
    leads_seen: int = 0
    runs_accepted: int = 0
    duplicates: int = 0  # runs that were made already (by a poll, a hook, an older version)
    unmatched: int = 0  # leads no live flow takes
    unroutable: int = 0  # leads a flow takes but cannot run (see errors)
    newest_lead_at: datetime | None = None
    errors: dict[str, str] = field(default_factory=dict)  # by ad id
    account_error: str | None = None
    cursor: PollCursor | None = None

    @property
    def is_clean(self) -> bool:
        """Whether every wanted ad was exported and every lead taken in."""
        return not self.errors and self.account_error is None


def takes_account(flow: LiveFlow, key: CursorKey) -> bool:
    """Return whether `flow` takes leads of `key`'s account through `key`'s connection."""
    return flow.pinterest_connection_id in (None, key.connection_id) and (
        flow.trigger.ad_account_id in (None, key.ad_account_id)
    )


def wants_ad(flow: LiveFlow, key: CursorKey, lead_form_id: str) -> bool:
    """Return whether `flow` takes leads of `lead_form_id` in `key`'s account and connection."""
    form_ids = flow.trigger.lead_form_ids
    return takes_account(flow, key) and (not form_ids or lead_form_id in form_ids)


class AccountPoll:
    """One poll or backfill of one account, with an open client; `run` it once."""

    def __init__(
        self,
        key: CursorKey,
        client: PinterestClient,
        *,
        store: AppStore,
        intake: LeadIntake,
        routes: FlowRoutes,
        options: PollOptions,
        pacing: Pacing,
        clock: Callable[[], datetime],
        owner: str | None = None,
        progress: ProgressCallback | None = None,
    ) -> None:
        self._key = key
        self._client = client
        self._store = store
        self._intake = intake
        self._routes = routes
        self._options = options
        self._pacing = pacing
        self._clock = clock
        self._owner = owner
        self._progress = progress

    def run(self, report: PollReport, slices: list[tuple[date, date]]) -> None:
        """Export every wanted lead ad over each slice and take its leads in, into `report`."""
        ads = self._wanted_ads(report)
        todo = deque((ad, first, last) for ad in ads for first, last in slices)
        tally = _Tally(total=len(todo), ads_total=len(ads), left={ad.id: len(slices) for ad in ads})
        in_flight: deque[tuple[Ad, str]] = deque()
        while todo or in_flight:
            while todo and len(in_flight) < self._options.max_exports_in_flight:
                ad, first, last = todo.popleft()
                export_id = self._start(ad, first, last, report)
                if export_id is None:
                    self._done(ad, tally, report)
                else:
                    in_flight.append((ad, export_id))
            if in_flight:
                ad, export_id = in_flight.popleft()
                self._finish(ad, export_id, report)
                self._done(ad, tally, report)

    def _wanted_ads(self, report: PollReport) -> list[Ad]:
        """Return the account's lead ads whose form some live flow takes."""
        flows = self._routes.live()
        key, client, pacing = self._key, self._client, self._pacing

        def page(bookmark: str | None) -> Page[Ad]:
            return pacing.call(
                "ads list",
                lambda: client.ads.fetch_ads_page(
                    key.ad_account_id,
                    bookmark,
                    page_size=MAX_PAGE_SIZE,
                    entity_statuses=LEAD_AD_STATUSES,
                ),
            )

        lead_ads = [ad for ad in iter_items(page, "ads/list") if ad.lead_form_id]
        wanted = [
            ad for ad in lead_ads if any(wants_ad(f, key, str(ad.lead_form_id)) for f in flows)
        ]
        report.lead_ads = len(lead_ads)
        report.ads_skipped = len(lead_ads) - len(wanted)
        return wanted

    def _start(self, ad: Ad, first: date, last: date, report: PollReport) -> str | None:
        """Start an export of `ad` (unless the ad failed already); None if it could not."""
        if ad.id in report.errors:
            return None
        try:
            return start_export(
                self._client, self._pacing, self._key.ad_account_id, ad.id, first, last
            )
        except (PollDeferredError, AuthError):
            raise
        except LeadwireError as exc:
            report.errors[ad.id] = f"{type(exc).__name__}: {exc}"
            return None

    def _finish(self, ad: Ad, export_id: str, report: PollReport) -> None:
        """Wait for export `export_id` of `ad` and take its leads in."""
        try:
            leads = wait_for_leads(
                self._client,
                self._pacing,
                self._options.export_wait,
                self._key.ad_account_id,
                ad.id,
                export_id,
            )
            self._take(ad, leads, report)
        except (PollDeferredError, AuthError):
            raise
        except LeadwireError as exc:
            report.errors.setdefault(ad.id, f"{type(exc).__name__}: {exc}")

    def _done(self, ad: Ad, tally: _Tally, report: PollReport) -> None:
        """Count one export of `ad` done; keep the lease; tell the progress callback."""
        tally.done += 1
        tally.left[ad.id] -= 1
        if tally.left[ad.id] == 0:
            tally.ads_done += 1
            report.ads_polled += ad.id not in report.errors
        if self._owner is not None:
            renew_lease(
                self._store.sessions,
                self._key,
                self._owner,
                self._clock(),
                lease_s=self._options.lease_s,
            )
        if self._progress is not None:
            self._progress(
                PollProgress(
                    tally.done,
                    tally.total,
                    tally.ads_done,
                    tally.ads_total,
                    report.leads_seen,
                    report.runs_accepted,
                )
            )

    def _take(self, ad: Ad, leads: list[Lead], report: PollReport) -> None:
        result = take_leads(
            leads,
            connection_id=self._key.connection_id,
            routes=self._routes,
            intake=self._intake,
            batch_size=self._options.batch_size,
        )
        report.leads_seen += result.leads
        newest = max((lead.created_time for lead in leads), default=None)
        if newest is not None and (report.newest_lead_at is None or newest > report.newest_lead_at):
            report.newest_lead_at = newest
        report.runs_accepted += result.accepted
        report.duplicates += result.duplicates
        report.unmatched += result.unmatched
        report.unroutable += result.unroutable
        if result.problem is not None:
            report.errors.setdefault(ad.id, f"RoutingError: {result.problem}")


@dataclass
class _Tally:
    total: int
    ads_total: int
    left: dict[str, int]
    done: int = 0
    ads_done: int = 0


def first_error(errors: dict[str, str]) -> str | None:
    if not errors:
        return None
    ad_id, message = next(iter(errors.items()))
    more = f" (and {len(errors) - 1} more ad(s))" if len(errors) > 1 else ""
    return f"ad {ad_id}: {message}{more}"


def log_report(report: PollReport) -> None:
    log.info(
        "polling.done connection_id=%s ad_account_id=%s window=%s..%s lead_ads=%d polled=%d "
        "skipped=%d leads=%d accepted=%d duplicates=%d unmatched=%d errors=%d clean=%s",
        report.connection_id,
        report.ad_account_id,
        report.window_start,
        report.window_end,
        report.lead_ads,
        report.ads_polled,
        report.ads_skipped,
        report.leads_seen,
        report.runs_accepted,
        report.duplicates,
        report.unmatched,
        len(report.errors),
        report.is_clean,
    )
    for ad_id, message in report.errors.items():
        log.warning("polling.ad_failed ad_id=%s error=%s", ad_id, message)
    if report.account_error:
        log.warning(
            "polling.account_failed connection_id=%s ad_account_id=%s error=%s",
            report.connection_id,
            report.ad_account_id,
            report.account_error,
        )
