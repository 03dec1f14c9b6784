"""The public keys that verify the CRM's webhook signatures: outside `/contacts`, no auth."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse

from leadwire.crm.webhooks.signing import Scheme, SigningKeys, load_or_create_keys

router = APIRouter(prefix="/webhooks", include_in_schema=False)

PEM_MEDIA_TYPE = "application/x-pem-file"


def _keys(request: Request) -> SigningKeys:
    keys: SigningKeys | None = getattr(request.app.state, "webhook_keys", None)
    if keys is None:
        # The lifespan loads them on start; an app served without lifespan loads them here.
        keys = load_or_create_keys(request.app.state.crm.settings.data_dir)
        request.app.state.webhook_keys = keys
    return keys


@router.get("/public-key", operation_id="get-webhook-public-key")
def rsa_public_key(request: Request) -> PlainTextResponse:
    """Return the RSA public key (PEM) that verifies `x-wh-signature`."""
    return PlainTextResponse(_keys(request).public_pem(Scheme.RSA), media_type=PEM_MEDIA_TYPE)


@router.get("/public-key/ed25519", operation_id="get-webhook-public-key-ed25519")
def ed25519_public_key(request: Request) -> PlainTextResponse:
    """Return the Ed25519 public key (PEM) that verifies `x-ghl-signature`."""
    return PlainTextResponse(_keys(request).public_pem(Scheme.ED25519), media_type=PEM_MEDIA_TYPE)
