"""Declarative base of the sandbox store: its own metadata and `sandbox_` tables."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, MetaData, String
from sqlalchemy.orm import DeclarativeBase

from leadwire.store.types import NAMING, UTCDateTime, utcnow

__all__ = ["Base", "UTCDateTime", "utcnow"]


class Base(DeclarativeBase):
    """Base of every sandbox table."""

    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
        list[str]: JSON(),
        list[dict[str, Any]]: JSON(),
        str: String(),
    }
