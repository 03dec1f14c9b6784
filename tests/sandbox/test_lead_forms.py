"""Lead forms: list, get, bulk create and update with per-item exceptions, and test leads."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select

from leadwire.sandbox.models import Delivery, SandboxLead
from tests.sandbox.conftest import Tenant

CONTACT_ANSWERS = [
    "Ada",
    "Lovelace",
    "ada@example.com",
    "+14155550100",
    "94107",
    "San Francisco",
    "CA",
    "US",
    "female",
    "36",
]
PROJECT_ANSWERS = [
    "Grace Hopper",
    "grace@example.com",
    "+14155550101",
    "1 Main St, Springfield",
    "1906-12-09",
    "Navy",
    "A new kitchen",
    "Over $5,000",
    "Kitchens, Gardens",
]


def new_form(**overrides: Any) -> dict[str, Any]:
    """Return a valid `LeadFormCreateRequest`."""
    form: dict[str, Any] = {
        "name": "Spring promo",
        "questions": [
            {"question_type": "FULL_NAME"},
            {"question_type": "EMAIL"},
            {
                "question_type": "CUSTOM",
                "custom_question_field_type": "RADIO_LIST",
                "custom_question_label": "When?",
                "custom_question_options": ["Now", "Later"],
            },
        ],
        "privacy_policy_link": "https://example.com/privacy",
        "has_accepted_terms": True,
        "completion_message": "Thanks!",
    }
    form.update(overrides)
    return form


def test_list_and_get_return_lead_form_responses(tenant: Tenant, api: httpx.Client) -> None:
    listed = api.get(f"/ad_accounts/{tenant.ad_account_id}/lead_forms")
    assert listed.status_code == 200, listed.text
    items = listed.json()["items"]
    assert [f["id"] for f in items] == [tenant.contact_form, tenant.project_form]
    got = api.get(f"/ad_accounts/{tenant.ad_account_id}/lead_forms/{tenant.project_form}")
    assert got.status_code == 200
    form = got.json()
    assert form == items[1]
    assert form["status"] == "ACTIVE"
    assert form["created_time"] < 10**11
    custom = [q for q in form["questions"] if q["question_type"] == "CUSTOM"]
    assert [q["custom_question_field_type"] for q in custom] == [
        "TEXT_FIELD",
        "TEXT_AREA",
        "RADIO_LIST",
        "CHECKBOX",
    ]
    assert custom[3]["custom_question_options"] == ["Kitchens", "Bathrooms", "Gardens", "Lighting"]
    standard = [q for f in items for q in f["questions"] if q["question_type"] != "CUSTOM"]
    assert len({q["question_type"] for q in standard}) == 13


def test_unknown_form_is_404_code_4842(tenant: Tenant, api: httpx.Client) -> None:
    answer = api.get(f"/ad_accounts/{tenant.ad_account_id}/lead_forms/123456789012345")
    assert answer.status_code == 404
    assert answer.json() == {"code": 4842, "message": "Lead form is not found."}


def test_bulk_create_saves_good_items_and_reports_bad_ones(
    tenant: Tenant, api: httpx.Client
) -> None:
    path = f"/ad_accounts/{tenant.ad_account_id}/lead_forms"
    answer = api.post(
        path,
        json=[
            new_form(),
            new_form(has_accepted_terms=False),
            new_form(
                questions=[{"question_type": "CUSTOM", "custom_question_field_type": "CHECKBOX"}]
            ),
        ],
    )
    assert answer.status_code == 200, answer.text
    first, second, third = answer.json()["items"]
    assert first["exceptions"] == []
    assert first["data"]["status"] == "DRAFT"
    assert first["data"]["questions"][2]["custom_question_options"] == ["Now", "Later"]
    assert "data" not in second
    assert "has_accepted_terms" in second["exceptions"][0]["message"]
    messages = " ".join(e["message"] for e in third["exceptions"])
    assert "custom_question_label" in messages
    assert "custom_question_options" in messages
    ids = [f["id"] for f in api.get(path).json()["items"]]
    assert first["data"]["id"] in ids
    assert len(ids) == 3


def test_bulk_create_refuses_a_schema_violation_as_a_whole(
    tenant: Tenant, api: httpx.Client
) -> None:
    path = f"/ad_accounts/{tenant.ad_account_id}/lead_forms"
    cases: list[Any] = [
        [],
        [new_form()] * 31,
        [new_form(questions=[{"question_type": "EMAIL"}] * 11)],
        [new_form(has_accepted_terms="yes")],
        [new_form(questions=[{"question_type": "NICKNAME"}])],
        [{"name": "no questions"}],
        {"not": "an array"},
        [new_form(name="nul\x00")],
    ]
    for body in cases:
        answer = api.post(path, json=body)
        assert answer.status_code == 400, body
        assert answer.json()["code"] == 400
        assert answer.json()["message"].startswith("Invalid ad account lead forms parameters.")
    assert len(api.get(path).json()["items"]) == 2


def test_bulk_update_changes_only_sent_fields(tenant: Tenant, api: httpx.Client) -> None:
    path = f"/ad_accounts/{tenant.ad_account_id}/lead_forms"
    before = api.get(f"{path}/{tenant.contact_form}").json()
    answer = api.patch(
        path,
        json=[
            {"id": tenant.contact_form, "name": "Renamed", "status": "DRAFT"},
            {"id": "123456789012345", "name": "ghost"},
            {"id": tenant.project_form, "completion_message": None},
        ],
    )
    assert answer.status_code == 200, answer.text
    renamed, ghost, refused = answer.json()["items"]
    assert renamed["data"]["name"] == "Renamed"
    assert renamed["data"]["status"] == "DRAFT"
    assert renamed["data"]["questions"] == before["questions"]
    assert renamed["data"]["updated_time"] >= before["updated_time"]
    assert ghost["exceptions"] == [{"code": 4842, "message": "Lead form is not found."}]
    assert "completion_message" in refused["exceptions"][0]["message"]
    after = api.get(f"{path}/{tenant.project_form}").json()
    assert after["completion_message"] is not None
    missing_id = api.patch(path, json=[{"name": "no id"}])
    assert missing_id.status_code == 400


def test_write_operations_need_ads_write(tenant: Tenant) -> None:
    with tenant.client(tenant.read_token) as client:
        path = f"/ad_accounts/{tenant.ad_account_id}/lead_forms"
        assert client.get(path).status_code == 200
        refused = client.post(path, json=[new_form()])
    assert refused.status_code == 401
    assert refused.json()["code"] == 3


def _test_lead(api: httpx.Client, tenant: Tenant, form: str, answers: list[str]) -> httpx.Response:
    return api.post(
        f"/ad_accounts/{tenant.ad_account_id}/lead_forms/{form}/test", json={"answers": answers}
    )


def _subscribe(api: httpx.Client, tenant: Tenant, form: str | None) -> str:
    body = {"webhook_url": "https://example.com/hook"}
    if form:
        body["lead_form_id"] = form
    answer = api.post(f"/ad_accounts/{tenant.ad_account_id}/leads/subscriptions", json=body)
    assert answer.status_code == 200, answer.text
    subscription_id: str = answer.json()["id"]
    return subscription_id


def test_test_lead_without_subscription_is_404_and_records_nothing(
    tenant: Tenant, api: httpx.Client
) -> None:
    answer = _test_lead(api, tenant, tenant.contact_form, CONTACT_ANSWERS)
    assert answer.status_code == 404
    assert answer.json()["code"] == 4842
    with tenant.server.store.read_sessions() as session:
        found = session.scalars(
            select(SandboxLead).where(SandboxLead.ad_account_id == tenant.ad_account_id)
        ).all()
    assert found == []


def test_test_lead_is_recorded_with_a_delivery_per_matching_subscription(
    tenant: Tenant, api: httpx.Client
) -> None:
    account_level = _subscribe(api, tenant, None)
    form_level = _subscribe(api, tenant, tenant.project_form)
    answer = _test_lead(api, tenant, tenant.project_form, PROJECT_ANSWERS)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"subscription_id": form_level}
    only_account = _test_lead(api, tenant, tenant.contact_form, CONTACT_ANSWERS)
    assert only_account.json() == {"subscription_id": account_level}
    with tenant.server.store.read_sessions() as session:
        lead = session.scalars(
            select(SandboxLead).where(SandboxLead.lead_form_id == tenant.project_form)
        ).one()
        deliveries = session.scalars(select(Delivery).where(Delivery.lead_id == lead.id)).all()
    assert lead.is_test
    assert lead.source == "test"
    assert lead.ad_id == tenant.hierarchy.ads[1].ad_id
    assert lead.campaign_id == tenant.hierarchy.campaign_id
    assert {d.subscription_id for d in deliveries} == {account_level, form_level}
    # The dispatcher may already have tried them: example.com is never contacted, so they fail.
    assert {d.status for d in deliveries} <= {"pending", "failed"}
    assert lead.answers[0] == {
        "question_type": "FULL_NAME",
        "custom_question_field_type": None,
        "question_label": "Full name",
        "answer": "Grace Hopper",
    }
    assert lead.answers[7]["answer"] == "Over $5,000"
    assert lead.answers[8]["answer"] == ["Kitchens", "Gardens"]
    assert lead.answers[8]["question_label"] == "Interests"


def test_test_lead_answers_must_fit_the_questions(tenant: Tenant, api: httpx.Client) -> None:
    _subscribe(api, tenant, None)
    for form, answers in (
        (tenant.contact_form, CONTACT_ANSWERS[:-1]),
        (tenant.project_form, [*PROJECT_ANSWERS[:7], "A million", PROJECT_ANSWERS[8]]),
        (tenant.project_form, [*PROJECT_ANSWERS[:8], "Kitchens, Rockets"]),
    ):
        answer = _test_lead(api, tenant, form, answers)
        assert answer.status_code == 400, answers
        assert answer.json()["code"] == 1
    wrong_type = api.post(
        f"/ad_accounts/{tenant.ad_account_id}/lead_forms/{tenant.contact_form}/test",
        json={"answers": "Ada"},
    )
    assert wrong_type.status_code == 400
    assert "answers" in wrong_type.json()["message"]
