"""Operations on one contact: get, create, update, delete, upsert, duplicate look-up,
appointments, and the bulk business assignment.

`create` raises `DuplicateContactError` (with `contact_id`) when the location refuses a duplicate;
callers treat that as success. `upsert` is the duplicate-safe way to create.
"""

from __future__ import annotations

from leadwire.connectors.contacts.session import ContactsSession, idempotency_header, path_id
from leadwire.connectors.contacts.wire.contacts import (
    BusinessBulkBody,
    BusinessBulkResult,
    Contact,
    ContactEnvelope,
    ContactUpdate,
    DuplicateLookup,
    NewContact,
    Succeeded,
    UpdatedContact,
    UpsertResult,
)
from leadwire.connectors.contacts.wire.memberships import Appointment, AppointmentList


class ContactRecordsApi:
    """Create, read, change and delete contacts of the connection's location."""

    def __init__(self, session: ContactsSession, location_id: str) -> None:
        self._session = session
        self._location_id = location_id

    def get(self, contact_id: str) -> Contact:
        """Return one contact (`GET /contacts/{contactId}`)."""
        op = "get-contact"
        path = f"contacts/{path_id('contactId', contact_id, op)}"
        return self._session.fetch("GET", path, ContactEnvelope, op).contact

    def create(self, contact: NewContact, *, idempotency_key: str | None = None) -> Contact:
        """Create a contact (`POST /contacts/`); raise `DuplicateContactError` for a duplicate.

        The same `idempotency_key` creates it once (on CRMs that honour the header).
        """
        body = contact.wire(locationId=self._location_id)
        headers = idempotency_header(idempotency_key)
        answer = self._session.fetch(
            "POST", "contacts/", ContactEnvelope, "create-contact", body=body, headers=headers
        )
        return answer.contact

    def update(self, contact_id: str, changes: ContactUpdate) -> Contact:
        """Change the fields set in `changes` (`PUT /contacts/{contactId}`); `tags` replace all."""
        op = "update-contact"
        path = f"contacts/{path_id('contactId', contact_id, op)}"
        return self._session.fetch("PUT", path, UpdatedContact, op, body=changes.wire()).contact

    def delete(self, contact_id: str) -> bool:
        """Delete a contact (`DELETE /contacts/{contactId}`)."""
        op = "delete-contact"
        path = f"contacts/{path_id('contactId', contact_id, op)}"
        return self._session.fetch("DELETE", path, Succeeded, op).succeded

    def upsert(
        self,
        contact: NewContact,
        *,
        create_new_if_duplicate_allowed: bool | None = None,
        idempotency_key: str | None = None,
    ) -> UpsertResult:
        """Update the contact the email or phone matches, else create (`POST /contacts/upsert`)."""
        extra: dict[str, object] = {"locationId": self._location_id}
        if create_new_if_duplicate_allowed is not None:
            extra["createNewIfDuplicateAllowed"] = create_new_if_duplicate_allowed
        return self._session.fetch(
            "POST",
            "contacts/upsert",
            UpsertResult,
            "upsert-contact",
            body=contact.wire(**extra),
            headers=idempotency_header(idempotency_key),
        )

    def find_duplicate(
        self, *, email: str | None = None, phone: str | None = None
    ) -> Contact | None:
        """Return the contact a new one with this email or phone would duplicate, or None."""
        if not email and not phone:
            raise ValueError("give an email, a phone, or both")
        params = {"locationId": self._location_id, "email": email, "number": phone}
        answer = self._session.fetch(
            "GET",
            "contacts/search/duplicate",
            DuplicateLookup,
            "get-duplicate-contact",
            params=params,
        )
        return answer.contact

    def appointments(self, contact_id: str) -> list[Appointment]:
        """Return the contact's calendar events (`GET /contacts/{contactId}/appointments`)."""
        op = "get-appointments-for-contact"
        path = f"contacts/{path_id('contactId', contact_id, op)}/appointments"
        return self._session.fetch("GET", path, AppointmentList, op).events

    def set_business(self, contact_ids: list[str], business_id: str | None) -> BusinessBulkResult:
        """Put contacts in a business, or (None) take them out (`POST /contacts/bulk/business`)."""
        body = BusinessBulkBody(
            location_id=self._location_id, ids=contact_ids, business_id=business_id
        )
        return self._session.fetch(
            "POST",
            "contacts/bulk/business",
            BusinessBulkResult,
            "add-remove-contact-from-business",
            body=body.wire(),
        )
