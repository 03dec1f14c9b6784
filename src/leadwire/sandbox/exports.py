"""The leads export file: the leads of one ad collected on and between two UTC dates.

The format is an ASSUMPTION (Pinterest does not document the file behind `download_url`),
agreed with the connector in `helper-notes/export-format.md` and written in one place only:
`connectors/pinterest/exports.write_export` — UTF-8 CSV, fixed id columns, then one column per
question of the ad's lead form headed `TYPE` or `TYPE:FIELD_TYPE:label`. Each lead is the same
`Lead` its webhook delivery carries (`answers.lead_of`), so a lead read from the file equals the
lead decoded from its delivery. The API side (`routes/leads_export.py`) calls `build_export`
once, when the export leaves IN_PROGRESS, and stores the bytes on the export row; `routes/
downloads.py` serves them.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadwire.connectors.pinterest.exports import QuestionColumn, write_export
from leadwire.sandbox.answers import lead_of, question_column
from leadwire.sandbox.models import Ad, LeadForm, LeadsExport, SandboxLead


def window(export: LeadsExport) -> tuple[datetime, datetime]:
    """Return the export's [start, end) in UTC: from start_date 00:00 to the day after end_date."""
    start = datetime.combine(export.start_date, time(), tzinfo=UTC)
    end = datetime.combine(export.end_date + timedelta(days=1), time(), tzinfo=UTC)
    return start, end


def _columns(session: Session, ad_id: str) -> list[QuestionColumn]:
    ad = session.get(Ad, ad_id)
    form = session.get(LeadForm, ad.lead_form_id) if ad and ad.lead_form_id else None
    return [question_column(q) for q in form.questions] if form else []


def build_export(session: Session, export: LeadsExport) -> bytes:
    """Return the file of `export`: the leads of its ad collected from start to end date (UTC).

    Leads are ordered by created time, then id; an ad without leads gives the header only.
    """
    start, end = window(export)
    rows = session.scalars(
        select(SandboxLead)
        .where(
            SandboxLead.ad_account_id == export.ad_account_id,
            SandboxLead.ad_id == export.ad_id,
            SandboxLead.created_time >= start,
            SandboxLead.created_time < end,
        )
        .order_by(SandboxLead.created_time, SandboxLead.id)
    ).all()
    return write_export([lead_of(row) for row in rows], _columns(session, export.ad_id))
