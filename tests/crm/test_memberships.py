"""Followers, campaign and workflow membership of a contact."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import select

from leadwire.crm.ids import new_id
from leadwire.crm.models import Campaign, CampaignMember, Workflow, WorkflowMember
from tests.crm.conftest import Tenant, new_tenant
from tests.crm.subresources import MISSING_ID, add_user, make_contact


def _campaign(tenant: Tenant, name: str = "Nurture") -> str:
    with tenant.server.store.sessions() as session:
        campaign = Campaign(id=new_id(), location_id=tenant.location_id, name=name)
        session.add(campaign)
        session.commit()
        return campaign.id


def _workflow(tenant: Tenant, name: str = "Follow-up") -> str:
    with tenant.server.store.sessions() as session:
        workflow = Workflow(id=new_id(), location_id=tenant.location_id, name=name)
        session.add(workflow)
        session.commit()
        return workflow.id


def _campaigns_of(tenant: Tenant, contact_id: str) -> set[str]:
    with tenant.server.store.read_sessions() as session:
        rows = session.scalars(
            select(CampaignMember.campaign_id).where(CampaignMember.contact_id == contact_id)
        )
        return set(rows)


def _enrolments(tenant: Tenant, contact_id: str) -> dict[str, datetime | None]:
    with tenant.server.store.read_sessions() as session:
        rows = session.execute(
            select(WorkflowMember.workflow_id, WorkflowMember.event_start_time).where(
                WorkflowMember.contact_id == contact_id
            )
        )
        return {row.workflow_id: row.event_start_time for row in rows}


def _followers(api: httpx.Client, contact_id: str) -> list[str]:
    followers: list[str] = api.get(f"/contacts/{contact_id}").json()["contact"]["followers"]
    return followers


def test_add_and_remove_followers(tenant: Tenant, api: httpx.Client) -> None:
    contact_id = make_contact(tenant, api)
    ann, bob, cy = add_user(tenant, "Ann"), add_user(tenant, "Bob"), add_user(tenant, "Cy")
    added = api.post(f"/contacts/{contact_id}/followers", json={"followers": [ann, bob, ann]})
    assert added.status_code == 201
    assert added.json() == {"followers": [ann, bob], "followersAdded": [ann, bob]}
    more = api.post(f"/contacts/{contact_id}/followers/", json={"followers": [bob, cy]})
    assert more.json() == {"followers": [ann, bob, cy], "followersAdded": [cy]}
    assert _followers(api, contact_id) == [ann, bob, cy]
    removed = api.request(
        "DELETE", f"/contacts/{contact_id}/followers", json={"followers": [bob, MISSING_ID]}
    )
    assert removed.status_code == 200
    assert removed.json() == {"followers": [ann, cy], "followersRemoved": [bob]}
    assert _followers(api, contact_id) == [ann, cy]


def test_followers_must_be_users_of_the_location(tenant: Tenant, api: httpx.Client) -> None:
    contact_id = make_contact(tenant, api)
    ann = add_user(tenant, "Ann")
    outsider = add_user(new_tenant(tenant.server), "Eve")
    answer = api.post(f"/contacts/{contact_id}/followers", json={"followers": [ann, outsider]})
    assert answer.status_code == 422
    assert answer.json()["message"] == [f"followers {outsider!r} is not a user of this location"]
    assert _followers(api, contact_id) == []


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "followers should not be empty"),
        ({"followers": []}, "followers should not be empty"),
        ({"followers": "u"}, "followers must be an array"),
        ({"followers": ["u"], "extra": 1}, "property extra should not exist"),
    ],
)
@pytest.mark.parametrize("method", ["POST", "DELETE"])
def test_bad_followers_body_is_422(
    tenant: Tenant, api: httpx.Client, method: str, body: dict[str, object], message: str
) -> None:
    contact_id = make_contact(tenant, api)
    answer = api.request(method, f"/contacts/{contact_id}/followers", json=body)
    assert answer.status_code == 422
    assert message in answer.json()["message"]


def test_campaign_membership(tenant: Tenant, api: httpx.Client) -> None:
    contact_id = make_contact(tenant, api)
    first, second = _campaign(tenant, "One"), _campaign(tenant, "Two")
    joined = api.post(f"/contacts/{contact_id}/campaigns/{first}")
    assert joined.status_code == 201
    assert joined.json() == {"succeded": True}
    assert api.post(f"/contacts/{contact_id}/campaigns/{first}/", json={}).status_code == 201
    assert api.post(f"/contacts/{contact_id}/campaigns/{second}", json={}).status_code == 201
    assert _campaigns_of(tenant, contact_id) == {first, second}
    left = api.delete(f"/contacts/{contact_id}/campaigns/{first}")
    assert (left.status_code, left.json()) == (200, {"succeded": True})
    assert _campaigns_of(tenant, contact_id) == {second}
    # Leaving a campaign the contact is not in still succeeds: membership is a set.
    assert api.delete(f"/contacts/{contact_id}/campaigns/{first}").status_code == 200


def test_remove_all_is_not_taken_for_a_campaign_id(tenant: Tenant, api: httpx.Client) -> None:
    contact_id = make_contact(tenant, api)
    other_id = make_contact(tenant, api)
    campaigns = [_campaign(tenant, "One"), _campaign(tenant, "Two")]
    for campaign_id in campaigns:
        api.post(f"/contacts/{contact_id}/campaigns/{campaign_id}")
        api.post(f"/contacts/{other_id}/campaigns/{campaign_id}")
    answer = api.delete(f"/contacts/{contact_id}/campaigns/removeAll")
    assert (answer.status_code, answer.json()) == (200, {"succeded": True})
    assert _campaigns_of(tenant, contact_id) == set()
    assert _campaigns_of(tenant, other_id) == set(campaigns)
    assert api.delete(f"/contacts/{contact_id}/campaigns/removeAll/").status_code == 200


def test_unknown_foreign_and_malformed_campaigns(tenant: Tenant, api: httpx.Client) -> None:
    contact_id = make_contact(tenant, api)
    foreign = _campaign(new_tenant(tenant.server))
    for method in ("POST", "DELETE"):
        for campaign_id in (MISSING_ID, foreign):
            answer = api.request(method, f"/contacts/{contact_id}/campaigns/{campaign_id}")
            assert answer.status_code == 404, method
            assert answer.json()["message"] == f"Campaign with id {campaign_id} not found"
        malformed = api.request(method, f"/contacts/{contact_id}/campaigns/nope")
        assert malformed.status_code == 400
        assert "campaignId" in malformed.json()["message"]
    mine = _campaign(tenant)
    assert api.post(f"/contacts/{MISSING_ID}/campaigns/{mine}").status_code == 404
    assert api.post(f"/contacts/{contact_id}/campaigns/{mine}", json={"x": 1}).status_code == 422
    assert _campaigns_of(tenant, contact_id) == set()


def test_workflow_enrolment(tenant: Tenant, api: httpx.Client) -> None:
    contact_id = make_contact(tenant, api)
    workflow_id = _workflow(tenant)
    base = f"/contacts/{contact_id}/workflow/{workflow_id}"
    enrolled = api.post(base, json={"eventStartTime": "2021-06-23T03:30:00+01:00"})
    assert (enrolled.status_code, enrolled.json()) == (200, {"succeded": True})
    start = datetime(2021, 6, 23, 2, 30, tzinfo=UTC)
    assert _enrolments(tenant, contact_id) == {workflow_id: start}
    # Enrolling again without a start time keeps the one given.
    assert api.post(base).status_code == 200
    assert _enrolments(tenant, contact_id) == {workflow_id: start}
    bad = api.post(base, json={"eventStartTime": "not a time"})
    assert bad.status_code == 422
    assert bad.json()["message"] == ["eventStartTime must be a valid ISO 8601 date string"]
    removed = api.request("DELETE", base, json={"eventStartTime": "2021-06-23T03:30:00Z"})
    assert (removed.status_code, removed.json()) == (200, {"succeded": True})
    assert _enrolments(tenant, contact_id) == {}
    assert api.delete(base + "/").status_code == 200


def test_unknown_foreign_and_malformed_workflows(tenant: Tenant, api: httpx.Client) -> None:
    contact_id = make_contact(tenant, api)
    foreign = _workflow(new_tenant(tenant.server))
    for method in ("POST", "DELETE"):
        for workflow_id in (MISSING_ID, foreign):
            answer = api.request(method, f"/contacts/{contact_id}/workflow/{workflow_id}")
            assert answer.status_code == 404
            assert answer.json()["message"] == f"Workflow with id {workflow_id} not found"
        assert api.request(method, f"/contacts/{contact_id}/workflow/x").status_code == 400
    assert _enrolments(tenant, contact_id) == {}


def test_read_only_key_cannot_change_memberships(tenant: Tenant, api: httpx.Client) -> None:
    contact_id = make_contact(tenant, api)
    user_id, campaign_id, workflow_id = add_user(tenant), _campaign(tenant), _workflow(tenant)
    base = f"/contacts/{contact_id}"
    with tenant.client(tenant.read_key) as reader:
        answers = [
            reader.post(f"{base}/followers", json={"followers": [user_id]}),
            reader.request("DELETE", f"{base}/followers", json={"followers": [user_id]}),
            reader.post(f"{base}/campaigns/{campaign_id}"),
            reader.delete(f"{base}/campaigns/{campaign_id}"),
            reader.delete(f"{base}/campaigns/removeAll"),
            reader.post(f"{base}/workflow/{workflow_id}"),
            reader.delete(f"{base}/workflow/{workflow_id}"),
        ]
    assert {a.status_code for a in answers} == {401}
    assert _followers(api, contact_id) == []
    assert _campaigns_of(tenant, contact_id) == set()
    assert _enrolments(tenant, contact_id) == {}
