"""Flows: a draft document per flow, and its published versions (immutable once written).

A run is pinned to `(flow_id, version)`; editing the draft or publishing again never changes a
version a run started on. The flow's webhook secret is sealed (`leadwire.engine.secrets`) like
every other secret at rest.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, LargeBinary, String, event
from sqlalchemy.orm import Mapped, Mapper, mapped_column

from leadwire.store.models.base import AppBase
from leadwire.store.types import utcnow


class FlowRow(AppBase):
    """One flow: its name, current draft document, and sealed webhook signing secret."""

    __tablename__ = "lw_flows"

    id: Mapped[str] = mapped_column(String(24), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    draft: Mapped[dict[str, Any]]
    webhook_secret: Mapped[bytes] = mapped_column(LargeBinary)
    webhook_secret_key_id: Mapped[str] = mapped_column(String(64), index=True)
    # Where the flow's leads come from and go: none means "the only one of its kind".
    pinterest_connection_id: Mapped[str | None] = mapped_column(String(24))
    contacts_connection_id: Mapped[str | None] = mapped_column(String(24))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    @property
    def webhook_secret_owner(self) -> str:
        """Return the identity the webhook secret is sealed for (its associated data)."""
        return f"flow:{self.id}:webhook_secret"


class FlowVersionRow(AppBase):
    """A published version of a flow: its document as it was at publication."""

    __tablename__ = "lw_flow_versions"

    flow_id: Mapped[str] = mapped_column(
        String(24), ForeignKey("lw_flows.id", ondelete="RESTRICT"), primary_key=True
    )
    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    document: Mapped[dict[str, Any]]
    published_at: Mapped[datetime] = mapped_column(default=utcnow)


class ImmutableVersionError(RuntimeError):
    """Something tried to change or delete a published flow version."""


@event.listens_for(FlowVersionRow, "before_update")
def _refuse_update(_mapper: Mapper[Any], _connection: Any, target: FlowVersionRow) -> None:
    raise ImmutableVersionError(
        f"flow {target.flow_id} version {target.version} is published and cannot change"
    )


@event.listens_for(FlowVersionRow, "before_delete")
def _refuse_delete(_mapper: Mapper[Any], _connection: Any, target: FlowVersionRow) -> None:
    raise ImmutableVersionError(
        f"flow {target.flow_id} version {target.version} is published and cannot be deleted"
    )
