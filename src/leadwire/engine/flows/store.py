"""The flow store: create a flow, save its draft (validated), publish immutable versions, read them.

Functions take a session and leave committing to the caller. A flow is named by its id or its
name wherever a reference is taken. Publishing a draft identical to the latest version returns
that version instead of making a copy, so re-publishing on every start (`leadwire up`) is safe.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from leadwire.engine.flows.document import DRAFT_VERSION, FlowDocument, FlowVersion
from leadwire.engine.flows.errors import FlowError, FlowNotFoundError
from leadwire.engine.flows.loading import validate_data
from leadwire.store.models.flows import FlowRow, FlowVersionRow
from leadwire.store.types import utcnow

SECRET_BYTES = 32


class Sealer(Protocol):
    """What seals secrets at rest (`leadwire.engine.secrets.KeyRing` is one)."""

    def seal(self, plaintext: bytes, owner: str) -> bytes:
        """Return `plaintext` sealed for `owner`."""
        ...

    def open(self, blob: bytes, owner: str) -> bytes:
        """Return the plaintext of a sealed `blob`."""
        ...

    def key_id_of(self, blob: bytes, owner: str) -> str:
        """Return the id of the key that sealed `blob`."""
        ...


@dataclass(frozen=True)
class FlowSummary:
    """A flow as listed: its latest version and whether the draft differs from it."""

    id: str
    name: str
    latest_version: int | None
    published_at: datetime | None
    updated_at: datetime
    has_unpublished_changes: bool


def new_flow_id() -> str:
    """Return a new flow id."""
    return f"flow_{secrets.token_hex(8)}"


def create_flow(
    session: Session, document: FlowDocument, sealer: Sealer, *, name: str | None = None
) -> FlowRow:
    """Create a flow whose draft is `document` (validated), with a fresh webhook secret."""
    checked = validate_data(document.to_data())
    row = FlowRow(id=new_flow_id(), name=name or checked.name, draft=checked.to_data())
    secret = secrets.token_urlsafe(SECRET_BYTES).encode()
    row.webhook_secret = sealer.seal(secret, row.webhook_secret_owner)
    row.webhook_secret_key_id = sealer.key_id_of(row.webhook_secret, row.webhook_secret_owner)
    if session.scalar(select(FlowRow.id).where(FlowRow.name == row.name)) is not None:
        raise FlowError(f"a flow named {row.name!r} already exists")
    session.add(row)
    session.flush()
    return row


def find_flow(session: Session, ref: str, *, for_update: bool = False) -> FlowRow:
    """Return the flow with id or name `ref`; FlowNotFoundError if there is none."""
    query = select(FlowRow).where(or_(FlowRow.id == ref, FlowRow.name == ref))
    if for_update:
        query = query.with_for_update()
    row = session.scalars(query).first()
    if row is None:
        raise FlowNotFoundError(f"no flow with id or name {ref!r}")
    return row


def draft_of(row: FlowRow) -> FlowVersion:
    """Return the flow's draft as version 0 (what dry runs of unpublished edits plan with)."""
    return FlowVersion(row.id, DRAFT_VERSION, validate_data(row.draft))


def save_draft(session: Session, ref: str, document: FlowDocument) -> FlowRow:
    """Replace the flow's draft with `document`, validated; published versions do not change."""
    row = find_flow(session, ref)
    row.draft = validate_data(document.to_data()).to_data()
    row.updated_at = utcnow()
    session.flush()
    return row


def _latest_row(session: Session, flow_id: str) -> FlowVersionRow | None:
    return session.scalars(
        select(FlowVersionRow)
        .where(FlowVersionRow.flow_id == flow_id)
        .order_by(FlowVersionRow.version.desc())
        .limit(1)
    ).first()


def _version(row: FlowVersionRow) -> FlowVersion:
    return FlowVersion(row.flow_id, row.version, validate_data(row.document))


def publish(session: Session, ref: str) -> FlowVersion:
    """Publish the draft as the next version (immutable from now on) and return it."""
    row = find_flow(session, ref, for_update=True)
    document = validate_data(row.draft).to_data()
    latest = _latest_row(session, row.id)
    if latest is not None and latest.document == document:
        return _version(latest)
    number = 1 if latest is None else latest.version + 1
    published = FlowVersionRow(flow_id=row.id, version=number, document=document)
    session.add(published)
    session.flush()
    return _version(published)


def get_version(session: Session, flow_id: str, version: int) -> FlowVersion:
    """Return version `version` of flow `flow_id` (what a run pinned to it executes)."""
    row = session.get(FlowVersionRow, (flow_id, version))
    if row is None:
        raise FlowNotFoundError(f"flow {flow_id!r} has no version {version}")
    return _version(row)


def latest_version(session: Session, ref: str) -> FlowVersion | None:
    """Return the latest published version of a flow, or None if it was never published."""
    latest = _latest_row(session, find_flow(session, ref).id)
    return None if latest is None else _version(latest)


def list_flows(session: Session) -> list[FlowSummary]:
    """Return every flow, by name, with its latest version."""
    newest = (
        select(FlowVersionRow.flow_id, func.max(FlowVersionRow.version).label("version"))
        .group_by(FlowVersionRow.flow_id)
        .subquery()
    )
    rows = session.execute(
        select(FlowRow, FlowVersionRow)
        .outerjoin(newest, newest.c.flow_id == FlowRow.id)
        .outerjoin(
            FlowVersionRow,
            (FlowVersionRow.flow_id == newest.c.flow_id)
            & (FlowVersionRow.version == newest.c.version),
        )
        .order_by(FlowRow.name)
    ).all()
    return [
        FlowSummary(
            id=flow.id,
            name=flow.name,
            latest_version=None if version is None else version.version,
            published_at=None if version is None else version.published_at,
            updated_at=flow.updated_at,
            has_unpublished_changes=version is None or version.document != flow.draft,
        )
        for flow, version in rows
    ]


def bind_connections(
    session: Session,
    ref: str,
    *,
    contacts_connection_id: str | None = None,
    pinterest_connection_id: str | None = None,
    clear: bool = False,
) -> FlowRow:
    """Bind a flow to the CRM connection it writes to and the Pinterest one it takes leads
    from (each left as is when None, unless `clear`: then None means "the only one")."""
    row = find_flow(session, ref, for_update=True)
    if contacts_connection_id is not None or clear:
        row.contacts_connection_id = contacts_connection_id
    if pinterest_connection_id is not None or clear:
        row.pinterest_connection_id = pinterest_connection_id
    session.flush()
    return row


def webhook_secret(row: FlowRow, sealer: Sealer) -> str:
    """Return the flow's webhook signing secret (shown to the user to check signatures with)."""
    return sealer.open(row.webhook_secret, row.webhook_secret_owner).decode()
