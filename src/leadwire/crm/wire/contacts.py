"""Contact request DTOs (strict, as HighLevel validates them) and the contact's read shape."""

from __future__ import annotations

from typing import Any, Literal

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from pydantic import BaseModel, ConfigDict, Field, field_validator

from leadwire.crm.models import Contact
from leadwire.crm.wire.common import StrictDto, iso_ms


class DndSetting(StrictDto):
    """Do-not-disturb state of one channel."""

    status: Literal["active", "inactive", "permanent"]
    message: str | None = None
    code: str | None = None


class DndSettings(StrictDto):
    """Do-not-disturb per channel."""

    Call: DndSetting | None = None
    Email: DndSetting | None = None
    SMS: DndSetting | None = None
    WhatsApp: DndSetting | None = None
    GMB: DndSetting | None = None
    FB: DndSetting | None = None


class InboundDndSetting(StrictDto):
    """Inbound do-not-disturb state."""

    status: Literal["active", "inactive"]
    message: str | None = None


class InboundDndSettings(StrictDto):
    """Inbound do-not-disturb for all channels."""

    all: InboundDndSetting | None = None


class CustomFieldInput(BaseModel):
    """One custom field value, by `id` or `key`; the value under any of its three spellings."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    id: str | None = None
    key: str | None = None
    field_value: Any = None
    fieldValue: Any = None  # noqa: N815 - wire name
    value: Any = None

    def the_value(self) -> Any:
        """Return the value whichever name the client used for it."""
        for candidate in (self.field_value, self.fieldValue, self.value):
            if candidate is not None:
                return candidate
        return None


def normalise_email(value: str | None) -> str | None:
    """Return a syntactically valid email, normalised; raise ValueError if it is not one."""
    if value is None or value == "":
        return None
    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise ValueError(f"must be an email ({exc})") from None


def normalise_phone(value: str | None, region: str | None = None) -> str | None:
    """Return `value` in E.164; raise ValueError if it is not a possible phone number."""
    if value is None or value == "":
        return None
    try:
        number = phonenumbers.parse(value, (region or "US").upper())
    except phonenumbers.NumberParseException:
        raise ValueError("must be a valid phone number") from None
    if not phonenumbers.is_possible_number(number):
        raise ValueError("must be a valid phone number")
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


class ContactFields(StrictDto):
    """Fields shared by create, upsert and update (UpdateContactDto)."""

    firstName: str | None = None  # noqa: N815 - wire names
    lastName: str | None = None  # noqa: N815
    name: str | None = None
    email: str | None = None
    phone: str | None = None
    address1: str | None = None
    city: str | None = None
    state: str | None = None
    postalCode: str | None = None  # noqa: N815
    website: str | None = None
    timezone: str | None = None
    dnd: bool | None = None
    dndSettings: DndSettings | None = None  # noqa: N815
    inboundDndSettings: InboundDndSettings | None = None  # noqa: N815
    tags: list[str] | None = Field(default=None, max_length=1000)
    customFields: list[CustomFieldInput] | None = Field(default=None, max_length=500)  # noqa: N815
    source: str | None = None
    dateOfBirth: str | None = None  # noqa: N815
    country: str | None = Field(default=None, min_length=2, max_length=2)
    assignedTo: str | None = None  # noqa: N815

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        return normalise_email(value)


class CreateContactDto(ContactFields):
    """Body of `POST /contacts/`."""

    locationId: str  # noqa: N815
    gender: str | None = None
    companyName: str | None = None  # noqa: N815


class UpsertContactDto(CreateContactDto):
    """Body of `POST /contacts/upsert`."""

    createNewIfDuplicateAllowed: bool | None = None  # noqa: N815


class UpdateContactDto(ContactFields):
    """Body of `PUT /contacts/{contactId}`: no locationId, gender or companyName."""


def contact_wire(contact: Contact, tags: list[str]) -> dict[str, Any]:
    """Return the contact as `GET /contacts/{id}` shows it."""
    full = " ".join(p for p in (contact.first_name, contact.last_name) if p) or None
    s = contact.settings
    return {
        "id": contact.id,
        "name": contact.name or full,
        "locationId": contact.location_id,
        "firstName": contact.first_name,
        "lastName": contact.last_name,
        "email": contact.email,
        "emailLowerCase": contact.email_lower,
        "timezone": contact.timezone,
        "companyName": contact.company_name,
        "phone": contact.phone,
        "dnd": contact.dnd,
        "dndSettings": s.get("dndSettings", {}),
        "inboundDndSettings": s.get("inboundDndSettings", {}),
        "type": contact.type,
        "source": contact.source,
        "assignedTo": contact.assigned_to,
        "address1": contact.address1,
        "city": contact.city,
        "state": contact.state,
        "country": contact.country,
        "postalCode": contact.postal_code,
        "website": contact.website,
        "tags": tags,
        "dateOfBirth": contact.date_of_birth,
        "dateAdded": iso_ms(contact.date_added),
        "dateUpdated": iso_ms(contact.date_updated),
        "firstNameLowerCase": contact.first_name.lower() if contact.first_name else None,
        "lastNameLowerCase": contact.last_name.lower() if contact.last_name else None,
        "fullNameLowerCase": full.lower() if full else None,
        "customFields": [{"id": k, "value": v} for k, v in contact.custom_fields.items()],
        "businessId": contact.business_id,
        "followers": list(contact.followers),
        "attributionSource": s.get("attributionSource"),
        "lastAttributionSource": s.get("lastAttributionSource"),
    }
