"""Poll cursors: how far the leads exports of one Pinterest ad account have been taken in.

One row per (Pinterest connection, ad account), never per flow: editing or republishing a flow
leaves the cursor where it is. `covered_through` is the last UTC day every lead ad of the
account was exported cleanly up to (the next poll starts a few days before it, since exports
take whole days and Pinterest may report leads late); the lease keeps two workers from polling
the same account at once.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from leadwire.store.models.base import AppBase
from leadwire.store.types import utcnow


class PollCursorRow(AppBase):
    """The polling state of one ad account reached through one Pinterest connection."""

    __tablename__ = "lw_poll_cursors"

    connection_id: Mapped[str] = mapped_column(String(24), primary_key=True)
    ad_account_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    # The last UTC day whose leads every lead ad gave up in a clean poll; none: never polled.
    covered_through: Mapped[date | None] = mapped_column(Date)
    # The newest lead `created_time` seen (shown; the window is computed from covered_through).
    high_water_at: Mapped[datetime | None]
    # The last window polled, clean or not.
    window_start: Mapped[date | None] = mapped_column(Date)
    window_end: Mapped[date | None] = mapped_column(Date)
    last_polled_at: Mapped[datetime | None]
    last_ok_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    # After a long rate-limit wait (a spent quota): no poll before this time.
    not_before: Mapped[datetime | None]
    lease_owner: Mapped[str | None] = mapped_column(String(200))
    lease_until: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
