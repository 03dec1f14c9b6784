"""The appointment's read shape (GetEventSchema), with the reference's time format."""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from leadwire.crm.models import Appointment

# GetEventSchema's examples read "2021-07-16 11:00:00": no `T`, no zone, no milliseconds.
EVENT_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


def location_zone(name: str | None) -> tzinfo:
    """Return the zone the location's calendar times are shown in; UTC if unknown."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def event_time(value: datetime, zone: tzinfo) -> str:
    """Format a stored (UTC) time as the reference does, as a wall-clock time in `zone`."""
    return value.astimezone(zone).strftime(EVENT_TIME_FORMAT)


def event_wire(appointment: Appointment, zone: tzinfo) -> dict[str, Any]:
    """Return the appointment as `GET /contacts/{contactId}/appointments` shows it."""
    return {
        "id": appointment.id,
        "calendarId": appointment.calendar_id,
        "status": appointment.status,
        "title": appointment.title,
        "assignedUserId": appointment.assigned_user_id,
        "notes": appointment.notes,
        "startTime": event_time(appointment.start_time, zone),
        "endTime": event_time(appointment.end_time, zone),
        "address": appointment.address,
        "locationId": appointment.location_id,
        "contactId": appointment.contact_id,
        "groupId": appointment.group_id,
        "appointmentStatus": appointment.appointment_status,
        "users": list(appointment.users),
        "dateAdded": event_time(appointment.date_added, zone),
        "dateUpdated": event_time(appointment.date_updated, zone),
        "assignedResources": [],
    }
