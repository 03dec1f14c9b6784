"""The leads export file: its format, and the bytes of one export.

Helper H8 owns this module: it defines the file format (documented here) and replaces the stub
below. The API side (`routes/leads_export.py`) calls `build_export` once, when an export leaves
IN_PROGRESS, stores the bytes on the export row (`LeadsExport.content`) and serves them at the
export's `download_url`.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from leadwire.sandbox.models import LeadsExport


def build_export(session: Session, export: LeadsExport) -> bytes:
    """Return the file of `export`: the leads of its ad collected from start to end date (UTC)."""
    raise NotImplementedError(
        "the leads export file format is not written yet (helper H8 replaces this stub)"
    )
