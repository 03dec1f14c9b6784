"""Contact request DTOs (strict, as HighLevel validates them) and the contact's read shape."""

from __future__ import annotations

import re
from datetime import date
from typing import Any, Literal

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from pydantic import BaseModel, ConfigDict, Field, field_validator

from leadwire.crm.models import Contact
from leadwire.crm.wire.common import StrictDto, iso_ms, refuse_nul


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

    @field_validator("*", mode="before")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        return refuse_nul(value)

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


TAG_MAX = 200  # the width of crm_contact_tags.tag

_DATE_FORMATS = "YYYY-MM-DD, YYYY/MM/DD, MM-DD-YYYY, MM/DD/YYYY (or . or _ between the parts)"
_YEAR_FIRST = re.compile(r"(\d{4})([-/._])(\d{1,2})\2(\d{1,2})")
_YEAR_LAST = re.compile(r"(\d{1,2})([-/._])(\d{1,2})\2(\d{4})")
# The create response shows birthdays as midnight timestamps; a client echoing one back is fine.
_MIDNIGHT = re.compile(r"(\d{4}-\d{2}-\d{2})T00:00(:00(\.0+)?)?(Z|[+-]00:?00)?")


def normalise_tag(tag: str) -> str:
    """Return a tag as stored: trimmed, inner whitespace collapsed, lower-cased (as HighLevel)."""
    return " ".join(tag.split()).lower()


def parse_date_of_birth(value: object) -> str | None:
    """Return a birthday in one of the reference's formats as `YYYY-MM-DD`; ValueError if not."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValueError(f"must be a date as {_DATE_FORMATS}")
    text = value.strip()
    midnight = _MIDNIGHT.fullmatch(text)
    if midnight:
        text = midnight.group(1)
    if found := _YEAR_FIRST.fullmatch(text):
        year, month, day = found.group(1), found.group(3), found.group(4)
    elif found := _YEAR_LAST.fullmatch(text):
        month, day, year = found.group(1), found.group(3), found.group(4)
    else:
        raise ValueError(f"must be a date as {_DATE_FORMATS}")
    try:
        return date(int(year), int(month), int(day)).isoformat()
    except ValueError:
        raise ValueError(f"must be a real calendar date ({value!r} is not)") from None


def _text(max_length: int) -> Any:
    # Each limit is the width of the column the value goes to: longer would fail in PostgreSQL.
    return Field(default=None, max_length=max_length)


class ContactFields(StrictDto):
    """Fields shared by create, upsert and update (UpdateContactDto)."""

    firstName: str | None = _text(200)  # noqa: N815 - wire names
    lastName: str | None = _text(200)  # noqa: N815
    name: str | None = _text(400)
    email: str | None = _text(320)
    phone: str | None = _text(64)
    address1: str | None = _text(400)
    city: str | None = _text(200)
    state: str | None = _text(200)
    postalCode: str | None = _text(32)  # noqa: N815
    website: str | None = _text(400)
    timezone: str | None = _text(64)
    dnd: bool | None = None
    dndSettings: DndSettings | None = None  # noqa: N815
    inboundDndSettings: InboundDndSettings | None = None  # noqa: N815
    tags: list[str] | None = Field(default=None, max_length=1000)
    customFields: list[CustomFieldInput] | None = Field(default=None, max_length=500)  # noqa: N815
    source: str | None = _text(200)
    dateOfBirth: str | None = None  # noqa: N815
    country: str | None = Field(default=None, min_length=2, max_length=2)
    assignedTo: str | None = _text(32)  # noqa: N815

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        return normalise_email(value)

    @field_validator("dateOfBirth", mode="before")
    @classmethod
    def _date_of_birth(cls, value: object) -> str | None:
        return parse_date_of_birth(value)

    @field_validator("tags")
    @classmethod
    def _tags(cls, values: list[str] | None) -> list[str] | None:
        # Empty tags are dropped when stored; one too long for the column must be refused here.
        for value in values or ():
            if len(normalise_tag(value)) > TAG_MAX:
                raise ValueError(f"must not contain a tag longer than {TAG_MAX} characters")
        return values


class CreateContactDto(ContactFields):
    """Body of `POST /contacts/`."""

    locationId: str  # noqa: N815
    gender: str | None = _text(32)
    companyName: str | None = _text(200)  # noqa: N815


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
