"""Lead forms, webhook subscriptions, leads, their deliveries, and leads exports."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from leadwire.sandbox.models.base import Base, utcnow


class LeadForm(Base):
    """A lead form; `questions` holds `LeadFormQuestion` objects in creation order."""

    __tablename__ = "sandbox_lead_forms"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    ad_account_id: Mapped[str] = mapped_column(ForeignKey("sandbox_ad_accounts.id"), index=True)
    # Text, not String(n): the spec sets no length limits, so neither may PostgreSQL.
    name: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="DRAFT")
    privacy_policy_link: Mapped[str | None] = mapped_column(Text)
    has_accepted_terms: Mapped[bool] = mapped_column(default=False)
    completion_message: Mapped[str | None] = mapped_column(Text)
    disclosure_language: Mapped[str | None] = mapped_column(Text)
    questions: Mapped[list[dict[str, Any]]] = mapped_column(default=list)
    policy_links: Mapped[list[dict[str, Any]]] = mapped_column(default=list)
    created_time: Mapped[datetime] = mapped_column(default=utcnow)
    updated_time: Mapped[datetime] = mapped_column(default=utcnow)


class Subscription(Base):
    """A lead webhook subscription; its AES key is stored encrypted under the sandbox's key.

    One subscription per (ad account, lead form), and one account-level subscription per
    account: `lead_form_key` is the form id or `*`, so the pair is unique on every backend
    (PostgreSQL would let two NULL form ids through a plain unique constraint).
    """

    __tablename__ = "sandbox_subscriptions"
    __table_args__ = (
        UniqueConstraint("ad_account_id", "lead_form_key", name="uq_sandbox_subscriptions_target"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    ad_account_id: Mapped[str] = mapped_column(ForeignKey("sandbox_ad_accounts.id"), index=True)
    lead_form_id: Mapped[str | None] = mapped_column(String(32))
    lead_form_key: Mapped[str] = mapped_column(String(32))
    webhook_url: Mapped[str] = mapped_column(Text)
    api_version: Mapped[str] = mapped_column(String(8), default="v5")
    user_account_id: Mapped[str] = mapped_column(String(32))
    key_ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    partner_metadata: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_time: Mapped[datetime] = mapped_column(default=utcnow)


class SandboxLead(Base):
    """A submitted lead: from the test endpoint, the submit endpoint or the generator."""

    __tablename__ = "sandbox_leads"
    __table_args__ = (Index("ix_sandbox_leads_ad_created", "ad_id", "created_time"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    ad_account_id: Mapped[str] = mapped_column(ForeignKey("sandbox_ad_accounts.id"), index=True)
    lead_form_id: Mapped[str] = mapped_column(ForeignKey("sandbox_lead_forms.id"), index=True)
    ad_id: Mapped[str | None] = mapped_column(String(32))
    campaign_id: Mapped[str | None] = mapped_column(String(32))
    ad_group_id: Mapped[str | None] = mapped_column(String(32))
    is_test: Mapped[bool] = mapped_column(default=False)
    source: Mapped[str] = mapped_column(String(16))
    # [{question_type, custom_question_field_type, question_label, answer}] in question order.
    answers: Mapped[list[dict[str, Any]]] = mapped_column(default=list)
    created_time: Mapped[datetime] = mapped_column(default=utcnow)


class Delivery(Base):
    """One lead to POST to one subscription, retried on 429 and 5xx only."""

    __tablename__ = "sandbox_deliveries"
    __table_args__ = (Index("ix_sandbox_deliveries_due", "status", "next_attempt_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    subscription_id: Mapped[str] = mapped_column(
        ForeignKey("sandbox_subscriptions.id", ondelete="CASCADE"), index=True
    )
    lead_id: Mapped[str] = mapped_column(ForeignKey("sandbox_leads.id"), index=True)
    # pending -> delivered | failed
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_status_code: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    date_added: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None]


class LeadsExport(Base):
    """An asynchronous export of one ad's leads over a date range."""

    __tablename__ = "sandbox_leads_exports"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    ad_account_id: Mapped[str] = mapped_column(ForeignKey("sandbox_ad_accounts.id"), index=True)
    ad_id: Mapped[str] = mapped_column(String(32))
    start_date: Mapped[date]
    end_date: Mapped[date]
    # IN_PROGRESS -> FINISHED | FAILED
    status: Mapped[str] = mapped_column(String(16), default="IN_PROGRESS")
    download_token_hash: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    content: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_time: Mapped[datetime] = mapped_column(default=utcnow)
    ready_at: Mapped[datetime]
