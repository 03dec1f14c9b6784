"""Signing webhook calls: HMAC-SHA256 of the exact body bytes under the flow's secret.

Headers of every webhook call (docs/flows.md):

- `X-Leadwire-Signature: sha256=<hex>` — HMAC-SHA256 of the raw request body, keyed with the
  flow's webhook secret (`leadwire flows webhook-secret FLOW`). Verify it over the bytes
  received, before parsing, with a constant-time comparison (`verify_signature`).
- `X-Leadwire-Delivery` — the call's idempotency key: the same on every retry of the call, so a
  receiver dedupes on it.
- `X-Leadwire-Flow` — `<flow id>/v<version>`.
"""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-Leadwire-Signature"
DELIVERY_HEADER = "X-Leadwire-Delivery"
FLOW_HEADER = "X-Leadwire-Flow"
_SCHEME = "sha256="


def sign_body(body: bytes, secret: str) -> str:
    """Return the `X-Leadwire-Signature` value of `body`."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return _SCHEME + digest


def signature_headers(body: bytes, secret: str) -> dict[str, str]:
    """Return the header to add to a webhook call when it is sent."""
    return {SIGNATURE_HEADER: sign_body(body, secret)}


def verify_signature(body: bytes, secret: str, header: str | None) -> bool:
    """Return whether `header` is the signature of `body` under `secret`."""
    if header is None or not header.startswith(_SCHEME):
        return False
    return hmac.compare_digest(sign_body(body, secret), header.strip())
