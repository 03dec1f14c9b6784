"""`PinterestClient`: one connection to Pinterest API v5 (or the sandbox), every lead-ads operation.

Composition, not inheritance: the client *has* a session (the one httpx client, error
classification, logs), an auth (tokens, refresh, rotation callback) and the operation groups::

    client = PinterestClient.connect(tokens, app=app, on_tokens=save_tokens)
    for form in client.lead_forms.list_all(ad_account_id):
        ...
    subscription = client.subscriptions.create(ad_account_id, hook_url, lead_form_id=form.id)

Sync by design: the engine calls it from DBOS steps, which are sync functions.
"""

from __future__ import annotations

from collections.abc import Iterable
from types import TracebackType

import httpx

from leadwire.connectors.pinterest.ad_context import AdContextApi
from leadwire.connectors.pinterest.auth import (
    DEFAULT_REFRESH_SKEW_S,
    PinterestAuth,
    TokensCallback,
)
from leadwire.connectors.pinterest.lead_ads import LeadFormsApi, LeadsExportsApi, SubscriptionsApi
from leadwire.connectors.pinterest.oauth import (
    LEAD_ADS_SCOPES,
    Clock,
    OAuthApp,
    PinterestEndpoints,
    TokenSet,
    authorize_url,
    client_credentials,
    exchange_code,
    utc_now,
)
from leadwire.connectors.pinterest.ratelimits import DAILY_QUOTA_THRESHOLD_S
from leadwire.connectors.pinterest.session import DEFAULT_LIMITS, DEFAULT_TIMEOUT, PinterestSession


class PinterestClient:
    """Typed client of the Pinterest lead-ads operations; close it (or use `with`) when done."""

    def __init__(
        self,
        auth: httpx.Auth | None = None,
        *,
        endpoints: PinterestEndpoints | None = None,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        limits: httpx.Limits = DEFAULT_LIMITS,
        transport: httpx.BaseTransport | None = None,
        clock: Clock = utc_now,
        daily_quota_threshold_s: float = DAILY_QUOTA_THRESHOLD_S,
    ) -> None:
        self.auth = auth
        self.endpoints = endpoints or PinterestEndpoints()
        self.session = PinterestSession(
            auth,
            endpoints=self.endpoints,
            timeout=timeout,
            limits=limits,
            transport=transport,
            clock=clock,
            daily_quota_threshold_s=daily_quota_threshold_s,
        )
        self._clock = clock
        self.ads = AdContextApi(self.session)
        self.lead_forms = LeadFormsApi(self.session)
        self.subscriptions = SubscriptionsApi(self.session)
        self.exports = LeadsExportsApi(self.session)

    @classmethod
    def connect(
        cls,
        tokens: TokenSet,
        *,
        app: OAuthApp | None = None,
        on_tokens: TokensCallback | None = None,
        endpoints: PinterestEndpoints | None = None,
        refresh_skew_s: float = DEFAULT_REFRESH_SKEW_S,
        transport: httpx.BaseTransport | None = None,
        clock: Clock = utc_now,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        daily_quota_threshold_s: float = DAILY_QUOTA_THRESHOLD_S,
    ) -> PinterestClient:
        """Return a client acting with `tokens`, refreshing them with `app` when it can."""
        endpoints = endpoints or PinterestEndpoints()
        auth = PinterestAuth(
            tokens,
            app=app,
            endpoints=endpoints,
            on_tokens=on_tokens,
            refresh_skew_s=refresh_skew_s,
            clock=clock,
        )
        return cls(
            auth,
            endpoints=endpoints,
            transport=transport,
            clock=clock,
            timeout=timeout,
            daily_quota_threshold_s=daily_quota_threshold_s,
        )

    @property
    def tokens(self) -> TokenSet | None:
        """Return the tokens in use now (after any rotation), if this client refreshes its own."""
        return self.auth.tokens if isinstance(self.auth, PinterestAuth) else None

    def close(self) -> None:
        """Close the connection pool."""
        self.session.close()

    def __enter__(self) -> PinterestClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def authorize_url(
        self,
        client_id: str,
        redirect_uri: str,
        state: str,
        code_challenge: str,
        scopes: Iterable[str] = LEAD_ADS_SCOPES,
    ) -> str:
        """Return the authorize page URL of this client's endpoints (see `oauth.authorize_url`)."""
        return authorize_url(
            client_id, redirect_uri, scopes, state, code_challenge, endpoints=self.endpoints
        )

    def exchange_code(
        self, app: OAuthApp, code: str, redirect_uri: str, code_verifier: str | None = None
    ) -> TokenSet:
        """Trade an authorization code (with its PKCE verifier) for tokens."""
        return exchange_code(
            self.session.http,
            self.endpoints,
            app,
            code,
            redirect_uri,
            code_verifier,
            clock=self._clock,
        )

    def client_credentials(
        self, app: OAuthApp, scopes: Iterable[str] = LEAD_ADS_SCOPES
    ) -> TokenSet:
        """Get an app token for `scopes` (no user, no refresh token)."""
        return client_credentials(self.session.http, self.endpoints, app, scopes, clock=self._clock)
