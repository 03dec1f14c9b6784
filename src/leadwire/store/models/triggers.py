"""What starts runs besides Pinterest: CRM event hooks, and how far each schedule has fired.

A CRM hook is `POST /hooks/crm/{secret}`. Like a Pinterest hook, its URL secret is kept only as
its SHA-256; the public key that verifies the CRM's signature is not a secret and is kept as
PEM. A schedule's state is the last due time it fired, per flow: runs are pruned after a while,
so the runs table cannot say whether a monthly schedule already fired this month.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from leadwire.store.models.base import AppBase
from leadwire.store.types import utcnow


class CrmHookRow(AppBase):
    """One receiving URL of a CRM's event webhooks, with the key its signatures verify with."""

    __tablename__ = "lw_crm_hooks"

    id: Mapped[str] = mapped_column(String(24), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # SubjectPublicKeyInfo PEM: Ed25519 checks `x-ghl-signature`, RSA `x-wh-signature`.
    public_key: Mapped[str] = mapped_column(Text)
    scheme: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_delivery_at: Mapped[datetime | None]


class ScheduleStateRow(AppBase):
    """The last due time a schedule flow fired (whichever worker fired it)."""

    __tablename__ = "lw_schedule_state"

    flow_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    last_due_at: Mapped[datetime]
    last_run_id: Mapped[str] = mapped_column(String(400))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
