"""Contract: the Pinterest connector against the real sandbox, over real HTTP.

What every Pinterest-side change must keep true: pagination ends and a cursor never repeats, a
429 gives a retry time, a 401 refreshes exactly once, secrets never reach the logs, a delivery
from a sandbox subscription decodes into the right `Lead`, and an export reads into the same one.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from leadwire.connectors.pinterest.client import PinterestClient
from leadwire.connectors.pinterest.envelope import decode_delivery
from leadwire.connectors.pinterest.errors import PinterestAuthError, PinterestRateLimitedError
from leadwire.connectors.pinterest.leads import FieldType, Lead, QuestionType
from leadwire.connectors.pinterest.oauth import (
    OAuthApp,
    PinterestEndpoints,
    TokenSet,
    code_challenge_s256,
    make_code_verifier,
    make_state,
)
from leadwire.connectors.pinterest.wire.lead_ads import (
    LeadFormCreate,
    LeadFormQuestion,
    LeadFormStatus,
    LeadFormUpdate,
    LeadsExport,
    LeadsExportStatus,
)
from leadwire.sandbox.app import create_app
from leadwire.sandbox.store import open_store
from tests.sandbox.conftest import SandboxServer, Tenant, new_tenant, sandbox_settings
from tests.servers import running

REDIRECT_URI = "https://app.example/pinterest/callback"
WAIT_S = 15.0


class Recorder(httpx.BaseTransport):
    """A real HTTP transport that remembers what it sent (method, path, bookmark)."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.sent: list[tuple[str, str, str | None]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append((request.method, request.url.path, request.url.params.get("bookmark")))
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()

    def token_calls(self) -> int:
        return sum(path.endswith("/oauth/token") for _, path, _ in self.sent)


def endpoints(tenant: Tenant) -> PinterestEndpoints:
    return PinterestEndpoints.sandbox(tenant.url)


def app_of(tenant: Tenant) -> OAuthApp:
    return OAuthApp(tenant.app_id, tenant.app_secret)


def connect_via_oauth(tenant: Tenant) -> TokenSet:
    """Walk the authorize page with state and PKCE, as a user would, and exchange the code."""
    verifier, state = make_code_verifier(), make_state()
    with PinterestClient(endpoints=endpoints(tenant)) as bare:
        url = bare.authorize_url(tenant.app_id, REDIRECT_URI, state, code_challenge_s256(verifier))
        with httpx.Client(timeout=10) as browser:
            page = browser.get(url)
            assert page.status_code == 200
            fields = dict(httpx.URL(url).params)
            decision = browser.post(
                endpoints(tenant).authorize_page_url,
                data={
                    "decision": "approve",
                    "user_id": tenant.user_id,
                    "client_id": fields["client_id"],
                    "redirect_uri": REDIRECT_URI,
                    "scope": fields["scope"],
                    "state": state,
                    "code_challenge": fields["code_challenge"],
                    "code_challenge_method": "S256",
                },
            )
        assert decision.status_code == 302
        back = httpx.URL(decision.headers["location"])
        assert back.params["state"] == state
        return bare.exchange_code(app_of(tenant), back.params["code"], REDIRECT_URI, verifier)


@pytest.fixture
def tokens(tenant: Tenant) -> TokenSet:
    """Tokens got through the real authorize page and code exchange."""
    return connect_via_oauth(tenant)


def client_for(
    tenant: Tenant,
    tokens: TokenSet,
    recorder: Recorder | None = None,
    on_tokens: Callable[[TokenSet], None] | None = None,
) -> PinterestClient:
    return PinterestClient.connect(
        tokens,
        app=app_of(tenant),
        on_tokens=on_tokens,
        endpoints=endpoints(tenant),
        transport=recorder or Recorder(),
    )


def test_oauth_with_pkce_gives_lead_ads_tokens(tokens: TokenSet) -> None:
    assert tokens.scopes >= {"ads:read", "ads:write"}
    assert tokens.refresh_token is not None
    assert tokens.access_expires_at > datetime.now(UTC)


def test_pagination_ends_and_a_cursor_never_repeats(tenant: Tenant, tokens: TokenSet) -> None:
    recorder = Recorder()
    with client_for(tenant, tokens, recorder) as client:
        question = LeadFormQuestion(question_type=QuestionType.EMAIL)
        created = client.lead_forms.create(
            tenant.ad_account_id,
            [
                LeadFormCreate(
                    name=f"Form {n}",
                    questions=[question],
                    privacy_policy_link="https://acme.example/privacy",
                    has_accepted_terms=True,
                    completion_message="Thanks",
                )
                for n in range(7)
            ],
        )
        assert all(item.data is not None and not item.exceptions for item in created.items)
        ids = [form.id for form in client.lead_forms.list_all(tenant.ad_account_id, page_size=2)]
        every = [
            form.id for form in client.lead_forms.list_all(tenant.ad_account_id, page_size=250)
        ]
    assert len(ids) == len(set(ids)) >= 9  # the 7 new forms and the demo ones
    assert sorted(ids) == sorted(every)
    pages = [bm for method, path, bm in recorder.sent if method == "GET" and "lead_forms" in path]
    bookmarks = [bm for bm in pages if bm is not None]
    assert len(bookmarks) == len(set(bookmarks))  # a cursor never repeats
    assert len(pages) == -(-len(ids) // 2) + 1  # every page of 2, then the single page of 250


def test_every_list_of_the_ad_context_ends(tenant: Tenant, tokens: TokenSet) -> None:
    with client_for(tenant, tokens) as client:
        accounts = list(client.ads.list_ad_accounts(page_size=1))
        campaigns = list(client.ads.list_campaigns(tenant.ad_account_id, page_size=1))
        groups = list(client.ads.list_ad_groups(tenant.ad_account_id, page_size=1))
        ads = list(client.ads.list_ads(tenant.ad_account_id, page_size=1))
        assert tenant.ad_account_id in [a.id for a in accounts]
        assert [c.id for c in campaigns] == [tenant.hierarchy.campaign_id]
        assert [g.id for g in groups] == [tenant.hierarchy.ad_group_id]
        assert {a.id for a in ads} == {ad.ad_id for ad in tenant.hierarchy.ads}
        ad = client.ads.fetch_ad(tenant.ad_account_id, tenant.hierarchy.ads[0].ad_id)
        assert ad.lead_form_id == tenant.contact_form
        assert client.ads.fetch_campaign(tenant.ad_account_id, ad.campaign_id or "").id
        assert client.ads.fetch_ad_group(tenant.ad_account_id, tenant.hierarchy.ad_group_id).id


def test_a_401_refreshes_exactly_once(tenant: Tenant, tokens: TokenSet) -> None:
    revoked = TokenSet(
        access_token="pina_not-a-live-token",
        access_expires_at=tokens.access_expires_at,
        refresh_token=tokens.refresh_token,
        refresh_expires_at=tokens.refresh_expires_at,
    )
    saved: list[TokenSet] = []
    recorder = Recorder()
    with client_for(tenant, revoked, recorder, saved.append) as client:
        assert client.ads.fetch_ad_account(tenant.ad_account_id).id == tenant.ad_account_id
        client.ads.fetch_ad_account(tenant.ad_account_id)
    assert recorder.token_calls() == 1
    assert len(saved) == 1
    assert saved[0].refresh_token not in (None, tokens.refresh_token)  # rotated
    assert [m for m, _, _ in recorder.sent].count("GET") == 3  # 401, resend, second call


def test_a_token_near_expiry_is_refreshed_first_and_the_old_refresh_token_dies(
    tenant: Tenant, tokens: TokenSet
) -> None:
    expiring = TokenSet(
        access_token=tokens.access_token,
        access_expires_at=datetime.now(UTC),
        refresh_token=tokens.refresh_token,
    )
    saved: list[TokenSet] = []
    recorder = Recorder()
    with client_for(tenant, expiring, recorder, saved.append) as client:
        client.ads.fetch_ad_account(tenant.ad_account_id)
    assert recorder.token_calls() == 1
    assert [m for m, _, _ in recorder.sent].count("GET") == 1
    reused = TokenSet(
        access_token="pina_expired",
        access_expires_at=datetime.now(UTC),
        refresh_token=tokens.refresh_token,
    )
    with (
        client_for(tenant, reused) as client,
        pytest.raises(PinterestAuthError) as caught,
    ):
        client.ads.fetch_ad_account(tenant.ad_account_id)
    assert caught.value.code == 283


def test_a_second_401_is_final(tenant: Tenant, tokens: TokenSet) -> None:
    refreshed_then_refused = TokenSet(
        access_token="pina_nope",
        access_expires_at=tokens.access_expires_at,
        refresh_token="pinr_not-a-live-token",
    )
    recorder = Recorder()
    with (
        client_for(tenant, refreshed_then_refused, recorder) as client,
        pytest.raises(PinterestAuthError),
    ):
        client.ads.fetch_ad_account(tenant.ad_account_id)
    assert recorder.token_calls() == 1
    assert [m for m, _, _ in recorder.sent].count("GET") == 1


def test_a_missing_scope_is_an_auth_error_without_a_refresh(tenant: Tenant) -> None:
    read_only = TokenSet(tenant.read_token, datetime.now(UTC).replace(year=2100))
    recorder = Recorder()
    with client_for(tenant, read_only, recorder) as client, pytest.raises(PinterestAuthError):
        client.subscriptions.create(tenant.ad_account_id, "https://hooks.example/x")
    assert recorder.token_calls() == 0


@pytest.fixture
def limited_sandbox(tmp_path: Path) -> Iterator[SandboxServer]:
    """A sandbox that allows 3 reads a minute."""
    settings = sandbox_settings(tmp_path, sandbox_rate_read_per_min=3)
    store = open_store(settings)
    with running(create_app(settings, store=store)) as url:
        yield SandboxServer(url, store, settings)
    store.engine.dispose()


def read_until_refused(client: PinterestClient, ad_account_id: str) -> None:
    # Windows are whole minutes: a boundary crossed mid-test resets the count, so allow for
    # one reset (3 + 3 reads) before the refusal must come.
    for _ in range(7):
        client.ads.fetch_ad_account(ad_account_id)


def test_a_429_gives_a_retry_time(limited_sandbox: SandboxServer) -> None:
    limited = new_tenant(limited_sandbox)
    tokens = TokenSet(limited.token, datetime.now(UTC).replace(year=2100))
    with (
        client_for(limited, tokens) as client,
        pytest.raises(PinterestRateLimitedError) as caught,
    ):
        read_until_refused(client, limited.ad_account_id)
    error = caught.value
    assert error.code == 8
    assert error.retry_after_s is not None
    assert 0 < error.retry_after_s <= 60
    assert error.is_daily_quota is False


def test_every_lead_ads_operation_speaks_the_sandbox_shapes(
    tenant: Tenant, tokens: TokenSet
) -> None:
    aa = tenant.ad_account_id
    with client_for(tenant, tokens) as client:
        assert set(client.lead_forms.fetch_question_types()) == {t.value for t in QuestionType}
        form = client.lead_forms.fetch(aa, tenant.project_form)
        assert any(q.custom_question_field_type is FieldType.CHECKBOX for q in form.questions)
        updated = client.lead_forms.update(
            aa, [LeadFormUpdate(id=form.id, status=LeadFormStatus.ACTIVE, name="Renamed")]
        )
        assert updated.items[0].data is not None
        assert updated.items[0].data.name == "Renamed"
        subscription = client.subscriptions.create(aa, "https://hooks.example/account-level")
        assert subscription.cryptographic_key is not None
        assert subscription.cryptographic_algorithm == "AES-256-GCM"
        assert (
            client.subscriptions.fetch(aa, subscription.id).webhook_url == subscription.webhook_url
        )
        assert subscription.id in [s.id for s in client.subscriptions.list_all(aa)]
        client.subscriptions.delete(aa, subscription.id)
        assert subscription.id not in [s.id for s in client.subscriptions.list_all(aa)]
        export_id = client.exports.create(
            aa, tenant.hierarchy.ads[0].ad_id, datetime.now(UTC).date(), datetime.now(UTC).date()
        )
        assert client.exports.fetch(aa, export_id).export_status in set(LeadsExportStatus)


def test_secrets_never_appear_in_logs(tenant: Tenant, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    me = threading.get_ident()
    tokens = connect_via_oauth(tenant)
    revoked = TokenSet("pina_bogus-token", tokens.access_expires_at, tokens.refresh_token)
    saved: list[TokenSet] = []
    with client_for(tenant, revoked, on_tokens=saved.append) as client:
        client.ads.fetch_ad_account(tenant.ad_account_id)
        subscription = client.subscriptions.create(tenant.ad_account_id, "https://hooks.example/s")
        export_id = client.exports.create(
            tenant.ad_account_id,
            tenant.hierarchy.ads[0].ad_id,
            datetime.now(UTC).date(),
            datetime.now(UTC).date(),
        )
        export = wait_for_export(client, tenant.ad_account_id, export_id)
        assert export.export_status is LeadsExportStatus.FINISHED
        client.exports.download(export)
    ours = "\n".join(f"{r.name} {r.getMessage()}" for r in caplog.records if r.thread == me)
    assert "pinterest.auth.refreshed" in ours
    secrets = [
        tenant.app_secret,
        tokens.access_token,
        tokens.refresh_token,
        saved[0].access_token,
        saved[0].refresh_token,
        subscription.cryptographic_key,
    ]
    assert export.download_url is not None
    secrets.append(httpx.URL(export.download_url).params["token"])
    for secret in secrets:
        assert secret
        assert secret not in ours


def wait_for_export(client: PinterestClient, ad_account_id: str, export_id: str) -> LeadsExport:
    deadline = time.monotonic() + WAIT_S
    while True:
        export = client.exports.fetch(ad_account_id, export_id)
        if export.export_status is not LeadsExportStatus.IN_PROGRESS or time.monotonic() > deadline:
            return export
        time.sleep(0.1)


class Hook:
    """A webhook receiver on a real socket that keeps every body it is sent."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []
        self.arrived = threading.Event()
        self.app = Starlette(
            routes=[Route("/hooks/pinterest/{secret}", self.receive, methods=["POST"])]
        )

    async def receive(self, request: Request) -> Response:
        self.bodies.append(await request.body())
        self.arrived.set()
        return Response(status_code=200)


def test_a_delivery_decodes_into_the_right_lead_and_the_export_agrees(
    tenant: Tenant, tokens: TokenSet
) -> None:
    hook = Hook()
    aa = tenant.ad_account_id
    with running(hook.app) as hook_url, client_for(tenant, tokens) as client:
        form = client.lead_forms.fetch(aa, tenant.project_form)
        subscription = client.subscriptions.create(
            aa, f"{hook_url}/hooks/pinterest/s3cret", lead_form_id=form.id
        )
        assert subscription.cryptographic_key is not None
        answers = [
            _answer_for(q.question_type, q.custom_question_field_type, q.custom_question_options)
            for q in form.questions
        ]
        sent = client.lead_forms.create_test_lead(aa, form.id, answers)
        assert sent.subscription_id == subscription.id
        assert hook.arrived.wait(WAIT_S), "the sandbox delivered nothing"
        (lead,) = decode_delivery(hook.bodies[0], subscription.cryptographic_key)
        today = datetime.now(UTC).date()
        ad_id = next(ad.ad_id for ad in tenant.hierarchy.ads if ad.lead_form_id == form.id)
        export = wait_for_export(client, aa, client.exports.create(aa, ad_id, today, today))
        assert export.export_status is LeadsExportStatus.FINISHED
        exported = client.exports.fetch_leads(export)
    assert lead.is_test is True
    assert (lead.ad_account_id, lead.lead_form_id, lead.ad_id) == (aa, form.id, ad_id)
    assert [a.question_type for a in lead.answers] == [q.question_type for q in form.questions]
    checkbox = [a for a in lead.answers if a.field_type is FieldType.CHECKBOX]
    assert all(len(a.values) >= 1 for a in checkbox)
    assert _same_lead(lead, exported)


def _answer_for(
    question_type: QuestionType, field_type: FieldType | None, options: list[str] | None
) -> str:
    if options:
        return options[0]
    return {
        QuestionType.EMAIL: "jane.doe@example.com",
        QuestionType.PHONE_NUMBER: "+14155550100",
        QuestionType.FIRST_NAME: "Jane",
        QuestionType.LAST_NAME: "Doe",
        QuestionType.FULL_NAME: "Jane Doe",
    }.get(question_type, "some answer")


def _same_lead(lead: Lead, exported: list[Lead]) -> bool:
    match = [e for e in exported if e.lead_id == lead.lead_id]
    return match == [lead]
