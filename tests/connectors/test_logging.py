"""No secret reaches a log line or a repr: tokens, client secret, keys, codes, emails, phones."""

from __future__ import annotations

import base64
import logging
import re

import httpx
import pytest

from leadwire.connectors.pinterest.client import PinterestClient
from leadwire.connectors.pinterest.errors import PinterestApiError
from leadwire.connectors.pinterest.oauth import PinterestEndpoints, TokenSet
from leadwire.connectors.pinterest.wire.lead_ads import (
    LeadsExport,
    LeadsExportStatus,
    LeadSubscription,
)
from leadwire.errors import LeadwireError
from tests.connectors.fakes import API, APP, FakePinterest, error, ok

AA = "549755885175"
KEY = "ucvxbV2Tdss0vNeYsdh4Qfa/1Khm2b0PqXvXeTTZh54"
DOWNLOAD_TOKEN = "dl-9f8e7d6c5b4a"
CODE = "authcode-QQ77"
VERIFIER = "verifier-" + "k" * 40
EMAIL = "jane.doe@example.com"
PHONE = "+1 415 555 0100"
SECRETS = [
    APP.client_secret,
    base64.b64encode(f"{APP.client_id}:{APP.client_secret}".encode()).decode(),
    KEY,
    DOWNLOAD_TOKEN,
    CODE,
    VERIFIER,
    EMAIL,
    "555 0100",
]
TOKEN = re.compile(r"(access|refresh)-\d")


def assert_clean(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text
    assert TOKEN.search(text) is None, TOKEN.search(text)


def exercise(pinterest: FakePinterest) -> list[str]:
    """Run every path that touches a secret; return the errors' messages."""
    subscription = dict(id="8078432025948590686", cryptographic_key=KEY, webhook_url="https://h/x")
    pinterest.on("POST", f"/ad_accounts/{AA}/leads/subscriptions", ok(subscription))
    pinterest.on("GET", f"/ad_accounts/{AA}", ok({"id": AA}))
    pinterest.on(
        "GET",
        f"/ad_accounts/{AA}/lead_forms/1",
        lambda r: error(400, 1, f"Invalid answer {EMAIL} / {PHONE}"),
    )
    pinterest.on(
        "GET",
        f"/ad_accounts/{AA}/lead_forms/2",
        lambda r: error(429, 8, "Rate limit.", **{"X-RateLimit-Reset": "67150"}),
    )
    pinterest.on("GET", "/exports/1.csv", lambda r: httpx.Response(200, content=b"lead_id\r\n"))
    messages: list[str] = []
    bare = PinterestClient(
        endpoints=PinterestEndpoints(API), transport=httpx.MockTransport(pinterest)
    )
    with bare:
        granted = bare.exchange_code(APP, CODE, "https://app.example/cb", VERIFIER)
    stale = TokenSet("access-0", granted.access_expires_at, refresh_token=granted.refresh_token)
    with pinterest.client(stale, on_tokens=lambda t: None) as client:
        client.ads.fetch_ad_account(AA)  # 401 (revoked access token), refresh, resend
        client.subscriptions.create(AA, "https://h/x")
        for form in ("1", "2"):
            try:
                client.lead_forms.fetch(AA, form)
            except PinterestApiError as exc:
                messages.append(str(exc))
        for url in (
            f"{API}/exports/1.csv?token={DOWNLOAD_TOKEN}",
            f"https://storage.example/e.csv?token={DOWNLOAD_TOKEN}",
        ):
            export = LeadsExport(export_status=LeadsExportStatus.FINISHED, download_url=url)
            try:
                client.exports.download(export)
            except LeadwireError as exc:
                messages.append(str(exc))
    bad_refresh = TokenSet("access-0", pinterest.clock(), refresh_token="refresh-999")
    with pinterest.client(bad_refresh) as client:
        try:
            client.ads.fetch_ad_account(AA)
        except PinterestApiError as exc:
            messages.append(str(exc))
    return messages


def test_no_secret_in_any_log_line_at_debug(
    pinterest: FakePinterest, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    messages = exercise(pinterest)
    assert len(messages) == 4  # the 400, the 429, the foreign-host download, the refused refresh
    assert any("pinterest.auth.refreshed" in r.getMessage() for r in caplog.records)
    assert any(r.name == "httpx" for r in caplog.records)  # httpx's own lines were captured too
    text = "\n".join(f"{r.name} {r.getMessage()}" for r in caplog.records)
    assert "token=***" in text
    assert_clean(text)
    assert_clean("\n".join(messages))


def test_reprs_hide_secrets(pinterest: FakePinterest) -> None:
    tokens = pinterest.tokens()
    client = pinterest.client(tokens)
    shown = " ".join(
        repr(x)
        for x in (
            tokens,
            APP,
            client.auth,
            LeadSubscription(id="1", cryptographic_key=KEY),
            LeadsExport(
                export_status=LeadsExportStatus.FINISHED,
                download_url=f"https://x/?token={DOWNLOAD_TOKEN}",
            ),
        )
    )
    client.close()
    assert_clean(shown)


def test_the_real_client_path_logs_no_token_on_a_transport_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)

    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")

    tokens = FakePinterest().tokens()
    client = PinterestClient.connect(
        tokens, endpoints=PinterestEndpoints(API), transport=httpx.MockTransport(down)
    )
    with client, pytest.raises(LeadwireError):
        client.ads.fetch_ad_account(AA)
    assert "pinterest.unavailable" in caplog.text
    assert_clean(caplog.text)
