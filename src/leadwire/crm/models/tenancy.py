"""Companies (agencies), locations (sub-accounts), their users, businesses and custom fields."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from leadwire.crm.models.base import Base, utcnow


class Location(Base):
    """A sub-account: the tenant every contact, key and token belongs to."""

    __tablename__ = "crm_locations"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    company_id: Mapped[str] = mapped_column(String(32), index=True)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    # HighLevel's "Allow Duplicate Contact" setting and the order fields are matched in.
    allow_duplicates: Mapped[bool] = mapped_column(default=False)
    duplicate_priority: Mapped[list[str]] = mapped_column(default=lambda: ["email", "phone"])
    date_added: Mapped[datetime] = mapped_column(default=utcnow)


class User(Base):
    """A user of a location: task assignee, note author, follower."""

    __tablename__ = "crm_users"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    location_id: Mapped[str] = mapped_column(ForeignKey("crm_locations.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))


class Business(Base):
    """A business (company record) contacts can be assigned to."""

    __tablename__ = "crm_businesses"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    location_id: Mapped[str] = mapped_column(ForeignKey("crm_locations.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    date_added: Mapped[datetime] = mapped_column(default=utcnow)


class CustomField(Base):
    """A custom contact field defined on a location; values live on the contact."""

    __tablename__ = "crm_custom_fields"
    __table_args__ = (UniqueConstraint("location_id", "key"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    location_id: Mapped[str] = mapped_column(ForeignKey("crm_locations.id"), index=True)
    # `contact.<name>` as HighLevel spells field keys.
    key: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(200))
    # TEXT, LARGE_TEXT, NUMERICAL, MONETORY, CHECKBOX, SINGLE_OPTIONS, MULTIPLE_OPTIONS, RADIO,
    # DATE, FILE_UPLOAD: the data types of the reference's CustomField schemas.
    data_type: Mapped[str] = mapped_column(String(32))
    options: Mapped[list[str]] = mapped_column(default=list)
    extra: Mapped[dict[str, Any]] = mapped_column(default=dict)
