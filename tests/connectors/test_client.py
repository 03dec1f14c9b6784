"""Every operation: the request it sends (method, path, query, body) and the model it returns."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import httpx
import pytest

from leadwire.connectors.pinterest.client import PinterestClient
from leadwire.connectors.pinterest.leads import FieldType, QuestionType
from leadwire.connectors.pinterest.oauth import (
    PinterestEndpoints,
    authorize_url,
    code_challenge_s256,
    make_code_verifier,
)
from leadwire.connectors.pinterest.wire.ads import EntityStatus, Granularity
from leadwire.connectors.pinterest.wire.lead_ads import (
    LeadFormCreate,
    LeadFormQuestion,
    LeadFormStatus,
    LeadFormUpdate,
    LeadsExport,
    LeadsExportStatus,
    ListOrder,
)
from leadwire.errors import BadRequestError, DecodeError
from tests.connectors.fakes import FakePinterest, ok

AA = "549755885175"
FORM: dict[str, Any] = {
    "id": "7765300871171",
    "ad_account_id": AA,
    "name": "Spring",
    "status": "ACTIVE",
    "questions": [
        {"question_type": "EMAIL"},
        {
            "question_type": "CUSTOM",
            "custom_question_field_type": "CHECKBOX",
            "custom_question_label": "Pets?",
            "custom_question_options": ["Dog", "Cat"],
        },
    ],
    "created_time": 1451431341,
    "updated_time": 1451431341,
    "some_future_field": {"x": 1},
}
SUB: dict[str, Any] = {
    "id": "8078432025948590686",
    "ad_account_id": AA,
    "lead_form_id": "7765300871171",
    "webhook_url": "https://hooks.example/x",
    "api_version": "v5",
    "created_time": 1699209842000,
    "cryptographic_key": "ucvxbV2Tdss0vNeYsdh4Qfa/1Khm2b0PqXvXeTTZh54",
    "cryptographic_algorithm": "AES-256-GCM",
    "user_account_id": "549755885175",
}
QUESTION = LeadFormQuestion(question_type=QuestionType.EMAIL)
NEW_FORM = LeadFormCreate(
    name="Spring",
    questions=[QUESTION],
    privacy_policy_link="https://acme.example/privacy",
    has_accepted_terms=True,
    completion_message="Thanks",
)


@dataclass
class Case:
    call: Callable[[PinterestClient], Any]
    method: str
    path: str
    answer: object
    query: list[tuple[str, str]] = field(default_factory=list)
    body: object = None
    status: int = 200
    check: Callable[[Any], bool] = lambda result: True


CASES = {
    "ad_accounts/list": Case(
        lambda c: c.ads.fetch_ad_accounts_page(page_size=250, include_shared_accounts=False),
        "GET",
        "/ad_accounts",
        {"items": [{"id": AA, "name": "Acme", "currency": "USD"}], "bookmark": None},
        query=[("page_size", "250"), ("include_shared_accounts", "false")],
        check=lambda r: r.items[0].id == AA,
    ),
    "ad_accounts/get": Case(
        lambda c: c.ads.fetch_ad_account(AA),
        "GET",
        f"/ad_accounts/{AA}",
        {"id": AA, "owner": {"username": "acme"}},
        check=lambda r: r.owner.username == "acme",
    ),
    "campaigns/list": Case(
        lambda c: c.ads.fetch_campaigns_page(
            AA,
            "bm",
            page_size=10,
            campaign_ids=["1", "2"],
            entity_statuses=[EntityStatus.ACTIVE, EntityStatus.PAUSED],
            order=ListOrder.DESCENDING,
        ),
        "GET",
        f"/ad_accounts/{AA}/campaigns",
        {"items": [{"id": "1", "status": "ACTIVE", "objective_type": "CONSIDERATION"}]},
        query=[
            ("bookmark", "bm"),
            ("page_size", "10"),
            ("campaign_ids", "1"),
            ("campaign_ids", "2"),
            ("entity_statuses", "ACTIVE"),
            ("entity_statuses", "PAUSED"),
            ("order", "DESCENDING"),
        ],
        check=lambda r: r.items[0].status is EntityStatus.ACTIVE,
    ),
    "campaigns/get": Case(
        lambda c: c.ads.fetch_campaign(AA, "626736533506"),
        "GET",
        f"/ad_accounts/{AA}/campaigns/626736533506",
        {"id": "626736533506", "name": "Spring"},
    ),
    "ad_groups/list": Case(
        lambda c: c.ads.fetch_ad_groups_page(AA, ad_group_ids=["3"]),
        "GET",
        f"/ad_accounts/{AA}/ad_groups",
        {"items": [{"id": "3", "campaign_id": "C1"}], "bookmark": None},
        query=[("page_size", "25"), ("ad_group_ids", "3")],
    ),
    "ad_groups/get": Case(
        lambda c: c.ads.fetch_ad_group(AA, "3"),
        "GET",
        f"/ad_accounts/{AA}/ad_groups/3",
        {"id": "3"},
    ),
    "ads/list": Case(
        lambda c: c.ads.fetch_ads_page(AA, ad_ids=["5"]),
        "GET",
        f"/ad_accounts/{AA}/ads",
        {"items": [{"id": "5", "lead_form_id": "7765300871171"}], "bookmark": None},
        query=[("page_size", "25"), ("ad_ids", "5")],
    ),
    "ads/get": Case(
        lambda c: c.ads.fetch_ad(AA, "5"),
        "GET",
        f"/ad_accounts/{AA}/ads/5",
        {"id": "5", "ad_group_id": "AG3", "campaign_id": "1", "lead_form_id": "7765300871171"},
        check=lambda r: r.ad_group_id == "AG3",
    ),
    "ads/analytics": Case(
        lambda c: c.ads.fetch_ads_analytics(
            AA,
            start_date=date(2025, 12, 1),
            end_date=date(2025, 12, 2),
            columns=["TOTAL_LEAD", "SPEND_IN_DOLLAR"],
            granularity=Granularity.DAY,
            ad_ids=["5"],
        ),
        "GET",
        f"/ad_accounts/{AA}/ads/analytics",
        [{"AD_ID": "5", "DATE": "2025-12-01", "TOTAL_LEAD": 3, "SPEND_IN_DOLLAR": 1.5}],
        query=[
            ("start_date", "2025-12-01"),
            ("end_date", "2025-12-02"),
            ("columns", "TOTAL_LEAD,SPEND_IN_DOLLAR"),
            ("granularity", "DAY"),
            ("ad_ids", "5"),
        ],
        check=lambda r: r[0].metrics() == {"TOTAL_LEAD": 3.0, "SPEND_IN_DOLLAR": 1.5},
    ),
    "campaigns/analytics": Case(
        lambda c: c.ads.fetch_campaigns_analytics(
            AA,
            campaign_ids=["1"],
            start_date=date(2025, 12, 1),
            end_date=date(2025, 12, 1),
            columns=["TOTAL_LEAD"],
            granularity=Granularity.TOTAL,
        ),
        "GET",
        f"/ad_accounts/{AA}/campaigns/analytics",
        [{"CAMPAIGN_ID": "1", "TOTAL_LEAD": 2}],
        query=[
            ("start_date", "2025-12-01"),
            ("end_date", "2025-12-01"),
            ("columns", "TOTAL_LEAD"),
            ("granularity", "TOTAL"),
            ("campaign_ids", "1"),
        ],
    ),
    "lead_forms/list": Case(
        lambda c: c.lead_forms.fetch_page(AA, order=ListOrder.ASCENDING),
        "GET",
        f"/ad_accounts/{AA}/lead_forms",
        {"items": [FORM], "bookmark": None},
        query=[("page_size", "25"), ("order", "ASCENDING")],
        check=lambda r: r.items[0].questions[1].custom_question_field_type is FieldType.CHECKBOX,
    ),
    "lead_form/get": Case(
        lambda c: c.lead_forms.fetch(AA, FORM["id"]),
        "GET",
        f"/ad_accounts/{AA}/lead_forms/{FORM['id']}",
        FORM,
        check=lambda r: r.status is LeadFormStatus.ACTIVE and r.created_at.year == 2015,
    ),
    "lead_forms/create": Case(
        lambda c: c.lead_forms.create(AA, [NEW_FORM]),
        "POST",
        f"/ad_accounts/{AA}/lead_forms",
        {"items": [{"data": FORM, "exceptions": []}]},
        body=[
            {
                "name": "Spring",
                "privacy_policy_link": "https://acme.example/privacy",
                "has_accepted_terms": True,
                "completion_message": "Thanks",
                "questions": [{"question_type": "EMAIL"}],
            }
        ],
        check=lambda r: r.items[0].data.id == FORM["id"],
    ),
    "lead_forms/update": Case(
        lambda c: c.lead_forms.update(
            AA, [LeadFormUpdate(id="7765300871171", status=LeadFormStatus.ACTIVE)]
        ),
        "PATCH",
        f"/ad_accounts/{AA}/lead_forms",
        {"items": [{"exceptions": [{"code": 2, "message": "Advertiser not found."}]}]},
        body=[{"id": "7765300871171", "status": "ACTIVE"}],
        check=lambda r: r.items[0].exceptions[0].code == 2,
    ),
    "lead_form_test/create": Case(
        lambda c: c.lead_forms.create_test_lead(AA, FORM["id"], ["a@b.example"]),
        "POST",
        f"/ad_accounts/{AA}/lead_forms/{FORM['id']}/test",
        {"subscription_id": SUB["id"]},
        body={"answers": ["a@b.example"]},
        check=lambda r: r.subscription_id == SUB["id"],
    ),
    "lead_form_questions/get": Case(
        lambda c: c.lead_forms.fetch_question_types(),
        "GET",
        "/resources/lead_form_questions",
        [{"question_type": "EMAIL"}, "FULL_NAME"],
        check=lambda r: r == ["EMAIL", "FULL_NAME"],
    ),
    "ad_accounts_subscriptions/get_list": Case(
        lambda c: c.subscriptions.fetch_page(AA, page_size=2),
        "GET",
        f"/ad_accounts/{AA}/leads/subscriptions",
        {"items": [SUB], "bookmark": None},
        query=[("page_size", "2")],
    ),
    "ad_accounts_subscriptions/post": Case(
        lambda c: c.subscriptions.create(AA, "https://hooks.example/x", lead_form_id=FORM["id"]),
        "POST",
        f"/ad_accounts/{AA}/leads/subscriptions",
        SUB,
        body={"webhook_url": "https://hooks.example/x", "lead_form_id": FORM["id"]},
        check=lambda r: r.cryptographic_key == SUB["cryptographic_key"],
    ),
    "ad_accounts_subscriptions/get_by_id": Case(
        lambda c: c.subscriptions.fetch(AA, SUB["id"]),
        "GET",
        f"/ad_accounts/{AA}/leads/subscriptions/{SUB['id']}",
        SUB,
    ),
    "ad_accounts_subscriptions/del_by_id": Case(
        lambda c: c.subscriptions.delete(AA, SUB["id"]),
        "DELETE",
        f"/ad_accounts/{AA}/leads/subscriptions/{SUB['id']}",
        None,
        status=204,
        check=lambda r: r is None,
    ),
    "leads_export/create": Case(
        lambda c: c.exports.create(AA, "687201361754", date(2025, 12, 1), date(2025, 12, 10)),
        "POST",
        f"/ad_accounts/{AA}/leads_export",
        {"leads_export_id": "123755885175"},
        body={"ad_id": "687201361754", "start_date": "2025-12-01", "end_date": "2025-12-10"},
        check=lambda r: r == "123755885175",
    ),
    "leads_export/get": Case(
        lambda c: c.exports.fetch(AA, "123755885175"),
        "GET",
        f"/ad_accounts/{AA}/leads_export/123755885175",
        {"export_status": "IN_PROGRESS", "download_url": None},
        check=lambda r: r.export_status is LeadsExportStatus.IN_PROGRESS,
    ),
}


@pytest.mark.parametrize("operation", list(CASES))
def test_operation_request_and_result(pinterest: FakePinterest, operation: str) -> None:
    case = CASES[operation]

    def answer(request: httpx.Request) -> httpx.Response:
        if case.answer is None:
            return httpx.Response(case.status)
        return httpx.Response(case.status, json=case.answer)

    pinterest.on(case.method, case.path, answer)
    with pinterest.client() as client:
        result = case.call(client)
    (request,) = pinterest.api_requests()
    assert request.method == case.method
    assert request.url.path == "/v5" + case.path
    assert list(request.url.params.multi_items()) == case.query
    if case.body is None:
        assert request.content == b""
    else:
        assert request.headers["Content-Type"] == "application/json"
        assert json.loads(request.content) == case.body
    assert case.check(result)


@pytest.mark.parametrize("bad", ["12a", "../1", "", "1\n", "١٢٣", "1" * 20])
def test_ids_that_could_bend_a_path_are_refused_before_sending(
    pinterest: FakePinterest, bad: str
) -> None:
    with pinterest.client() as client, pytest.raises(BadRequestError, match="digits"):
        client.lead_forms.fetch(AA, bad)
    assert pinterest.requests == []


def test_a_2xx_body_of_the_wrong_shape_is_a_decode_error(pinterest: FakePinterest) -> None:
    pinterest.on("GET", f"/ad_accounts/{AA}", ok({"id": 123}))
    with pinterest.client() as client, pytest.raises(DecodeError, match=r"ad_accounts/get.*id"):
        client.ads.fetch_ad_account(AA)


def test_a_2xx_body_that_is_not_json_is_a_decode_error(pinterest: FakePinterest) -> None:
    pinterest.on("GET", f"/ad_accounts/{AA}", lambda r: httpx.Response(200, content=b"<html>"))
    with pinterest.client() as client, pytest.raises(DecodeError):
        client.ads.fetch_ad_account(AA)


def test_bulk_form_calls_take_1_to_30_forms(pinterest: FakePinterest) -> None:
    with pinterest.client() as client:
        with pytest.raises(BadRequestError, match="1-30"):
            client.lead_forms.create(AA, [])
        with pytest.raises(BadRequestError, match="1-30"):
            client.lead_forms.create(AA, [NEW_FORM] * 31)
    assert pinterest.requests == []


def test_download_sends_no_bearer_to_another_host(pinterest: FakePinterest) -> None:
    seen: list[httpx.Request] = []

    def storage(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=b"lead_id\r\n")

    def route(request: httpx.Request) -> httpx.Response:
        if request.url.host == "exports.example":
            return storage(request)
        return pinterest(request)

    client = PinterestClient.connect(
        pinterest.tokens(),
        endpoints=PinterestEndpoints(api_base_url="https://api.pinterest.com/v5"),
        transport=httpx.MockTransport(route),
        clock=pinterest.clock,
    )
    export = LeadsExport(
        export_status=LeadsExportStatus.FINISHED,
        download_url="https://exports.example/f.csv?token=s3cr3t",
    )
    with client:
        assert client.exports.download(export) == b"lead_id\r\n"
    assert "Authorization" not in seen[0].headers


def test_download_on_the_api_origin_is_authenticated_and_bounded(
    pinterest: FakePinterest,
) -> None:
    pinterest.on("GET", "/exports/1.csv", lambda r: httpx.Response(200, content=b"x" * 2048))
    export = LeadsExport(
        export_status=LeadsExportStatus.FINISHED,
        download_url="https://api.pinterest.com/v5/exports/1.csv",
    )
    with pinterest.client() as client:
        assert len(client.exports.download(export)) == 2048
        with pytest.raises(DecodeError, match="exceeds 1000 bytes"):
            client.exports.download(export, max_bytes=1000)
    assert pinterest.api_requests()[0].headers["Authorization"] == "Bearer access-0"


def test_download_of_an_unfinished_export_is_refused(pinterest: FakePinterest) -> None:
    with pinterest.client() as client, pytest.raises(BadRequestError, match="IN_PROGRESS"):
        client.exports.download(LeadsExport(export_status=LeadsExportStatus.IN_PROGRESS))


def test_authorize_url_carries_state_pkce_and_comma_scopes() -> None:
    verifier = make_code_verifier()
    url = httpx.URL(
        authorize_url(
            "1484362",
            "https://app.example/cb",
            ["ads:read", "ads:write"],
            "st4te",
            code_challenge_s256(verifier),
            endpoints=PinterestEndpoints.sandbox("http://127.0.0.1:8420"),
        )
    )
    assert str(url).startswith("http://127.0.0.1:8420/oauth/?")
    assert dict(url.params) == {
        "client_id": "1484362",
        "redirect_uri": "https://app.example/cb",
        "response_type": "code",
        "scope": "ads:read,ads:write",
        "state": "st4te",
        "code_challenge": code_challenge_s256(verifier),
        "code_challenge_method": "S256",
    }


def test_pkce_s256_matches_rfc_7636_appendix_b() -> None:
    verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    assert code_challenge_s256(verifier) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    fresh = make_code_verifier()
    assert 43 <= len(fresh) <= 128
    assert fresh != make_code_verifier()


def test_sandbox_endpoints() -> None:
    endpoints = PinterestEndpoints.sandbox("http://127.0.0.1:9999/")
    assert endpoints.api_base_url == "http://127.0.0.1:9999/v5"
    assert endpoints.token_url == "http://127.0.0.1:9999/v5/oauth/token"
    assert endpoints.authorize_page_url == "http://127.0.0.1:9999/oauth/"
