"""Leads exports end to end: FINISHED, downloaded with its token, read back by the connector."""

from __future__ import annotations

import dataclasses
import time
from datetime import UTC, datetime, timedelta

import httpx

from leadwire.connectors.pinterest.exports import FIXED_COLUMNS, read_export
from leadwire.connectors.pinterest.leads import Lead
from leadwire.sandbox import keys
from leadwire.sandbox.answers import lead_of, pair_answers
from leadwire.sandbox.generator import LeadGenerator
from leadwire.sandbox.leads import AdContext, Source, record_lead
from leadwire.sandbox.models import LeadForm
from tests.sandbox.conftest import Tenant, new_tenant

WAIT_S = 20.0


def in_ms(lead: Lead) -> Lead:
    """Return `lead` with its time cut to milliseconds, as the file carries it."""
    moment = lead.created_time
    return dataclasses.replace(
        lead, created_time=moment.replace(microsecond=moment.microsecond // 1000 * 1000)
    )


def record_at(tenant: Tenant, ad_index: int, moments: list[datetime], seed: int) -> list[Lead]:
    """Record generated leads through one of the tenant's lead ads at `moments`."""
    ad = tenant.hierarchy.ads[ad_index]
    generator = LeadGenerator("fr_FR", seed)
    context = AdContext(ad.ad_id, tenant.hierarchy.campaign_id, tenant.hierarchy.ad_group_id)
    leads: list[Lead] = []
    with tenant.server.store.sessions() as session:
        form = session.get(LeadForm, ad.lead_form_id)
        assert form is not None
        for moment in moments:
            row = record_lead(
                session,
                ad_account_id=tenant.ad_account_id,
                lead_form_id=form.id,
                answers=pair_answers(form.questions, generator.answers(form.questions)),
                source=Source.GENERATOR,
                context=context,
                created_time=moment,
            )
            session.flush()
            leads.append(in_ms(lead_of(row)))
        session.commit()
    return leads


def finished_export(api: httpx.Client, tenant: Tenant, ad_id: str, start: str, end: str) -> str:
    """Create an export, wait until it leaves IN_PROGRESS, and return its download URL."""
    path = f"/ad_accounts/{tenant.ad_account_id}/leads_export"
    created = api.post(path, json={"ad_id": ad_id, "start_date": start, "end_date": end})
    assert created.status_code == 200, created.text
    export_id = created.json()["leads_export_id"]
    deadline = time.monotonic() + WAIT_S
    while (status := api.get(f"{path}/{export_id}").json())["export_status"] == "IN_PROGRESS":
        assert time.monotonic() < deadline, "the export never finished"
        time.sleep(0.05)
    assert status["export_status"] == "FINISHED", status
    url: str = status["download_url"]
    return url


def test_the_file_holds_exactly_the_ads_leads_in_the_utc_date_range(
    tenant: Tenant, api: httpx.Client
) -> None:
    day = datetime(2024, 3, 10, tzinfo=UTC)
    tick = timedelta(milliseconds=1)
    inside = [day, day + timedelta(days=1, hours=12), day + timedelta(days=3) - tick]
    outside = [day - tick, day + timedelta(days=3)]
    expected = record_at(tenant, 1, inside, seed=11)
    record_at(tenant, 1, outside, seed=12)
    record_at(tenant, 0, inside, seed=13)  # the other ad's leads, same days

    url = finished_export(api, tenant, tenant.hierarchy.ads[1].ad_id, "2024-03-10", "2024-03-12")
    assert url.startswith(f"{tenant.url}/downloads/leads_exports/")
    with httpx.Client() as anonymous:  # a presigned-style URL: no bearer token
        answer = anonymous.get(url)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "text/csv; charset=utf-8"
    exported = read_export(answer.content)
    assert exported == expected
    header = answer.content.split(b"\r\n", 1)[0].decode()
    assert header.split(",")[: len(FIXED_COLUMNS)] == list(FIXED_COLUMNS)
    assert "FULL_NAME::Full name" in header
    assert "CUSTOM:CHECKBOX:Interests" in header


def test_an_ad_without_leads_gives_the_header_only(tenant: Tenant, api: httpx.Client) -> None:
    url = finished_export(api, tenant, tenant.hierarchy.ads[0].ad_id, "2001-01-01", "2001-01-31")
    with httpx.Client() as anonymous:
        answer = anonymous.get(url)
    assert answer.status_code == 200
    assert read_export(answer.content) == []
    assert answer.content.count(b"\r\n") == 1


def test_a_download_needs_its_own_token(tenant: Tenant, api: httpx.Client) -> None:
    ads = tenant.hierarchy.ads
    url = finished_export(api, tenant, ads[0].ad_id, "2024-01-01", "2024-01-02")
    other_url = finished_export(api, tenant, ads[1].ad_id, "2024-01-01", "2024-01-02")
    plain = httpx.URL(url)
    token = plain.params["token"]
    master = keys.load_master_key(tenant.server.settings)
    with httpx.Client(base_url=tenant.url) as anonymous:
        path = plain.path
        refused = [
            anonymous.get(path),
            anonymous.get(path, params={"token": ""}),
            anonymous.get(path, params={"token": token[:-1] + ("A" if token[-1] != "A" else "B")}),
            anonymous.get(path, params={"token": httpx.URL(other_url).params["token"]}),
            anonymous.get("/downloads/leads_exports/123456789", params={"token": token}),
        ]
        unknown = anonymous.get(
            "/downloads/leads_exports/123456789",
            params={"token": keys.export_token(master, "123456789")},
        )
        malformed = anonymous.get("/downloads/leads_exports/12ab", params={"token": token})
        accepted = anonymous.get(path, params={"token": token})
    for answer in refused:
        assert answer.status_code == 403
        assert answer.json()["code"] == 29
    assert unknown.status_code == 404
    assert unknown.json() == {"code": 404, "message": "Invalid leads export id parameter."}
    assert malformed.status_code == 404
    assert accepted.status_code == 200


def test_another_accounts_leads_never_appear(tenant: Tenant, api: httpx.Client) -> None:
    stranger = new_tenant(tenant.server, "stranger")
    moment = datetime(2024, 5, 5, 12, tzinfo=UTC)
    mine = record_at(tenant, 0, [moment], seed=21)
    # The stranger's lead claims to come through my ad: the export is per account and ad.
    ad = tenant.hierarchy.ads[0]
    with tenant.server.store.sessions() as session:
        form = session.get(LeadForm, stranger.contact_form)
        assert form is not None
        record_lead(
            session,
            ad_account_id=stranger.ad_account_id,
            lead_form_id=form.id,
            answers=pair_answers(form.questions, LeadGenerator(seed=22).answers(form.questions)),
            source=Source.GENERATOR,
            context=AdContext(ad.ad_id),
            created_time=moment,
        )
        session.commit()
    url = finished_export(api, tenant, ad.ad_id, "2024-05-05", "2024-05-05")
    with httpx.Client() as anonymous:
        exported = read_export(anonymous.get(url).content)
    assert exported == mine
