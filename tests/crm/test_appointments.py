"""A contact's appointments: GetEventSchema shape, the reference's time format, time zones."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import update

from leadwire.crm.ids import new_id
from leadwire.crm.models import Appointment, Location
from tests.crm.conftest import Tenant, new_tenant
from tests.crm.subresources import MISSING_ID, make_contact

EVENT_KEYS = {
    "id",
    "calendarId",
    "status",
    "title",
    "assignedUserId",
    "notes",
    "startTime",
    "endTime",
    "address",
    "locationId",
    "contactId",
    "groupId",
    "appointmentStatus",
    "users",
    "dateAdded",
    "dateUpdated",
    "assignedResources",
}


def _book(tenant: Tenant, contact_id: str, start: datetime, title: str = "Consultation") -> str:
    with tenant.server.store.sessions() as session:
        appointment = Appointment(
            id=new_id(),
            contact_id=contact_id,
            location_id=tenant.location_id,
            calendar_id="C" * 20,
            title=title,
            status="booked",
            appointment_status="confirmed",
            assigned_user_id="U" * 20,
            notes="Bring samples",
            address="1 Market St",
            start_time=start,
            end_time=start + timedelta(minutes=30),
            users=["U" * 20],
            date_added=datetime(2021, 7, 1, 8, 0, 0, 123000, tzinfo=UTC),
            date_updated=datetime(2021, 7, 2, 9, 15, 0, tzinfo=UTC),
        )
        session.add(appointment)
        session.commit()
        return appointment.id


def test_events_in_the_reference_shape(tenant: Tenant, api: httpx.Client) -> None:
    contact_id = make_contact(tenant, api)
    later = _book(tenant, contact_id, datetime(2021, 7, 16, 11, 0, tzinfo=UTC), "Later")
    sooner = _book(tenant, contact_id, datetime(2021, 7, 15, 9, 30, tzinfo=UTC), "Sooner")
    other_contact = make_contact(tenant, api)
    _book(tenant, other_contact, datetime(2021, 7, 14, 9, 0, tzinfo=UTC))
    answer = api.get(f"/contacts/{contact_id}/appointments")
    assert answer.status_code == 200
    events = answer.json()["events"]
    assert [e["id"] for e in events] == [sooner, later]
    assert set(events[1]) == EVENT_KEYS
    assert events[1] == {
        "id": later,
        "calendarId": "C" * 20,
        "status": "booked",
        "title": "Later",
        "assignedUserId": "U" * 20,
        "notes": "Bring samples",
        "startTime": "2021-07-16 11:00:00",
        "endTime": "2021-07-16 11:30:00",
        "address": "1 Market St",
        "locationId": tenant.location_id,
        "contactId": contact_id,
        "groupId": None,
        "appointmentStatus": "confirmed",
        "users": ["U" * 20],
        "dateAdded": "2021-07-01 08:00:00",
        "dateUpdated": "2021-07-02 09:15:00",
        "assignedResources": [],
    }


def test_times_are_wall_clock_in_the_location_zone(tenant: Tenant, api: httpx.Client) -> None:
    contact_id = make_contact(tenant, api)
    _book(tenant, contact_id, datetime(2021, 7, 16, 15, 0, tzinfo=UTC))
    with tenant.server.store.sessions() as session:
        session.execute(
            update(Location)
            .where(Location.id == tenant.location_id)
            .values(timezone="America/New_York")
        )
        session.commit()
    [event] = api.get(f"/contacts/{contact_id}/appointments/").json()["events"]
    assert (event["startTime"], event["endTime"]) == ("2021-07-16 11:00:00", "2021-07-16 11:30:00")


def test_no_appointments_is_an_empty_list(tenant: Tenant, api: httpx.Client) -> None:
    contact_id = make_contact(tenant, api)
    assert api.get(f"/contacts/{contact_id}/appointments").json() == {"events": []}


def test_read_only_key_reads(tenant: Tenant, api: httpx.Client) -> None:
    contact_id = make_contact(tenant, api)
    _book(tenant, contact_id, datetime(2021, 7, 16, 11, 0, tzinfo=UTC))
    with tenant.client(tenant.read_key) as reader:
        answer = reader.get(f"/contacts/{contact_id}/appointments")
    assert answer.status_code == 200
    assert len(answer.json()["events"]) == 1


def test_unknown_foreign_and_malformed_contacts(tenant: Tenant, api: httpx.Client) -> None:
    other = new_tenant(tenant.server)
    with other.client() as other_api:
        foreign = make_contact(other, other_api)
    _book(other, foreign, datetime(2021, 7, 16, 11, 0, tzinfo=UTC))
    assert api.get(f"/contacts/{foreign}/appointments").status_code == 404
    assert api.get(f"/contacts/{MISSING_ID}/appointments").status_code == 404
    assert api.get("/contacts/xyz/appointments").status_code == 400
