"""Leads exports: create one for an ad and a date range; poll it until FINISHED.

An export is IN_PROGRESS until `sandbox_export_delay_s` has passed; the first poll after that
builds the file (`exports.build_export`) and stores it, and the export is FINISHED with a
`download_url` on this sandbox — or FAILED if the file could not be built. The URL carries a
token derived from the master key, like a pre-signed URL: it needs no bearer token.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import Path, Request
from pydantic import Field

from leadwire.sandbox import exports, keys
from leadwire.sandbox.deps import ReadAccount, Runtime, WriteAccount, WriteDb
from leadwire.sandbox.errors import PinterestError, invalid
from leadwire.sandbox.gate import operation
from leadwire.sandbox.ids import DIGITS, new_id
from leadwire.sandbox.models import Ad, LeadsExport, utcnow
from leadwire.sandbox.routes import API_PREFIX, api_router
from leadwire.sandbox.runtime import SandboxRuntime
from leadwire.sandbox.wire.inputs import Body

log = logging.getLogger(__name__)

router = api_router(prefix=API_PREFIX, tags=["leads_export"])
BAD = "Invalid ad account parameter."
DOWNLOAD_PATH = "/downloads/leads_exports/{leads_export_id}"
_DATE = r"^([0-9]{4})-([0-9]{2})-([0-9]{2})$"
ExportId = Annotated[
    str,
    Path(pattern=DIGITS, description="lead_export_id from the create call"),
]


class ExportCreate(Body):
    """`LeadsExportCreateRequest`: the ad, and the UTC dates collected on and between."""

    ad_id: str = Field(pattern=DIGITS)
    start_date: str = Field(pattern=_DATE)
    end_date: str = Field(pattern=_DATE)


def _date(name: str, value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise invalid(400, f"{BAD} {name} {value!r} is not a calendar date.") from None


def download_url(base_url: str, master: bytes, export_id: str) -> str:
    """Return where a finished export can be downloaded (served by the sandbox)."""
    path = DOWNLOAD_PATH.format(leads_export_id=export_id)
    return f"{base_url}{path}?token={keys.export_token(master, export_id)}"


@router.post(
    "/ad_accounts/{ad_account_id}/leads_export",
    operation_id="leads_export/create",
    openapi_extra=operation("ads:write", "ads_write", bad_code=400, bad_message=BAD),
)
def create_export(
    account: WriteAccount, db: WriteDb, rt: Runtime, body: ExportCreate
) -> dict[str, Any]:
    """Start an export of one ad's leads from `start_date` to `end_date` (inclusive, UTC)."""
    start, end = _date("start_date", body.start_date), _date("end_date", body.end_date)
    if end < start:
        raise invalid(400, f"{BAD} end_date must not be before start_date.")
    ad = db.get(Ad, body.ad_id)
    if ad is None or ad.ad_account_id != account.id:
        raise invalid(400, f"{BAD} ad {body.ad_id} is not an ad of this ad account.")
    now = utcnow()
    export = LeadsExport(
        id=new_id(),
        ad_account_id=account.id,
        ad_id=ad.id,
        start_date=start,
        end_date=end,
        status="IN_PROGRESS",
        created_time=now,
        ready_at=now + timedelta(seconds=rt.settings.sandbox_export_delay_s),
    )
    db.add(export)
    db.commit()
    return {"leads_export_id": export.id}


def _finish(rt: SandboxRuntime, export_id: str) -> None:
    with rt.store.sessions() as session:
        export = session.get(LeadsExport, export_id, with_for_update=True)
        if export is None or export.status != "IN_PROGRESS":
            return
        try:
            export.content = exports.build_export(session, export)
        except Exception:
            session.rollback()
            log.exception("sandbox.export.failed export_id=%s", export_id)
            export = session.get(LeadsExport, export_id, with_for_update=True)
            assert export is not None
            export.status = "FAILED"
        else:
            export.status = "FINISHED"
            token = keys.export_token(rt.master_key, export.id)
            export.download_token_hash = keys.hash_secret(token)
        session.commit()


@router.get(
    "/ad_accounts/{ad_account_id}/leads_export/{leads_export_id}",
    operation_id="leads_export/get",
    openapi_extra=operation("ads:read", "ads_read", bad_code=400, bad_message=BAD),
)
def get_export(
    account: ReadAccount, rt: Runtime, request: Request, leads_export_id: ExportId
) -> dict[str, Any]:
    """Return the export's status, and its download URL once FINISHED."""
    with rt.store.read_sessions() as session:
        export = session.get(LeadsExport, leads_export_id)
        if export is None or export.ad_account_id != account.id:
            raise PinterestError(404, 404, "Invalid leads export id parameter.")
        due = export.status == "IN_PROGRESS" and export.ready_at <= utcnow()
    if due:
        _finish(rt, leads_export_id)
        with rt.store.read_sessions() as session:
            export = session.get(LeadsExport, leads_export_id)
            assert export is not None
    url = None
    if export.status == "FINISHED":
        url = download_url(rt.base_url(str(request.base_url)), rt.master_key, export.id)
    return {"export_status": export.status, "download_url": url}
