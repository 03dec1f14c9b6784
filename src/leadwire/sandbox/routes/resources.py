"""Resources: the lead form question type names.

The spec gives this operation no response schema (and the official SDK reads no body), so the
shape is ours: a JSON array of the `LeadFormQuestionType` names, in the spec's order.
"""

from __future__ import annotations

from leadwire.connectors.pinterest.leads import QuestionType
from leadwire.sandbox.gate import operation
from leadwire.sandbox.routes import API_PREFIX, api_router

router = api_router(prefix=API_PREFIX, tags=["resources"])


@router.get(
    "/resources/lead_form_questions",
    operation_id="lead_form_questions/get",
    openapi_extra=operation("ads:read", "ads_read"),
)
def lead_form_questions() -> list[str]:
    """Return every lead form question type name."""
    return [t.value for t in QuestionType]
