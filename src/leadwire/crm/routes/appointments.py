"""Contacts API route: a contact's appointments (calendar events), read-only.

Times are shown as the reference's example shows them ("2021-07-16 11:00:00"), which carries
no zone: we give wall-clock times in the location's timezone, as its calendar shows them.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from leadwire.crm.deps import ReadDb, Reader
from leadwire.crm.models import Appointment, Location
from leadwire.crm.records.contacts import load_contact
from leadwire.crm.routes import CrmRouter
from leadwire.crm.wire.appointments import event_wire, location_zone

router = CrmRouter(prefix="/contacts", tags=["Appointments"])


@router.get("/{contactId}/appointments", operation_id="get-appointments-for-contact")
async def get_appointments(contactId: str, caller: Reader, db: ReadDb) -> dict[str, Any]:  # noqa: N803
    """Return the contact's appointments, earliest first."""
    contact = load_contact(db, caller, contactId)
    location = db.get(Location, contact.location_id)
    zone = location_zone(location.timezone if location is not None else None)
    rows = db.scalars(
        select(Appointment)
        .where(Appointment.contact_id == contact.id)
        .order_by(Appointment.start_time, Appointment.id)
    )
    return {"events": [event_wire(row, zone) for row in rows]}
