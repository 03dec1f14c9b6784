"""Lead forms, test leads, webhook subscriptions and leads exports (the lead-ads operations)."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Sequence
from datetime import date

from leadwire.connectors.pinterest.exports import read_export
from leadwire.connectors.pinterest.leads import Lead
from leadwire.connectors.pinterest.pagination import DEFAULT_PAGE_SIZE, check_page_size, iter_items
from leadwire.connectors.pinterest.session import MAX_EXPORT_BYTES, PinterestSession, path_id
from leadwire.connectors.pinterest.wire.lead_ads import (
    LeadForm,
    LeadFormCreate,
    LeadFormResults,
    LeadFormTestRequest,
    LeadFormTestResult,
    LeadFormUpdate,
    LeadsExport,
    LeadsExportCreate,
    LeadsExportCreated,
    LeadsExportStatus,
    LeadSubscription,
    LeadSubscriptionCreate,
    ListOrder,
    PartnerMetadata,
)
from leadwire.connectors.pinterest.wire.pages import Page
from leadwire.errors import BadRequestError, DecodeError

logger = logging.getLogger(__name__)

MAX_FORMS_PER_CALL = 30


def _account(ad_account_id: str, op: str) -> str:
    return f"ad_accounts/{path_id('ad_account_id', ad_account_id, op)}"


class LeadFormsApi:
    """`lead_forms/*`, `lead_form/get`, `lead_form_test/create`, `lead_form_questions/get`."""

    def __init__(self, session: PinterestSession) -> None:
        self._session = session

    def fetch_page(
        self,
        ad_account_id: str,
        bookmark: str | None = None,
        *,
        page_size: int = DEFAULT_PAGE_SIZE,
        order: ListOrder | None = None,
    ) -> Page[LeadForm]:
        """Fetch one page of an ad account's lead forms."""
        op = "lead_forms/list"
        params = {
            "bookmark": bookmark,
            "page_size": check_page_size(page_size),
            "order": order.value if order else None,
        }
        path = f"{_account(ad_account_id, op)}/lead_forms"
        return self._session.fetch(path, Page[LeadForm], op, params=params)

    def list_all(
        self, ad_account_id: str, *, page_size: int = DEFAULT_PAGE_SIZE
    ) -> Iterator[LeadForm]:
        """Yield every lead form of an ad account."""
        return iter_items(
            lambda bm: self.fetch_page(ad_account_id, bm, page_size=page_size), "lead_forms/list"
        )

    def fetch(self, ad_account_id: str, lead_form_id: str) -> LeadForm:
        """Fetch one lead form with its questions in creation order."""
        op = "lead_form/get"
        path = (
            f"{_account(ad_account_id, op)}/lead_forms/{path_id('lead_form_id', lead_form_id, op)}"
        )
        return self._session.fetch(path, LeadForm, op)

    def create(self, ad_account_id: str, forms: Sequence[LeadFormCreate]) -> LeadFormResults:
        """Create 1-30 lead forms; per-form failures come back in each item's `exceptions`."""
        return self._bulk("POST", "lead_forms/create", ad_account_id, forms)

    def update(self, ad_account_id: str, forms: Sequence[LeadFormUpdate]) -> LeadFormResults:
        """Update 1-30 lead forms; per-form failures come back in each item's `exceptions`."""
        return self._bulk("PATCH", "lead_forms/update", ad_account_id, forms)

    def _bulk(
        self,
        method: str,
        op: str,
        ad_account_id: str,
        forms: Sequence[LeadFormCreate] | Sequence[LeadFormUpdate],
    ) -> LeadFormResults:
        if not 1 <= len(forms) <= MAX_FORMS_PER_CALL:
            raise BadRequestError(f"{op}: send 1-{MAX_FORMS_PER_CALL} forms, not {len(forms)}")
        path = f"{_account(ad_account_id, op)}/lead_forms"
        response = self._session.call(method, path, op, body=forms)
        return self._session.decode(response, LeadFormResults, op)

    def create_test_lead(
        self, ad_account_id: str, lead_form_id: str, answers: Sequence[str]
    ) -> LeadFormTestResult:
        """Create a test lead with `answers` in question order; Pinterest delivers it."""
        op = "lead_form_test/create"
        path = (
            f"{_account(ad_account_id, op)}/lead_forms/"
            f"{path_id('lead_form_id', lead_form_id, op)}/test"
        )
        body = LeadFormTestRequest(answers=list(answers))
        response = self._session.call("POST", path, op, body=body)
        return self._session.decode(response, LeadFormTestResult, op)

    def fetch_question_types(self) -> list[str]:
        """Fetch the question type names Pinterest knows (the spec gives no response schema).

        Accepted shapes: a list of names, `{"items": [...]}`, or objects naming the type under
        `question_type`, `type`, `name` or `value`; the names come back in the order given.
        """
        op = "lead_form_questions/get"
        response = self._session.call("GET", "resources/lead_form_questions", op)
        try:
            body = json.loads(response.content)
        except (ValueError, UnicodeDecodeError, RecursionError):
            raise DecodeError(f"{op}: response is not JSON") from None
        return _question_names(body, op)


def _question_names(body: object, op: str) -> list[str]:
    if isinstance(body, dict):
        body = body.get("items", body.get("questions"))
    if not isinstance(body, list):
        raise DecodeError(f"{op}: expected a list of question types")
    names: list[str] = []
    for item in body:
        if isinstance(item, dict):
            item = next(
                (item[k] for k in ("question_type", "type", "name", "value") if k in item), None
            )
        if not isinstance(item, str):
            raise DecodeError(f"{op}: a question type is not a string")
        names.append(item)
    return names


class SubscriptionsApi:
    """`ad_accounts_subscriptions/*`: where Pinterest POSTs encrypted leads."""

    def __init__(self, session: PinterestSession) -> None:
        self._session = session

    def fetch_page(
        self, ad_account_id: str, bookmark: str | None = None, *, page_size: int = DEFAULT_PAGE_SIZE
    ) -> Page[LeadSubscription]:
        """Fetch one page of an ad account's lead webhook subscriptions."""
        op = "ad_accounts_subscriptions/get_list"
        params = {"bookmark": bookmark, "page_size": check_page_size(page_size)}
        path = f"{_account(ad_account_id, op)}/leads/subscriptions"
        return self._session.fetch(path, Page[LeadSubscription], op, params=params)

    def list_all(
        self, ad_account_id: str, *, page_size: int = DEFAULT_PAGE_SIZE
    ) -> Iterator[LeadSubscription]:
        """Yield every subscription of an ad account."""
        return iter_items(
            lambda bm: self.fetch_page(ad_account_id, bm, page_size=page_size),
            "ad_accounts_subscriptions/get_list",
        )

    def create(
        self,
        ad_account_id: str,
        webhook_url: str,
        *,
        lead_form_id: str | None = None,
        subscriber_key: str | None = None,
    ) -> LeadSubscription:
        """Subscribe `webhook_url` to one form's leads, or the whole account's without a form.

        The answer carries `cryptographic_key`: keep it, it is the only way to read deliveries.
        """
        op = "ad_accounts_subscriptions/post"
        body = LeadSubscriptionCreate(
            webhook_url=webhook_url,
            lead_form_id=None
            if lead_form_id is None
            else path_id("lead_form_id", lead_form_id, op),
            partner_metadata=None
            if subscriber_key is None
            else PartnerMetadata(subscriber_key=subscriber_key),
        )
        path = f"{_account(ad_account_id, op)}/leads/subscriptions"
        response = self._session.call("POST", path, op, body=body)
        subscription = self._session.decode(response, LeadSubscription, op)
        logger.info(
            "pinterest.subscription.created subscription_id=%s lead_form_id=%s has_key=%s",
            subscription.id,
            subscription.lead_form_id,
            subscription.cryptographic_key is not None,
        )
        return subscription

    def _path(self, ad_account_id: str, subscription_id: str, op: str) -> str:
        sub = path_id("subscription_id", subscription_id, op)
        return f"{_account(ad_account_id, op)}/leads/subscriptions/{sub}"

    def fetch(self, ad_account_id: str, subscription_id: str) -> LeadSubscription:
        """Fetch one subscription."""
        op = "ad_accounts_subscriptions/get_by_id"
        return self._session.fetch(
            self._path(ad_account_id, subscription_id, op), LeadSubscription, op
        )

    def delete(self, ad_account_id: str, subscription_id: str) -> None:
        """Delete a subscription (Pinterest answers 204)."""
        op = "ad_accounts_subscriptions/del_by_id"
        self._session.call("DELETE", self._path(ad_account_id, subscription_id, op), op)


class LeadsExportsApi:
    """`leads_export/*`: ask for one ad's leads over a date range, then download the file."""

    def __init__(self, session: PinterestSession) -> None:
        self._session = session

    def create(self, ad_account_id: str, ad_id: str, start_date: date, end_date: date) -> str:
        """Start an export of the leads `ad_id` collected on and between two UTC dates."""
        op = "leads_export/create"
        if end_date < start_date:
            raise BadRequestError(f"{op}: end_date {end_date} is before start_date {start_date}")
        body = LeadsExportCreate(
            ad_id=path_id("ad_id", ad_id, op), start_date=start_date, end_date=end_date
        )
        response = self._session.call(
            "POST", f"{_account(ad_account_id, op)}/leads_export", op, body=body
        )
        return self._session.decode(response, LeadsExportCreated, op).leads_export_id

    def fetch(self, ad_account_id: str, leads_export_id: str) -> LeadsExport:
        """Fetch an export's status (and its `download_url` once FINISHED)."""
        op = "leads_export/get"
        export = path_id("leads_export_id", leads_export_id, op)
        return self._session.fetch(
            f"{_account(ad_account_id, op)}/leads_export/{export}", LeadsExport, op
        )

    def download(self, export: LeadsExport, *, max_bytes: int = MAX_EXPORT_BYTES) -> bytes:
        """Download a FINISHED export's file (format: `exports.py`)."""
        op = "leads_export/download"
        if export.export_status is not LeadsExportStatus.FINISHED or not export.download_url:
            raise BadRequestError(f"{op}: the export is {export.export_status.value}, not FINISHED")
        return self._session.download(export.download_url, op, max_bytes=max_bytes)

    def fetch_leads(self, export: LeadsExport, *, max_bytes: int = MAX_EXPORT_BYTES) -> list[Lead]:
        """Download a FINISHED export and read it into leads."""
        return read_export(self.download(export, max_bytes=max_bytes))
