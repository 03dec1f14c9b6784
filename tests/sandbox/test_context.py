"""Ad accounts, campaigns, ad groups, ads and their analytics: shapes, filters, access."""

from __future__ import annotations

import re

import httpx

from tests.sandbox.conftest import Tenant, new_tenant

DIGITS = re.compile(r"^\d{15,18}$")
ANALYTICS = {
    "start_date": "2024-03-01",
    "end_date": "2024-03-03",
    "columns": "SPEND_IN_DOLLAR,TOTAL_CLICKTHROUGH,TOTAL_IMPRESSION,CTR,TOTAL_LEAD,CAMPAIGN_NAME",
    "granularity": "DAY",
}


def test_ad_accounts_list_and_get_show_only_the_owners_accounts(
    tenant: Tenant, api: httpx.Client
) -> None:
    listed = api.get("/ad_accounts")
    assert listed.status_code == 200, listed.text
    body = listed.json()
    assert [a["id"] for a in body["items"]] == [tenant.ad_account_id]
    assert body["bookmark"] is None
    account = api.get(f"/ad_accounts/{tenant.ad_account_id}").json()
    assert account == body["items"][0]
    assert DIGITS.match(account["id"])
    assert account["owner"]["id"] == tenant.user_id
    assert account["permissions"] == ["OWNER"]
    assert isinstance(account["created_time"], int)
    assert listed.headers["x-pinterest-rid"]


def test_a_foreign_ad_account_is_403_code_29_and_an_unknown_one_404(
    tenant: Tenant, api: httpx.Client
) -> None:
    other = new_tenant(tenant.server, "other")
    for path in ("", "/campaigns", "/lead_forms", "/leads/subscriptions"):
        foreign = api.get(f"/ad_accounts/{other.ad_account_id}{path}")
        assert foreign.status_code == 403, (path, foreign.text)
        assert foreign.json() == {
            "code": 29,
            "message": "You are not permitted to access that resource.",
        }
    unknown = api.get("/ad_accounts/123456789012345")
    assert unknown.status_code == 404
    assert unknown.json()["code"] == 404


def test_malformed_ids_are_400_naming_the_field(api: httpx.Client) -> None:
    answer = api.get("/ad_accounts/12ab")
    assert answer.status_code == 400
    assert "ad_account_id" in answer.json()["message"]
    too_long = api.get(f"/ad_accounts/{'1' * 19}")
    assert too_long.status_code == 400
    other_digits = api.get("/ad_accounts/\u0661\u0662\u0663")
    assert other_digits.status_code == 400


def test_campaign_ad_group_and_ad_form_the_demo_hierarchy(
    tenant: Tenant, api: httpx.Client
) -> None:
    h = tenant.hierarchy
    base = f"/ad_accounts/{tenant.ad_account_id}"
    campaign = api.get(f"{base}/campaigns/{h.campaign_id}").json()
    assert campaign["ad_account_id"] == tenant.ad_account_id
    assert campaign["status"] == "ACTIVE"
    assert campaign["summary_status"] == "RUNNING"
    group = api.get(f"{base}/ad_groups/{h.ad_group_id}").json()
    assert group["campaign_id"] == h.campaign_id
    ads = api.get(f"{base}/ads", params={"ad_group_ids": h.ad_group_id}).json()["items"]
    assert {a["lead_form_id"] for a in ads} == {tenant.contact_form, tenant.project_form}
    ad = api.get(f"{base}/ads/{ads[0]['id']}").json()
    assert ad == ads[0]
    assert ad["campaign_id"] == h.campaign_id
    assert DIGITS.match(ad["pin_id"])
    for item in (campaign, group, ad):
        assert isinstance(item["created_time"], int)
        assert item["created_time"] < 10**11  # seconds, not milliseconds


def test_list_filters_by_ids_and_statuses(tenant: Tenant, api: httpx.Client) -> None:
    base = f"/ad_accounts/{tenant.ad_account_id}"
    h = tenant.hierarchy
    assert (
        len(api.get(f"{base}/campaigns", params={"campaign_ids": h.campaign_id}).json()["items"])
        == 1
    )
    none = api.get(f"{base}/campaigns", params={"campaign_ids": "123456789012345"})
    assert none.json() == {"items": [], "bookmark": None}
    archived = api.get(f"{base}/ads", params={"entity_statuses": "ARCHIVED"})
    assert archived.json()["items"] == []
    first_ad = tenant.hierarchy.ads[0].ad_id
    by_id = api.get(f"{base}/ads", params=[("ad_ids", first_ad)]).json()["items"]
    assert [a["id"] for a in by_id] == [first_ad]
    both = api.get(f"{base}/ads", params={"ad_ids": first_ad, "campaign_ids": h.campaign_id})
    assert both.status_code == 400
    assert both.json()["code"] == 400
    bad_status = api.get(f"{base}/campaigns", params={"entity_statuses": "RUNNING"})
    assert bad_status.status_code == 400


def test_unknown_children_are_404(tenant: Tenant, api: httpx.Client) -> None:
    base = f"/ad_accounts/{tenant.ad_account_id}"
    for kind in ("campaigns", "ad_groups", "ads"):
        answer = api.get(f"{base}/{kind}/123456789012345")
        assert answer.status_code == 404, kind
        assert set(answer.json()) == {"code", "message"}


def test_campaign_analytics_are_deterministic_rows_per_day(
    tenant: Tenant, api: httpx.Client
) -> None:
    path = f"/ad_accounts/{tenant.ad_account_id}/campaigns/analytics"
    params = {**ANALYTICS, "campaign_ids": tenant.hierarchy.campaign_id}
    first = api.get(path, params=params)
    assert first.status_code == 200, first.text
    rows = first.json()
    assert [r["DATE"] for r in rows] == ["2024-03-01", "2024-03-02", "2024-03-03"]
    for row in rows:
        assert row["CAMPAIGN_ID"] == tenant.hierarchy.campaign_id
        assert row["CAMPAIGN_NAME"] == "Demo lead campaign"
        assert row["TOTAL_IMPRESSION"] > row["TOTAL_CLICKTHROUGH"] >= row["TOTAL_LEAD"] >= 0
        assert 0 < row["CTR"] < 1
    assert api.get(path, params=params).json() == rows
    windows = {"click_window_days": "7", "view_window_days": "60", "engagement_window_days": "0"}
    assert api.get(path, params={**params, **windows}).status_code == 200
    total = api.get(path, params={**params, "granularity": "TOTAL"}).json()
    assert len(total) == 1
    assert "DATE" not in total[0]


def test_analytics_refuse_bad_ranges_and_columns(tenant: Tenant, api: httpx.Client) -> None:
    path = f"/ad_accounts/{tenant.ad_account_id}/campaigns/analytics"
    params = {**ANALYTICS, "campaign_ids": tenant.hierarchy.campaign_id}
    for change in (
        {"end_date": "2024-02-01"},
        {"end_date": "2024-12-31"},
        {"columns": "NOT_A_COLUMN"},
        {"granularity": "YEAR"},
        {"start_date": "yesterday"},
        {"click_window_days": "2"},
        {"campaign_ids": "12a"},
    ):
        answer = api.get(path, params={**params, **change})
        assert answer.status_code == 400, change
        assert answer.json()["code"] == 400
    missing = api.get(path, params=ANALYTICS)
    assert missing.status_code == 400
    assert "campaign_ids" in missing.json()["message"]


def test_ad_analytics_need_ad_ids_or_campaigns_and_pins(tenant: Tenant, api: httpx.Client) -> None:
    path = f"/ad_accounts/{tenant.ad_account_id}/ads/analytics"
    ad = tenant.hierarchy.ads[0]
    rows = api.get(path, params={**ANALYTICS, "ad_ids": ad.ad_id, "granularity": "TOTAL"})
    assert rows.status_code == 200, rows.text
    assert [r["AD_ID"] for r in rows.json()] == [ad.ad_id]
    neither = api.get(path, params=ANALYTICS)
    assert neither.status_code == 400
    assert "ad_ids" in neither.json()["message"]
