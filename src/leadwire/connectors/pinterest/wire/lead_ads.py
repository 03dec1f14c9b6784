"""Lead forms, webhook subscriptions, test leads and leads exports (spec 5.23.0).

Response models accept what the spec marks nullable or optional as `None`, because Pinterest omits
fields freely; request models send only what the caller set (`model_dump(exclude_none=True)`).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from leadwire.connectors.pinterest.leads import FieldType, QuestionType

_DIGITS = r"^[0-9]+$"  # ASCII only: `\d` would admit digits of other scripts


class _Wire(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class LeadFormStatus(StrEnum):
    """`LeadFormStatus`."""

    DRAFT = "DRAFT"
    ACTIVE = "ACTIVE"


class LeadsExportStatus(StrEnum):
    """`LeadsExportStatus`."""

    IN_PROGRESS = "IN_PROGRESS"
    FINISHED = "FINISHED"
    FAILED = "FAILED"


class ListOrder(StrEnum):
    """`order` of list operations: by id, higher ids being newer."""

    ASCENDING = "ASCENDING"
    DESCENDING = "DESCENDING"


class LeadFormQuestion(_Wire):
    """`LeadFormQuestion`: a standard question type, or CUSTOM with field type, label, options."""

    question_type: QuestionType
    custom_question_field_type: FieldType | None = None
    custom_question_label: str | None = None
    custom_question_options: list[str] | None = Field(default=None, max_length=5)


class PolicyLink(_Wire):
    """One of the form's additional policy links."""

    label: str
    link: str


class LeadForm(_Wire):
    """`LeadFormResponse`; `created_time`/`updated_time` are Unix seconds."""

    id: str = Field(pattern=_DIGITS)
    ad_account_id: str | None = Field(default=None, pattern=_DIGITS)
    name: str | None = None
    status: LeadFormStatus | None = None
    privacy_policy_link: str | None = None
    has_accepted_terms: bool | None = None
    completion_message: str | None = None
    disclosure_language: str | None = None
    questions: list[LeadFormQuestion] = Field(default_factory=list)
    policy_links: list[PolicyLink] = Field(default_factory=list)
    created_time: int | None = None
    updated_time: int | None = None

    @property
    def created_at(self) -> datetime | None:
        """Return `created_time` as an aware UTC datetime."""
        return None if self.created_time is None else datetime.fromtimestamp(self.created_time, UTC)


class LeadFormFields(BaseModel):
    """`LeadFormCommon`, as sent: every field optional; unset fields are not sent."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str | None = None
    privacy_policy_link: str | None = None
    has_accepted_terms: bool | None = None
    completion_message: str | None = None
    status: LeadFormStatus | None = None
    disclosure_language: str | None = None
    questions: list[LeadFormQuestion] | None = Field(default=None, max_length=10)
    policy_links: list[PolicyLink] | None = Field(default=None, max_length=3)


class LeadFormCreate(LeadFormFields):
    """`LeadFormCreateRequest`: name, questions, privacy link, terms and completion are required."""

    name: str
    questions: list[LeadFormQuestion] = Field(max_length=10)
    privacy_policy_link: str
    has_accepted_terms: bool
    completion_message: str


class LeadFormUpdate(LeadFormFields):
    """`LeadFormUpdateRequest`: the form's `id` plus the fields to change."""

    id: str = Field(pattern=_DIGITS)


class ItemException(_Wire):
    """`Exception`: why one item of a bulk call failed (the call itself answered 200)."""

    code: int | None = None
    message: str | None = None


class LeadFormResult(_Wire):
    """One item of `LeadFormArrayResponse`: the form, or the exceptions that stopped it."""

    data: LeadForm | None = None
    exceptions: list[ItemException] = Field(default_factory=list)


class LeadFormResults(_Wire):
    """`LeadFormArrayResponse`."""

    items: list[LeadFormResult] = Field(default_factory=list)


class LeadFormTestRequest(BaseModel):
    """`LeadFormTestRequest`: one answer per question, in the form's question order."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    answers: list[str]


class LeadFormTestResult(_Wire):
    """`LeadFormTestResponse`: the subscription the test lead went to."""

    subscription_id: str | None = Field(default=None, pattern=_DIGITS)


class LeadSubscription(_Wire):
    """`LeadSubscription`; `created_time` is Unix milliseconds; the key is base64 (32 bytes)."""

    id: str = Field(pattern=_DIGITS)
    ad_account_id: str | None = Field(default=None, pattern=_DIGITS)
    lead_form_id: str | None = Field(default=None, pattern=_DIGITS)
    webhook_url: str | None = None
    api_version: str | None = None
    created_time: int | None = None
    cryptographic_key: str | None = Field(default=None, repr=False)
    cryptographic_algorithm: str | None = None
    user_account_id: str | None = Field(default=None, pattern=_DIGITS)


class PartnerMetadata(BaseModel):
    """`partner_metadata` of a subscription (Pinterest recommends not using it)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    subscriber_key: str | None = None


class LeadSubscriptionCreate(BaseModel):
    """`LeadSubscriptionPostParamsCreate`; omit `lead_form_id` to subscribe the whole ad account."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    webhook_url: str
    lead_form_id: str | None = Field(default=None, pattern=_DIGITS)
    partner_access_token: str | None = Field(default=None, repr=False)
    partner_refresh_token: str | None = Field(default=None, repr=False)
    partner_metadata: PartnerMetadata | None = None


class LeadsExportCreate(BaseModel):
    """`LeadsExportCreateRequest`: one ad's leads collected on and between two UTC dates."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    ad_id: str = Field(pattern=_DIGITS)
    start_date: date
    end_date: date


class LeadsExportCreated(_Wire):
    """`LeadsExportCreateResponse`."""

    leads_export_id: str = Field(pattern=_DIGITS)


class LeadsExport(_Wire):
    """`LeadsExportResponseData`: `download_url` is set once the export is FINISHED."""

    export_status: LeadsExportStatus
    download_url: str | None = Field(default=None, repr=False)
