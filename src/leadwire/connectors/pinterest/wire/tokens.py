"""`OauthAccessTokenResponse` and its variants, as one lenient model."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class GrantType(StrEnum):
    """`grant_type` of `POST /oauth/token`."""

    AUTHORIZATION_CODE = "authorization_code"
    REFRESH_TOKEN = "refresh_token"  # noqa: S105 - a grant name, not a secret
    CLIENT_CREDENTIALS = "client_credentials"


class TokenResponse(BaseModel):
    """What `/oauth/token` answers; `refresh_token*` only for code and refresh grants.

    `response_type` is kept as text: the spec's discriminator maps `integration_refresh` too, which
    its own enum lacks.
    """

    model_config = ConfigDict(extra="ignore", frozen=True)

    access_token: str = Field(min_length=1, repr=False)
    token_type: str = "bearer"  # noqa: S105 - a scheme name, not a secret
    expires_in: int = Field(ge=0)
    scope: str = ""
    response_type: str | None = None
    refresh_token: str | None = Field(default=None, repr=False)
    refresh_token_expires_in: int | None = Field(default=None, ge=0)
    refresh_token_expires_at: int | None = Field(default=None, ge=0)
