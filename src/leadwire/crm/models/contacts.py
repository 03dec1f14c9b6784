"""Contacts and what hangs off them: tags, tasks, notes, appointments, memberships."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from leadwire.crm.models.base import Base, utcnow


class Contact(Base):
    """A person in the CRM; searchable fields are columns, nested settings are JSON."""

    __tablename__ = "crm_contacts"
    __table_args__ = (
        Index("ix_crm_contacts_location_email", "location_id", "email_lower"),
        Index("ix_crm_contacts_location_phone", "location_id", "phone"),
        Index("ix_crm_contacts_location_added", "location_id", "date_added", "id"),
        Index("ix_crm_contacts_business", "location_id", "business_id"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    location_id: Mapped[str] = mapped_column(ForeignKey("crm_locations.id"))
    first_name: Mapped[str | None] = mapped_column(String(200))
    last_name: Mapped[str | None] = mapped_column(String(200))
    name: Mapped[str | None] = mapped_column(String(400))
    email: Mapped[str | None] = mapped_column(String(320))
    email_lower: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(32))
    gender: Mapped[str | None] = mapped_column(String(32))
    company_name: Mapped[str | None] = mapped_column(String(200))
    business_id: Mapped[str | None] = mapped_column(String(32))
    address1: Mapped[str | None] = mapped_column(String(400))
    city: Mapped[str | None] = mapped_column(String(200))
    state: Mapped[str | None] = mapped_column(String(200))
    country: Mapped[str | None] = mapped_column(String(8))
    postal_code: Mapped[str | None] = mapped_column(String(32))
    website: Mapped[str | None] = mapped_column(String(400))
    timezone: Mapped[str | None] = mapped_column(String(64))
    source: Mapped[str | None] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(32), default="lead")
    assigned_to: Mapped[str | None] = mapped_column(String(32))
    dnd: Mapped[bool] = mapped_column(default=False)
    date_of_birth: Mapped[str | None] = mapped_column(String(32))
    # dndSettings, inboundDndSettings, attributionSource, lastAttributionSource, ...
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # Custom field values keyed by custom field id.
    custom_fields: Mapped[dict[str, Any]] = mapped_column(default=dict)
    followers: Mapped[list[str]] = mapped_column(default=list)
    date_added: Mapped[datetime] = mapped_column(default=utcnow)
    date_updated: Mapped[datetime] = mapped_column(default=utcnow)


class ContactTag(Base):
    """One tag on one contact: a set, so adding a tag twice keeps one."""

    __tablename__ = "crm_contact_tags"
    __table_args__ = (Index("ix_crm_contact_tags_location_tag", "location_id", "tag"),)

    contact_id: Mapped[str] = mapped_column(
        ForeignKey("crm_contacts.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(200), primary_key=True)
    location_id: Mapped[str] = mapped_column(String(32))


class Task(Base):
    """A follow-up task on a contact."""

    __tablename__ = "crm_tasks"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    contact_id: Mapped[str] = mapped_column(
        ForeignKey("crm_contacts.id", ondelete="CASCADE"), index=True
    )
    location_id: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(500))
    body: Mapped[str | None] = mapped_column(Text)
    assigned_to: Mapped[str | None] = mapped_column(String(32))
    due_date: Mapped[datetime]
    completed: Mapped[bool] = mapped_column(default=False)
    date_added: Mapped[datetime] = mapped_column(default=utcnow)
    date_updated: Mapped[datetime] = mapped_column(default=utcnow)


class Note(Base):
    """A note on a contact."""

    __tablename__ = "crm_notes"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    contact_id: Mapped[str] = mapped_column(
        ForeignKey("crm_contacts.id", ondelete="CASCADE"), index=True
    )
    location_id: Mapped[str] = mapped_column(String(32))
    body: Mapped[str] = mapped_column(Text)
    user_id: Mapped[str | None] = mapped_column(String(32))
    title: Mapped[str | None] = mapped_column(String(500))
    color: Mapped[str | None] = mapped_column(String(32))
    pinned: Mapped[bool] = mapped_column(default=False)
    date_added: Mapped[datetime] = mapped_column(default=utcnow)


class Appointment(Base):
    """A calendar event booked for a contact (read-only over the Contacts API)."""

    __tablename__ = "crm_appointments"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    contact_id: Mapped[str] = mapped_column(
        ForeignKey("crm_contacts.id", ondelete="CASCADE"), index=True
    )
    location_id: Mapped[str] = mapped_column(String(32))
    calendar_id: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(32), default="booked")
    appointment_status: Mapped[str] = mapped_column(String(32), default="confirmed")
    assigned_user_id: Mapped[str | None] = mapped_column(String(32))
    notes: Mapped[str | None] = mapped_column(Text)
    address: Mapped[str | None] = mapped_column(String(400))
    group_id: Mapped[str | None] = mapped_column(String(32))
    start_time: Mapped[datetime]
    end_time: Mapped[datetime]
    users: Mapped[list[str]] = mapped_column(default=list)
    date_added: Mapped[datetime] = mapped_column(default=utcnow)
    date_updated: Mapped[datetime] = mapped_column(default=utcnow)


class Campaign(Base):
    """A campaign of a location that contacts can be added to."""

    __tablename__ = "crm_campaigns"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    location_id: Mapped[str] = mapped_column(ForeignKey("crm_locations.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(32), default="published")


class Workflow(Base):
    """A workflow of a location that contacts can be enrolled in."""

    __tablename__ = "crm_workflows"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    location_id: Mapped[str] = mapped_column(ForeignKey("crm_locations.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(32), default="published")


class CampaignMember(Base):
    """A contact's membership in a campaign."""

    __tablename__ = "crm_campaign_members"

    contact_id: Mapped[str] = mapped_column(
        ForeignKey("crm_contacts.id", ondelete="CASCADE"), primary_key=True
    )
    campaign_id: Mapped[str] = mapped_column(
        ForeignKey("crm_campaigns.id", ondelete="CASCADE"), primary_key=True
    )
    date_added: Mapped[datetime] = mapped_column(default=utcnow)


class WorkflowMember(Base):
    """A contact's enrolment in a workflow."""

    __tablename__ = "crm_workflow_members"

    contact_id: Mapped[str] = mapped_column(
        ForeignKey("crm_contacts.id", ondelete="CASCADE"), primary_key=True
    )
    workflow_id: Mapped[str] = mapped_column(
        ForeignKey("crm_workflows.id", ondelete="CASCADE"), primary_key=True
    )
    event_start_time: Mapped[datetime | None]
    date_added: Mapped[datetime] = mapped_column(default=utcnow)
