"""Poll cursors: the window a poll takes, the lease that makes one worker poll an account, and
the outcome that moves the cursor — forwards only, and only over days polled cleanly.

A cursor belongs to (Pinterest connection, ad account), never to a flow, so editing or
republishing flows leaves it alone; it lives in the app store, so it survives restarts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from leadwire.store.models.polling import PollCursorRow

Sessions = Callable[[], Session]
MAX_ERROR_CHARS = 2000


@dataclass(frozen=True, slots=True)
class CursorKey:
    """Whose leads a cursor tracks: an ad account, through one Pinterest connection."""

    connection_id: str
    ad_account_id: str


@dataclass(frozen=True, slots=True)
class PollCursor:
    """A cursor as shown (see `PollCursorRow` for what each field means)."""

    key: CursorKey
    covered_through: date | None
    high_water_at: datetime | None
    window_start: date | None
    window_end: date | None
    last_polled_at: datetime | None
    last_ok_at: datetime | None
    last_error: str | None
    not_before: datetime | None


@dataclass(frozen=True, slots=True)
class PollOutcome:
    """What one poll or backfill did to an account: its window, and whether all of it went in."""

    window_start: date
    window_end: date
    started_at: datetime
    is_clean: bool
    high_water_at: datetime | None = None
    error: str | None = None
    not_before: datetime | None = None


def poll_window(
    covered_through: date | None, today: date, *, overlap_days: int, lookback_days: int
) -> tuple[date, date]:
    """Return the days a poll exports: from `overlap_days` before the cursor up to today.

    Never further back than `lookback_days` (Pinterest keeps lead data for 30 days, so an
    older start only costs quota); with no cursor yet, the last `overlap_days` days.
    """
    start = (covered_through or today) - timedelta(days=overlap_days)
    start = max(start, today - timedelta(days=lookback_days))
    return min(start, today), today


def split_window(start: date, end: date, max_days: int) -> list[tuple[date, date]]:
    """Return [start, end] cut into consecutive ranges of at most `max_days` days each."""
    if max_days < 1:
        raise ValueError("max_days must be at least 1")
    ranges: list[tuple[date, date]] = []
    while start <= end:
        last = min(end, start + timedelta(days=max_days - 1))
        ranges.append((start, last))
        start = last + timedelta(days=1)
    return ranges


def _view(row: PollCursorRow) -> PollCursor:
    return PollCursor(
        key=CursorKey(row.connection_id, row.ad_account_id),
        covered_through=row.covered_through,
        high_water_at=row.high_water_at,
        window_start=row.window_start,
        window_end=row.window_end,
        last_polled_at=row.last_polled_at,
        last_ok_at=row.last_ok_at,
        last_error=row.last_error,
        not_before=row.not_before,
    )


def read_cursor(session: Session, key: CursorKey) -> PollCursor | None:
    """Return the cursor of `key`, or None if that account was never polled."""
    row = session.get(PollCursorRow, (key.connection_id, key.ad_account_id))
    return None if row is None else _view(row)


def list_cursors(session: Session) -> list[PollCursor]:
    """Return every cursor, by connection and ad account."""
    rows = session.scalars(
        select(PollCursorRow).order_by(PollCursorRow.connection_id, PollCursorRow.ad_account_id)
    )
    return [_view(row) for row in rows]


def _row_for_update(session: Session, key: CursorKey) -> PollCursorRow | None:
    return session.get(PollCursorRow, (key.connection_id, key.ad_account_id), with_for_update=True)


def claim_cursor(
    sessions: Sessions,
    key: CursorKey,
    owner: str,
    now: datetime,
    *,
    lease_s: float,
    min_age_s: float,
) -> bool:
    """Take the lease on `key` if it is due (last polled `min_age_s` ago) and nobody holds it.

    Marks it polled now, so other workers sharing the schedule wait a whole interval.
    """
    with sessions() as session:
        row = _row_for_update(session, key)
        if row is None:
            row = PollCursorRow(connection_id=key.connection_id, ad_account_id=key.ad_account_id)
            session.add(row)
        else:
            held = row.lease_until is not None and row.lease_until > now
            if held and row.lease_owner != owner:
                return False
            if row.not_before is not None and row.not_before > now:
                return False
            if row.last_polled_at is not None and (
                (now - row.last_polled_at).total_seconds() < min_age_s
            ):
                return False
        row.lease_owner = owner
        row.lease_until = now + timedelta(seconds=lease_s)
        row.last_polled_at = now
        try:
            session.commit()
        except IntegrityError:  # another worker created the row first: it polls
            session.rollback()
            return False
    return True


def renew_lease(
    sessions: Sessions, key: CursorKey, owner: str, now: datetime, *, lease_s: float
) -> None:
    """Extend `owner`'s lease on `key` (a long backfill keeps it while it works)."""
    with sessions() as session:
        row = _row_for_update(session, key)
        if row is not None and row.lease_owner == owner:
            row.lease_until = now + timedelta(seconds=lease_s)
            session.commit()


def finish_poll(
    sessions: Sessions,
    key: CursorKey,
    outcome: PollOutcome,
    now: datetime,
    *,
    owner: str | None = None,
) -> PollCursor:
    """Record `outcome` on the cursor, release `owner`'s lease, and return the cursor.

    `covered_through` moves only forwards, and only when the window was clean and joins the
    days already covered (a backfill of a later range with a gap before it does not skip
    the gap). A crash before this runs leaves the cursor behind: the next poll re-exports
    leads intake has already taken, which it recognises as duplicates.
    """
    with sessions() as session:
        row = _row_for_update(session, key)
        if row is None:
            row = PollCursorRow(connection_id=key.connection_id, ad_account_id=key.ad_account_id)
            session.add(row)
        covered = row.covered_through
        if outcome.is_clean and (
            covered is None or outcome.window_start <= covered + timedelta(days=1)
        ):
            row.covered_through = max(covered or outcome.window_end, outcome.window_end)
        if outcome.high_water_at is not None:
            seen = row.high_water_at
            row.high_water_at = max(seen or outcome.high_water_at, outcome.high_water_at)
        row.window_start, row.window_end = outcome.window_start, outcome.window_end
        polled = row.last_polled_at
        row.last_polled_at = max(polled or outcome.started_at, outcome.started_at)
        if outcome.is_clean:
            row.last_ok_at = now
            row.last_error = None
        else:
            row.last_error = (outcome.error or "not every lead ad was polled")[:MAX_ERROR_CHARS]
        row.not_before = outcome.not_before
        if owner is not None and row.lease_owner == owner:
            row.lease_owner = None
            row.lease_until = None
        session.commit()
        return _view(row)


def release_lease(sessions: Sessions, key: CursorKey, owner: str) -> None:
    """Give up `owner`'s lease on `key` without recording a poll (it was interrupted)."""
    with sessions() as session:
        row = _row_for_update(session, key)
        if row is not None and row.lease_owner == owner:
            row.lease_owner = None
            row.lease_until = None
            session.commit()
