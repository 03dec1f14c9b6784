"""Declarative base of the CRM store."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, MetaData, String
from sqlalchemy.orm import DeclarativeBase

from leadwire.store.types import NAMING, UTCDateTime, utcnow

__all__ = ["Base", "UTCDateTime", "utcnow"]


class Base(DeclarativeBase):
    """Base of every CRM table; names start with `crm_` so the CRM can share a database."""

    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
        list[str]: JSON(),
        list[dict[str, Any]]: JSON(),
        str: String(),
    }
