"""The file behind a finished leads export's `download_url` (not part of Pinterest's API).

Like an S3 pre-signed URL, the link carries its own credential — `?token=`, derived from the
master key (`keys.export_token`) — and takes no `Authorization` header. The token sits in the
query, where `leadwire.logs.redact_url` masks it; it does not expire (Pinterest does not say how
long its URLs live: an ASSUMPTION). A wrong or missing token is a 403 whether or not the export
exists, so the route tells strangers nothing; a right token for an export that is gone or not
finished is a 404.
"""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Response

from leadwire.sandbox import keys
from leadwire.sandbox.deps import ReadDb, Runtime
from leadwire.sandbox.errors import PinterestError, forbidden
from leadwire.sandbox.ids import is_id
from leadwire.sandbox.models import LeadsExport
from leadwire.sandbox.routes.leads_export import DOWNLOAD_PATH

router = APIRouter(tags=["sandbox"])
MEDIA_TYPE = "text/csv; charset=utf-8"


@router.get(DOWNLOAD_PATH, operation_id="sandbox/leads_export_download")
def download_export(
    leads_export_id: str, rt: Runtime, db: ReadDb, token: str | None = None
) -> Response:
    """Return a finished export's file (CSV) to whoever holds its download token."""
    if not is_id(leads_export_id):
        raise PinterestError(404, 404, "Invalid leads export id parameter.")
    expected = keys.export_token(rt.master_key, leads_export_id)
    if token is None or not hmac.compare_digest(token.encode(), expected.encode()):
        raise forbidden()
    export = db.get(LeadsExport, leads_export_id)
    if export is None or export.status != "FINISHED" or export.content is None:
        raise PinterestError(404, 404, "Invalid leads export id parameter.")
    return Response(
        export.content,
        media_type=MEDIA_TYPE,
        headers={
            "Content-Disposition": f'attachment; filename="leads_export_{export.id}.csv"',
            "Cache-Control": "private, no-store",
        },
    )
