"""A client generated from Pinterest's OpenAPI (spec 5.14.0) works against the sandbox unchanged.

`pinterest-generated-client` deserialises every response into typed models and raises on a
`null` or an enum value its models do not allow, so each call below is also a shape check.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import date

import pytest
from openapi_generated.pinterest_client.api.ad_accounts_api import AdAccountsApi
from openapi_generated.pinterest_client.api.ad_groups_api import AdGroupsApi
from openapi_generated.pinterest_client.api.ads_api import AdsApi
from openapi_generated.pinterest_client.api.campaigns_api import CampaignsApi
from openapi_generated.pinterest_client.api.lead_ads_api import LeadAdsApi
from openapi_generated.pinterest_client.api.lead_forms_api import LeadFormsApi
from openapi_generated.pinterest_client.api.leads_export_api import LeadsExportApi
from openapi_generated.pinterest_client.api.resources_api import ResourcesApi
from openapi_generated.pinterest_client.api_client import ApiClient
from openapi_generated.pinterest_client.configuration import Configuration
from openapi_generated.pinterest_client.exceptions import ApiException
from openapi_generated.pinterest_client.model.ad_account_create_subscription_request import (
    AdAccountCreateSubscriptionRequest,
)
from openapi_generated.pinterest_client.model.lead_form_create_request import (
    LeadFormCreateRequest,
)
from openapi_generated.pinterest_client.model.lead_form_question import LeadFormQuestion
from openapi_generated.pinterest_client.model.lead_form_question_field_type import (
    LeadFormQuestionFieldType,
)
from openapi_generated.pinterest_client.model.lead_form_question_type import (
    LeadFormQuestionType,
)
from openapi_generated.pinterest_client.model.lead_form_test_request import LeadFormTestRequest
from openapi_generated.pinterest_client.model.lead_form_update_request import (
    LeadFormUpdateRequest,
)
from openapi_generated.pinterest_client.model.leads_export_create_request import (
    LeadsExportCreateRequest,
)

from tests.sandbox.conftest import EXPORT_DELAY_S, Tenant
from tests.sandbox.test_lead_forms import CONTACT_ANSWERS


@pytest.fixture
def client(tenant: Tenant) -> Iterator[ApiClient]:
    """The generated client, pointed at the sandbox's /v5 with the tenant's token."""
    config = Configuration(host=f"{tenant.url}/v5", access_token=tenant.token)
    with ApiClient(config) as api_client:
        yield api_client


def test_lead_ads_operations_deserialize(tenant: Tenant, client: ApiClient) -> None:
    account = tenant.ad_account_id
    forms = LeadFormsApi(client)
    listed = forms.lead_forms_list(account, page_size=1, order="ASCENDING")
    assert listed["bookmark"]
    form = forms.lead_form_get(account, tenant.project_form)
    assert form.id == tenant.project_form
    assert str(form.questions[-1].custom_question_field_type) == "CHECKBOX"

    leads = LeadAdsApi(client)
    created = leads.ad_accounts_subscriptions_post(
        account,
        AdAccountCreateSubscriptionRequest(
            webhook_url="https://example.com/hook", lead_form_id=tenant.contact_form
        ),
    )
    assert created.cryptographic_algorithm == "AES-256-GCM"
    got = leads.ad_accounts_subscriptions_get_by_id(account, created.id)
    assert got.cryptographic_key == created.cryptographic_key
    assert got.lead_form_id == tenant.contact_form
    listing = leads.ad_accounts_subscriptions_get_list(account, page_size=10)
    assert [s["id"] for s in listing["items"]] == [created.id]

    test = forms.lead_form_test_create(
        account, tenant.contact_form, LeadFormTestRequest(answers=CONTACT_ANSWERS)
    )
    assert test.subscription_id == created.id

    exports = LeadsExportApi(client)
    export = exports.leads_export_create(
        account,
        LeadsExportCreateRequest(
            ad_id=tenant.hierarchy.ads[0].ad_id, start_date="2024-01-01", end_date="2099-01-01"
        ),
    )
    assert str(exports.leads_export_get(account, export.leads_export_id).export_status) == (
        "IN_PROGRESS"
    )
    time.sleep(EXPORT_DELAY_S + 0.05)
    final = exports.leads_export_get(account, export.leads_export_id)
    assert str(final.export_status) in ("FINISHED", "FAILED")

    assert leads.ad_accounts_subscriptions_del_by_id(account, created.id) is None
    with pytest.raises(ApiException) as missing:
        leads.ad_accounts_subscriptions_get_by_id(account, created.id)
    assert missing.value.status == 404
    ResourcesApi(client).lead_form_questions_get()


def test_bulk_form_operations_deserialize(tenant: Tenant, client: ApiClient) -> None:
    forms = LeadFormsApi(client)
    question = LeadFormQuestion(
        question_type=LeadFormQuestionType("CUSTOM"),
        custom_question_field_type=LeadFormQuestionFieldType("CHECKBOX"),
        custom_question_label="Rooms?",
        custom_question_options=["Kitchen", "Bath"],
    )
    good = LeadFormCreateRequest(
        name="From the SDK",
        privacy_policy_link="https://example.com/privacy",
        has_accepted_terms=True,
        completion_message="Thanks",
        questions=[LeadFormQuestion(question_type=LeadFormQuestionType("EMAIL")), question],
    )
    refused = LeadFormCreateRequest(
        name="No terms",
        privacy_policy_link="https://example.com/privacy",
        has_accepted_terms=False,
        completion_message="Thanks",
        questions=[],
    )
    created = forms.lead_forms_create(tenant.ad_account_id, [good, refused])
    first, second = created["items"]
    assert first["exceptions"] == []
    assert first["data"].name == "From the SDK"
    assert second["exceptions"][0].code == 400
    updated = forms.lead_forms_update(
        tenant.ad_account_id, [LeadFormUpdateRequest(id=first["data"].id, name="Renamed")]
    )
    assert updated["items"][0]["data"].name == "Renamed"


def test_ad_context_operations_deserialize(tenant: Tenant, client: ApiClient) -> None:
    account = tenant.ad_account_id
    h = tenant.hierarchy
    accounts = AdAccountsApi(client)
    assert accounts.ad_accounts_get(account).owner.id == tenant.user_id
    assert [a["id"] for a in accounts.ad_accounts_list()["items"]] == [account]
    campaigns = CampaignsApi(client)
    campaign = campaigns.campaigns_get(account, h.campaign_id)
    assert str(campaign.summary_status) == "RUNNING"
    assert len(campaigns.campaigns_list(account, campaign_ids=[h.campaign_id])["items"]) == 1
    rows = campaigns.campaigns_analytics(
        account, date(2024, 5, 1), date(2024, 5, 2), [h.campaign_id], ["TOTAL_LEAD"], "DAY"
    )
    assert [str(r["DATE"]) for r in rows.value] == ["2024-05-01", "2024-05-02"]
    groups = AdGroupsApi(client)
    assert groups.ad_groups_get(account, h.ad_group_id).campaign_id == h.campaign_id
    assert len(groups.ad_groups_list(account)["items"]) == 1
    ads = AdsApi(client)
    ad = ads.ads_get(account, h.ads[0].ad_id)
    assert ad.lead_form_id == tenant.contact_form
    assert len(ads.ads_list(account, ad_group_ids=[h.ad_group_id])["items"]) == 2
    ad_rows = ads.ads_analytics(
        account, date(2024, 5, 1), date(2024, 5, 1), ["SPEND_IN_DOLLAR"], "TOTAL", ad_ids=[ad.id]
    )
    assert ad_rows.value[0]["AD_ID"] == ad.id


def test_errors_reach_the_client_as_pinterest_errors(tenant: Tenant, client: ApiClient) -> None:
    with pytest.raises(ApiException) as caught:
        LeadFormsApi(client).lead_form_get(tenant.ad_account_id, "123456789012345")
    assert caught.value.status == 404
    body = caught.value.body
    text = body.decode() if isinstance(body, bytes) else body
    assert json.loads(text) == {"code": 4842, "message": "Lead form is not found."}
