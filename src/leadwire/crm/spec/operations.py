"""Operations we publish beyond the Contacts reference: OAuth 2.0 and the webhook keys.

The token shapes follow HighLevel's `apps/oauth.json` (contacts-api.md §10): a form-encoded
`POST /oauth/token` answering `GetAccessCodeSuccessfulResponseDto`; its errors are RFC 6749
§5.2's `{error, error_description}` (HighLevel's `UnAuthorized!` for a bad code or client).
`chooselocation` is the consent page a user's browser visits (also served at
`/v2/oauth/chooselocation`, the URL HighLevel's docs now give); `revoke` is RFC 7009's.
Pure data, applied and marked by `leadwire.crm.openapi`.
"""

from __future__ import annotations

from typing import Any

from leadwire.crm.spec.schemas import Schema, ref

FORM = "application/x-www-form-urlencoded"
HTML = "text/html"
PEM = "application/x-pem-file"


def _json(description: str, schema: Schema) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _html(description: str) -> dict[str, Any]:
    return {"description": description, "content": {HTML: {"schema": {"type": "string"}}}}


def _query(name: str, description: str, *, required: bool = False, **schema: Any) -> Schema:
    return {
        "name": name,
        "in": "query",
        "required": required,
        "description": description,
        "schema": {"type": "string", **schema},
    }


_OAUTH_ERRORS = {
    "400": _json(
        "RFC 6749 error: invalid_request, invalid_grant, unsupported_grant_type, invalid_scope",
        ref("LeadwireOAuthErrorDTO"),
    ),
    "401": _json(
        "Unknown client or wrong secret (`UnAuthorized!`, as HighLevel)",
        ref("LeadwireOAuthErrorDTO"),
    ),
    "413": _json("Payload Too Large", ref("LeadwirePayloadTooLargeDTO")),
}
_REDIRECT = {
    "description": "To `redirect_uri` with `code` and `state`, or with `error` "
    "(access_denied, invalid_scope, ...) once the client and redirect URI are known.",
    "headers": {"Location": {"schema": {"type": "string"}}},
}
_CONSENT_QUERY = [
    _query("response_type", "Always `code`.", required=True, enum=["code"]),
    _query("client_id", "The app's client id.", required=True),
    _query("redirect_uri", "One of the app's redirect URIs; default: its first."),
    _query("scope", "Space-separated: `contacts.readonly`, `contacts.write`."),
    _query("state", "Returned unchanged on the redirect."),
    _query("code_challenge", "PKCE (RFC 7636), optional."),
    _query("code_challenge_method", "`S256` (plain is refused).", enum=["S256"]),
]


def _public_key(operation_id: str, description: str) -> dict[str, Any]:
    return {
        "operationId": operation_id,
        "summary": "Get a webhook signing key",
        "description": description,
        "tags": ["Webhooks"],
        "responses": {
            "200": {
                "description": "The key, PEM-encoded.",
                "content": {PEM: {"schema": {"type": "string"}}},
            }
        },
    }


OPERATIONS_SCHEMAS: dict[str, Schema] = {
    "GetAccessCodebodyDto": {
        "type": "object",
        "description": "The client authenticates with `client_id` and `client_secret` here or "
        "with HTTP Basic.",
        "required": ["grant_type"],
        "properties": {
            "client_id": {"type": "string"},
            "client_secret": {"type": "string"},
            "grant_type": {"type": "string", "enum": ["authorization_code", "refresh_token"]},
            "code": {"type": "string", "description": "With `authorization_code`."},
            "code_verifier": {"type": "string", "description": "PKCE, if a challenge was sent."},
            "refresh_token": {
                "type": "string",
                "description": "With `refresh_token`. Refresh tokens rotate: each use returns "
                "a new one and retires the old; a retired one used again revokes the grant.",
            },
            "user_type": {"type": "string", "enum": ["Location"]},
            "redirect_uri": {"type": "string", "description": "As sent to chooselocation."},
        },
    },
    "GetAccessCodeSuccessfulResponseDto": {
        "type": "object",
        "required": ["access_token", "token_type", "expires_in", "scope"],
        "properties": {
            "access_token": {"type": "string"},
            "token_type": {"type": "string", "example": "Bearer"},
            "expires_in": {"type": "number", "example": 86399},
            "refresh_token": {"type": "string"},
            "scope": {"type": "string", "example": "contacts.readonly contacts.write"},
            "userType": {"type": "string", "enum": ["Location"]},
            "locationId": {"type": "string", "example": "l1C08ntBrFjLS0elLIYU"},
            "companyId": {"type": "string", "example": "l1C08ntBrFjLS0elLIYU"},
            "userId": {"type": "string", "nullable": True, "example": "l1C08ntBrFjLS0elLIYU"},
            "isBulkInstallation": {"type": "boolean"},
        },
    },
    "LeadwireOAuthErrorDTO": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {"type": "string", "example": "invalid_grant"},
            "error_description": {"type": "string"},
        },
    },
    "LeadwireApproveLocationBodyDto": {
        "type": "object",
        "required": ["decision"],
        "properties": {
            "decision": {"type": "string", "enum": ["approve", "deny"]},
            "locationId": {"type": "string", "description": "With `approve`."},
        },
    },
    "LeadwireRevokeTokenBodyDto": {
        "type": "object",
        "required": ["token"],
        "properties": {
            "token": {"type": "string", "description": "An access or refresh token."},
            "token_type_hint": {"type": "string", "enum": ["access_token", "refresh_token"]},
            "client_id": {"type": "string"},
            "client_secret": {"type": "string"},
        },
    },
}

OPERATIONS: dict[str, dict[str, dict[str, Any]]] = {
    "/oauth/chooselocation": {
        "get": {
            "operationId": "choose-location",
            "summary": "Authorize: choose a location",
            "description": "The consent page a user's browser opens: the app, the scopes it "
            "asks for, the locations to install it on.",
            "tags": ["OAuth"],
            "parameters": _CONSENT_QUERY,
            "responses": {
                "200": _html("The consent page."),
                "302": _REDIRECT,
                "400": _html("The app cannot be authorized (unknown client, bad redirect URI)."),
            },
        },
        "post": {
            "operationId": "approve-location",
            "summary": "Authorize: approve or deny",
            "description": "The consent page's form. Refused when posted from another site.",
            "tags": ["OAuth"],
            "parameters": _CONSENT_QUERY,
            "requestBody": {
                "required": True,
                "content": {FORM: {"schema": ref("LeadwireApproveLocationBodyDto")}},
            },
            "responses": {
                "302": _REDIRECT,
                "400": _html("The consent page again, saying what to choose."),
                "403": _html("Posted from another site."),
                "413": _OAUTH_ERRORS["413"],
            },
        },
    },
    "/oauth/token": {
        "post": {
            "operationId": "get-access-token",
            "summary": "Get Access Token",
            "description": "Exchange an authorization code, or a refresh token, for tokens.",
            "tags": ["OAuth"],
            "requestBody": {
                "required": True,
                "content": {FORM: {"schema": ref("GetAccessCodebodyDto")}},
            },
            "responses": {
                "200": _json("Successful response", ref("GetAccessCodeSuccessfulResponseDto")),
                **_OAUTH_ERRORS,
            },
        }
    },
    "/oauth/revoke": {
        "post": {
            "operationId": "revoke-token",
            "summary": "Revoke a token",
            "description": "RFC 7009: revoke an access or refresh token and the tokens of its "
            "grant. Answers 200 for a token that is unknown or already revoked.",
            "tags": ["OAuth"],
            "requestBody": {
                "required": True,
                "content": {FORM: {"schema": ref("LeadwireRevokeTokenBodyDto")}},
            },
            "responses": {"200": {"description": "Revoked (or was not valid)."}, **_OAUTH_ERRORS},
        }
    },
    "/webhooks/public-key": {
        "get": _public_key(
            "get-webhook-public-key",
            "RSA public key (PEM, SubjectPublicKeyInfo) that verifies `x-wh-signature`: "
            "RSA-SHA256 (PKCS#1 v1.5) over the raw body, base64 — HighLevel's legacy scheme.",
        )
    },
    "/webhooks/public-key/ed25519": {
        "get": _public_key(
            "get-webhook-public-key-ed25519",
            "Ed25519 public key (PEM) that verifies `x-ghl-signature`: Ed25519 over the raw "
            "body, base64 — HighLevel's current scheme.",
        )
    },
}

TAGS: list[dict[str, str]] = [
    {"name": "OAuth", "description": "OAuth 2.0 authorization of apps (leadwire's CRM)"},
    {"name": "Webhooks", "description": "Signing of webhook deliveries (leadwire's CRM)"},
]
