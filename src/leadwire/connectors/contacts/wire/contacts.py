"""Contacts: the bodies of create, upsert and update, and the contact as the API answers it.

Write bodies follow CreateContactDto / UpsertContactDto / UpdateContactDto of the reference;
`locationId` is added by the client (it is the connection's, never the caller's). Read shapes
are one lenient `Contact` covering GetContectByIdSchema and CreateContactSchema (and what the
embedded CRM adds: `followers`, `inboundDndSettings`), with the list and search variants.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import ClassVar

from pydantic import Field, JsonValue

from leadwire.connectors.contacts.wire.base import WireIn, WireOut


class DndStatus(StrEnum):
    """Do-not-disturb state of a channel (`inactive` lifts it)."""

    ACTIVE = "active"
    INACTIVE = "inactive"
    PERMANENT = "permanent"


class DndSetting(WireOut):
    """Do-not-disturb of one channel (DndSettingSchema)."""

    status: DndStatus
    message: str | None = None
    code: str | None = None


class DndSettings(WireOut):
    """Do-not-disturb per channel; the wire keys are HighLevel's channel names."""

    call: DndSetting | None = Field(default=None, alias="Call")
    email: DndSetting | None = Field(default=None, alias="Email")
    sms: DndSetting | None = Field(default=None, alias="SMS")
    whats_app: DndSetting | None = Field(default=None, alias="WhatsApp")
    gmb: DndSetting | None = Field(default=None, alias="GMB")
    fb: DndSetting | None = Field(default=None, alias="FB")


class InboundDndSetting(WireOut):
    """Inbound do-not-disturb (InboundDndSettingSchema): `permanent` does not exist here."""

    status: DndStatus
    message: str | None = None


class InboundDndSettings(WireOut):
    """Inbound do-not-disturb of every channel."""

    all: InboundDndSetting | None = None


class CustomFieldValue(WireOut):
    """One custom field to write, by `id` (or `key`).

    Sent as `fieldValue`: the reference spells it `field_value`, but `fieldValue` is what works
    on HighLevel with Version 2021-07-28 (n8n-io/n8n#35392, PR #35988; v3 deprecates
    `field_value`), and the embedded CRM accepts both.
    """

    id: str | None = None
    key: str | None = None
    field_value: JsonValue = None


class ContactFields(WireOut):
    """Fields shared by create, upsert and update; only the fields set are sent."""

    first_name: str | None = None
    last_name: str | None = None
    name: str | None = None
    email: str | None = None
    phone: str | None = None
    address1: str | None = None
    city: str | None = None
    state: str | None = None
    postal_code: str | None = None
    website: str | None = None
    timezone: str | None = None
    dnd: bool | None = None
    dnd_settings: DndSettings | None = None
    inbound_dnd_settings: InboundDndSettings | None = None
    tags: list[str] | None = Field(
        default=None, description="Replaces every tag of the contact; add tags with `tags.add`."
    )
    custom_fields: list[CustomFieldValue] | None = None
    source: str | None = None
    date_of_birth: str | None = Field(default=None, description="YYYY-MM-DD (or MM/DD/YYYY).")
    country: str | None = Field(default=None, description="ISO 3166 alpha-2, e.g. US.")
    assigned_to: str | None = None


class NewContact(ContactFields):
    """Body of `POST /contacts/` and `POST /contacts/upsert` (without `locationId`)."""

    gender: str | None = None
    company_name: str | None = None


class ContactUpdate(ContactFields):
    """Body of `PUT /contacts/{contactId}`: no locationId, gender or companyName (HighLevel
    answers 422 for them)."""


class CustomField(WireIn):
    """A custom field's value as read: a string, number, list or object by field type."""

    id: str
    value: JsonValue = None


class AttributionSource(WireIn):
    """Where a contact came from (AttributionSource)."""

    url: str | None = None
    campaign: str | None = None
    utm_source: str | None = None
    utm_medium: str | None = None
    utm_content: str | None = None
    referrer: str | None = None
    campaign_id: str | None = None
    medium: str | None = None
    medium_id: str | None = None


class DndState(WireIn):
    """Do-not-disturb of one channel, as read (keyed by channel name: Call, Email, SMS, ...)."""

    status: str | None = None
    message: str | None = None
    code: str | None = None


class Contact(WireIn):
    """A contact as the API shows it; fields the answer leaves out are None (lists: empty)."""

    id: str
    location_id: str | None = None
    name: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    phone: str | None = None
    company_name: str | None = None
    timezone: str | None = None
    dnd: bool | None = None
    dnd_settings: dict[str, DndState] | None = None
    inbound_dnd_settings: dict[str, DndState] | None = None
    type: str | None = None
    source: str | None = None
    assigned_to: str | None = None
    address1: str | None = None
    city: str | None = None
    state: str | None = None
    country: str | None = None
    postal_code: str | None = None
    website: str | None = None
    tags: list[str] = Field(default_factory=list)
    date_of_birth: str | None = None
    date_added: datetime | None = None
    date_updated: datetime | None = None
    custom_fields: list[CustomField] = Field(default_factory=list)
    business_id: str | None = None
    followers: list[str] = Field(default_factory=list)
    attribution_source: AttributionSource | None = None
    last_attribution_source: AttributionSource | None = None


class ListedContact(Contact):
    """A contact in `GET /contacts/` and by-business lists (ContactsSearchSchema)."""

    attributions: list[AttributionSource] = Field(default_factory=list)


class SearchedContact(Contact):
    """A contact in `POST /contacts/search` results, with the cursor that continues after it."""

    search_after: list[JsonValue] | None = None


class ContactEnvelope(WireIn):
    """`{"contact": Contact}` of get and create."""

    contact: Contact


class UpdatedContact(WireIn):
    """`{"succeded": true, "contact": Contact}` of update (HighLevel's spelling)."""

    succeded: bool = True
    contact: Contact


class UpsertResult(WireIn):
    """`{"new": bool, "contact": Contact, "traceId"}` of upsert: `new` says it was created."""

    new: bool
    contact: Contact
    trace_id: str | None = None


class DuplicateLookup(WireIn):
    """`{"contact": Contact | null}` of `GET /contacts/search/duplicate`."""

    contact: Contact | None = None


class Succeeded(WireIn):
    """`{"succeded": true}` of deletes, campaigns and workflows (HighLevel's spelling)."""

    succeded: bool = False


class BusinessBulkBody(WireOut):
    """Body of `POST /contacts/bulk/business`; a null `businessId` takes contacts out."""

    always_sent: ClassVar[frozenset[str]] = frozenset({"business_id"})

    location_id: str
    ids: list[str] = Field(min_length=1)
    business_id: str | None = None


class BusinessBulkResult(WireIn):
    """`{"success", "ids"}`: the ids updated; `success` is false if some were not."""

    success: bool
    ids: list[str] = Field(default_factory=list)
