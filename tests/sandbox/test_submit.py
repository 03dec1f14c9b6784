"""Sandbox extensions: submit a lead (delivered like any other), and the delivery log API."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from leadwire.connectors.pinterest.envelope import decode_delivery
from leadwire.connectors.pinterest.leads import QuestionType
from leadwire.sandbox.models import SandboxLead
from tests.receivers import Receiver, eventually, receiving
from tests.sandbox.conftest import Tenant, new_tenant

CONTACT = {
    "first_name": "Ada",
    "LAST_NAME": "Lovelace",
    "Email": "ada@example.com",
    "PHONE_NUMBER": "+442079460123",
    "ZIP_CODE": "SW1Y 4LE",
    "CITY": "London",
    "STATE_PROVINCE": "Greater London",
    "COUNTRY": "United Kingdom",
    "GENDER": "Female",
    "AGE": "36",
}


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    """A receiver shared by this module's tests (each uses its own URLs)."""
    with receiving() as found:
        yield found


@pytest.fixture
def sandbox(tenant: Tenant) -> Iterator[httpx.Client]:
    """A client on the sandbox's root (not /v5) with the tenant's read-write token."""
    with httpx.Client(
        base_url=tenant.url, headers={"Authorization": f"Bearer {tenant.token}"}, timeout=10
    ) as client:
        yield client


def submit_path(tenant: Tenant, form: str, account: str | None = None) -> str:
    """Return the submit URL path of a form."""
    return f"/sandbox/ad_accounts/{account or tenant.ad_account_id}/lead_forms/{form}/leads"


def subscribe(api: httpx.Client, tenant: Tenant, url: str, form: str | None = None) -> str:
    """Subscribe `url`; return the subscription's key."""
    body = {"webhook_url": url} | ({"lead_form_id": form} if form else {})
    created = api.post(f"/ad_accounts/{tenant.ad_account_id}/leads/subscriptions", json=body)
    assert created.status_code == 200, created.text
    key: str = created.json()["cryptographic_key"]
    return key


def test_a_submitted_lead_is_stored_and_delivered_as_a_real_lead(
    tenant: Tenant, api: httpx.Client, sandbox: httpx.Client, receiver: Receiver
) -> None:
    url = receiver.endpoint()
    key = subscribe(api, tenant, url)
    answer = sandbox.post(submit_path(tenant, tenant.contact_form), json={"answers": CONTACT})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert set(body) == {"lead_id", "subscription_ids"}
    assert body["lead_id"].isdigit()
    assert len(body["subscription_ids"]) == 1

    (hit,) = eventually(lambda: receiver.hits(url))
    (lead,) = decode_delivery(hit.body, key)
    assert lead.lead_id == body["lead_id"]
    assert lead.is_test is False
    assert lead.ad_id == tenant.hierarchy.ads[0].ad_id
    assert [a.question_type for a in lead.answers][:3] == [
        QuestionType.FIRST_NAME,
        QuestionType.LAST_NAME,
        QuestionType.EMAIL,
    ]
    assert [a.value for a in lead.answers] == list(CONTACT.values())
    with tenant.server.store.read_sessions() as session:
        stored = session.get(SandboxLead, body["lead_id"])
        assert stored is not None
        assert stored.source == "submit"


def test_checkbox_options_may_hold_commas_and_leads_may_be_backdated(
    tenant: Tenant, api: httpx.Client, sandbox: httpx.Client, receiver: Receiver
) -> None:
    question = {
        "question_type": "CUSTOM",
        "custom_question_field_type": "CHECKBOX",
        "custom_question_label": "Rooms",
        "custom_question_options": ["Kitchen, large", "Bath", "Garden"],
    }
    form = {
        "name": "Rooms",
        "privacy_policy_link": "https://example.com/privacy",
        "has_accepted_terms": True,
        "completion_message": "Thanks",
        "questions": [{"question_type": "EMAIL"}, question],
    }
    created = api.post(f"/ad_accounts/{tenant.ad_account_id}/lead_forms", json=[form])
    form_id = created.json()["items"][0]["data"]["id"]
    url = receiver.endpoint()
    key = subscribe(api, tenant, url, form_id)
    backdated = datetime(2024, 2, 29, 23, 59, 59, 123000, tzinfo=UTC)
    answer = sandbox.post(
        submit_path(tenant, form_id),
        json={
            "answers": ["ada@example.com", ["Kitchen, large", "Garden"]],
            "created_time": int(backdated.timestamp() * 1000),
        },
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["subscription_ids"] != []
    (hit,) = eventually(lambda: receiver.hits(url))
    (lead,) = decode_delivery(hit.body, key)
    assert lead.answers[1].values == ("Kitchen, large", "Garden")
    assert lead.created_time == backdated
    assert lead.ad_id is None  # no ad collects with this new form


def test_a_lead_without_subscriptions_is_still_recorded(
    tenant: Tenant, sandbox: httpx.Client
) -> None:
    answer = sandbox.post(submit_path(tenant, tenant.contact_form), json={"answers": CONTACT})
    assert answer.status_code == 200, answer.text
    assert answer.json()["subscription_ids"] == []
    with tenant.server.store.read_sessions() as session:
        assert session.get(SandboxLead, answer.json()["lead_id"]) is not None


def _bad(sandbox: httpx.Client, path: str, body: dict[str, Any]) -> dict[str, Any]:
    answer = sandbox.post(path, json=body)
    assert answer.status_code == 400, (body, answer.text)
    error: dict[str, Any] = answer.json()
    assert error["code"] == 1
    return error


def test_answers_that_do_not_fit_the_form_are_refused(
    tenant: Tenant, sandbox: httpx.Client
) -> None:
    contact = submit_path(tenant, tenant.contact_form)
    project = submit_path(tenant, tenant.project_form)
    in_order = list(CONTACT.values())
    assert "answer" in _bad(sandbox, contact, {"answers": in_order[:-1]})["message"]
    assert (
        "'AGE' has no answer"
        in _bad(sandbox, contact, {"answers": {k: v for k, v in CONTACT.items() if k != "AGE"}})[
            "message"
        ]
    )
    assert "HOBBY" in _bad(sandbox, contact, {"answers": {**CONTACT, "HOBBY": "x"}})["message"]
    assert "CHECKBOX" in _bad(sandbox, contact, {"answers": [["Ada"], *in_order[1:]]})["message"]
    assert "empty" in _bad(sandbox, contact, {"answers": ["  ", *in_order[1:]]})["message"]
    project_answers = ["Ada", "a@example.com", "+1", "x", "1815-12-10", "Co", "Hi", "Cheap", "x"]
    assert "Cheap" in _bad(sandbox, project, {"answers": project_answers})["message"]
    project_answers[-2:] = ["Under $1,000", ["Kitchens", "Kitchens"]]
    assert "twice" in _bad(sandbox, project, {"answers": project_answers})["message"]
    project_answers[-1] = []
    assert "at least one" in _bad(sandbox, project, {"answers": project_answers})["message"]
    other_ad = tenant.hierarchy.ads[1].ad_id
    assert other_ad in _bad(sandbox, contact, {"answers": CONTACT, "ad_id": other_ad})["message"]
    assert (
        "future"
        in _bad(sandbox, contact, {"answers": CONTACT, "created_time": 10**13 * 9})["message"]
    )
    _bad(sandbox, contact, {})
    _bad(sandbox, contact, {"answers": CONTACT, "created_time": "yesterday"})


def test_who_may_submit(tenant: Tenant, sandbox: httpx.Client) -> None:
    stranger = new_tenant(tenant.server, "stranger")
    body = {"answers": CONTACT}
    mine = submit_path(tenant, tenant.contact_form)
    foreign_form = sandbox.post(submit_path(tenant, stranger.contact_form), json=body)
    assert foreign_form.status_code == 404
    assert foreign_form.json()["code"] == 4842
    foreign_account = sandbox.post(
        submit_path(tenant, stranger.contact_form, stranger.ad_account_id), json=body
    )
    assert foreign_account.status_code == 403
    assert foreign_account.json()["code"] == 29
    with httpx.Client(base_url=tenant.url) as anonymous:
        assert anonymous.post(mine, json=body).status_code == 401
        read_only = anonymous.post(
            mine, json=body, headers={"Authorization": f"Bearer {tenant.read_token}"}
        )
    assert read_only.status_code == 401
    assert read_only.json()["code"] == 3


def test_the_delivery_log_lists_filters_and_pages(
    tenant: Tenant, api: httpx.Client, sandbox: httpx.Client, receiver: Receiver
) -> None:
    ok, gone = receiver.endpoint(), receiver.endpoint(410, 410)
    subscribe(api, tenant, ok, tenant.contact_form)
    subscribe(api, tenant, gone)
    lead_ids = []
    for _ in range(2):
        answer = sandbox.post(submit_path(tenant, tenant.contact_form), json={"answers": CONTACT})
        lead_ids.append(answer.json()["lead_id"])

    def log(**params: str) -> dict[str, Any]:
        answer = sandbox.get(
            "/sandbox/deliveries", params={"ad_account_id": tenant.ad_account_id, **params}
        )
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        return body

    def settled() -> bool:
        return all(item["status"] != "pending" for item in log()["items"])

    eventually(settled)
    everything = log()["items"]
    assert len(everything) == 4
    assert [item["lead_id"] for item in everything] == [lead_ids[1]] * 2 + [lead_ids[0]] * 2
    failed = log(status="failed")["items"]
    assert len(failed) == 2
    assert all(item["last_status_code"] == 410 for item in failed)
    assert all(item["attempts"] == 1 and item["next_attempt_time"] is None for item in failed)
    delivered = log(status="delivered")["items"]
    assert all(isinstance(item["delivered_time"], int) for item in delivered)
    assert {item["subscription_id"] for item in delivered} != {
        item["subscription_id"] for item in failed
    }
    assert [i["id"] for i in log(lead_id=lead_ids[0])["items"]] == [i["id"] for i in everything[2:]]
    first = log(page_size="3")
    rest = log(page_size="3", bookmark=first["bookmark"])
    assert [i["id"] for i in first["items"] + rest["items"]] == [i["id"] for i in everything]
    assert rest["bookmark"] is None
    for item in everything:
        assert "cryptographic_key" not in item
        assert "ada@example.com" not in str(item)

    stranger = new_tenant(tenant.server, "stranger")
    foreign = sandbox.get("/sandbox/deliveries", params={"ad_account_id": stranger.ad_account_id})
    assert foreign.status_code == 403
    wrong = sandbox.get(
        "/sandbox/deliveries", params={"ad_account_id": tenant.ad_account_id, "status": "lost"}
    )
    assert wrong.status_code == 400
    assert sandbox.get("/sandbox/deliveries").status_code == 400
