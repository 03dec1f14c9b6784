"""Bookmark pagination: exhaustive, no repeats, `null` at the end, page_size bounds, order."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from leadwire.sandbox import admin
from tests.sandbox.conftest import Tenant
from tests.sandbox.test_lead_forms import new_form


def _walk(api: httpx.Client, path: str, **params: Any) -> tuple[list[str], int]:
    """Follow bookmarks to the end; return every id in order and the number of pages."""
    ids: list[str] = []
    seen_bookmarks: set[str] = set()
    bookmark: str | None = None
    pages = 0
    while True:
        query = {**params, **({"bookmark": bookmark} if bookmark else {})}
        answer = api.get(path, params=query)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        pages += 1
        ids += [item["id"] for item in body["items"]]
        bookmark = body["bookmark"]
        if bookmark is None:
            return ids, pages
        assert bookmark not in seen_bookmarks, "a cursor repeated"
        seen_bookmarks.add(bookmark)
        assert pages < 100


def _create_forms(api: httpx.Client, tenant: Tenant, count: int) -> None:
    path = f"/ad_accounts/{tenant.ad_account_id}/lead_forms"
    while count > 0:
        batch = min(count, 30)
        answer = api.post(path, json=[new_form(name=f"form {i}") for i in range(batch)])
        assert answer.status_code == 200
        count -= batch


def test_lead_forms_page_through_everything_once(tenant: Tenant, api: httpx.Client) -> None:
    _create_forms(api, tenant, 40)
    path = f"/ad_accounts/{tenant.ad_account_id}/lead_forms"
    everything = api.get(path, params={"page_size": 250}).json()
    assert everything["bookmark"] is None
    all_ids = [f["id"] for f in everything["items"]]
    assert len(all_ids) == 42
    ids, pages = _walk(api, path, page_size=5)
    assert ids == all_ids == sorted(all_ids)
    assert pages == 9
    descending, _ = _walk(api, path, page_size=7, order="DESCENDING")
    assert descending == all_ids[::-1]
    exact, exact_pages = _walk(api, path, page_size=21)
    assert exact == all_ids
    assert exact_pages == 2
    default = api.get(path).json()
    assert len(default["items"]) == 25
    assert default["bookmark"] is not None


def test_rows_added_while_paging_do_not_shift_pages(tenant: Tenant, api: httpx.Client) -> None:
    _create_forms(api, tenant, 8)
    path = f"/ad_accounts/{tenant.ad_account_id}/lead_forms"
    first = api.get(path, params={"page_size": 4}).json()
    _create_forms(api, tenant, 3)
    rest, _ = _walk_from(api, path, first["bookmark"])
    ids = [f["id"] for f in first["items"]] + rest
    assert len(ids) == len(set(ids)) == 13


def _walk_from(api: httpx.Client, path: str, bookmark: str) -> tuple[list[str], int]:
    ids: list[str] = []
    pages = 0
    current: str | None = bookmark
    while current is not None:
        body = api.get(path, params={"page_size": 4, "bookmark": current}).json()
        ids += [item["id"] for item in body["items"]]
        current = body["bookmark"]
        pages += 1
    return ids, pages


@pytest.mark.parametrize("page_size", ["0", "251", "-1", "ten", "2.5"])
def test_page_size_out_of_bounds_is_400(tenant: Tenant, api: httpx.Client, page_size: str) -> None:
    answer = api.get(
        f"/ad_accounts/{tenant.ad_account_id}/lead_forms", params={"page_size": page_size}
    )
    assert answer.status_code == 400
    assert answer.json()["code"] == 400
    assert "page_size" in answer.json()["message"]


def test_bad_bookmarks_and_orders_are_400(tenant: Tenant, api: httpx.Client) -> None:
    path = f"/ad_accounts/{tenant.ad_account_id}/lead_forms"
    bookmark = api.get(path, params={"page_size": 1}).json()["bookmark"]
    assert bookmark is not None
    for params in (
        {"bookmark": "not-a-bookmark"},
        {"bookmark": "!!!"},
        {"bookmark": bookmark, "order": "DESCENDING"},
        {"order": "SIDEWAYS"},
    ):
        answer = api.get(path, params=params)
        assert answer.status_code == 400, params
        assert answer.json()["code"] == 400


def test_subscriptions_and_ad_accounts_paginate_too(tenant: Tenant, api: httpx.Client) -> None:
    _create_forms(api, tenant, 4)
    forms = [
        f["id"] for f in api.get(f"/ad_accounts/{tenant.ad_account_id}/lead_forms").json()["items"]
    ]
    subs_path = f"/ad_accounts/{tenant.ad_account_id}/leads/subscriptions"
    created = [
        api.post(subs_path, json={"webhook_url": "https://example.com", "lead_form_id": f}).json()[
            "id"
        ]
        for f in forms
    ]
    ids, pages = _walk(api, subs_path, page_size=2)
    assert ids == sorted(created)
    assert pages == 3
    with tenant.server.store.sessions() as session:
        extra = [admin.create_ad_account(session, tenant.user_id, f"acct {i}").id for i in range(4)]
        session.commit()
    accounts, pages = _walk(api, "/ad_accounts", page_size=2)
    assert accounts == sorted([tenant.ad_account_id, *extra])
    assert pages == 3
