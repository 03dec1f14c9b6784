"""Calling outside webhooks of a flow: signed with the flow's secret, classified like CRM calls.

The body is sent exactly as signed; `X-Leadwire-Delivery` (the call's idempotency key) is the
same on every retry so the receiver can dedupe. 429, 5xx and timeouts are retried; other
refusals need a person.
"""

from __future__ import annotations

import threading

import httpx
from sqlalchemy import select

from leadwire.backoff import parse_retry_after
from leadwire.engine.flows.signing import DELIVERY_HEADER, FLOW_HEADER, signature_headers
from leadwire.engine.flows.store import webhook_secret
from leadwire.engine.planning import WebhookCall
from leadwire.engine.runtime import StepResult
from leadwire.engine.secrets import KeyRing
from leadwire.errors import (
    BadRequestError,
    NotFoundError,
    RateLimitedError,
    UpstreamUnavailableError,
)
from leadwire.logs import redact_url
from leadwire.store.app import AppStore
from leadwire.store.models.flows import FlowRow
from leadwire.store.types import utcnow

TIMEOUT = httpx.Timeout(10.0, connect=5.0)


class WebhookSender:
    """Sends a flow's webhook calls; the flows' secrets are read once and kept in memory."""

    def __init__(
        self,
        store: AppStore,
        ring: KeyRing,
        *,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._store = store
        self._ring = ring
        self._secrets: dict[str, str] = {}
        self._lock = threading.Lock()
        self._http = httpx.Client(timeout=TIMEOUT, transport=transport, follow_redirects=False)

    def close(self) -> None:
        """Close the HTTP client."""
        self._http.close()

    def _secret(self, flow_id: str) -> str:
        with self._lock:
            secret = self._secrets.get(flow_id)
            if secret is None:
                with self._store.read_sessions() as session:
                    row = session.scalars(select(FlowRow).where(FlowRow.id == flow_id)).first()
                    if row is None:
                        raise NotFoundError(f"flow {flow_id} no longer exists")
                    secret = webhook_secret(row, self._ring)
                self._secrets[flow_id] = secret
            return secret

    def send(self, flow_id: str, version: int, call: WebhookCall) -> StepResult:
        """Make one signed call; raise a classified error unless it answered 2xx."""
        body = call.body_bytes()
        headers = {
            "Content-Type": "application/json",
            DELIVERY_HEADER: call.idempotency_key,
            FLOW_HEADER: f"{flow_id}/v{version}",
            **call.headers,
            **signature_headers(body, self._secret(flow_id)),
        }
        where = f"webhook {redact_url(call.url)}"
        try:
            response = self._http.request(call.method, call.url, content=body, headers=headers)
        except httpx.TimeoutException:
            raise UpstreamUnavailableError(f"{where}: timed out") from None
        except httpx.TransportError as exc:
            raise UpstreamUnavailableError(f"{where}: {type(exc).__name__}") from None
        status = response.status_code
        if response.is_success:
            return StepResult(summary=f"webhook: {status}")
        wait = parse_retry_after(response.headers.get("Retry-After"), utcnow())
        if status == 429:
            raise RateLimitedError(f"{where}: answered 429", retry_after_s=wait)
        if status >= 500 or status == 408:
            raise UpstreamUnavailableError(f"{where}: answered {status}", retry_after_s=wait)
        raise BadRequestError(f"{where}: answered {status}")
