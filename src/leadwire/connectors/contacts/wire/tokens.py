"""`POST /oauth/token` of HighLevel: the answer (GetAccessCodeSuccessfulResponseDto) and errors."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class GrantType(StrEnum):
    """`grant_type` of `POST /oauth/token`."""

    AUTHORIZATION_CODE = "authorization_code"
    REFRESH_TOKEN = "refresh_token"  # noqa: S105 - a grant name, not a secret


class TokenResponse(BaseModel):
    """What `/oauth/token` answers; the field names are the wire's (mixed snake and camel)."""

    model_config = ConfigDict(
        extra="ignore", frozen=True, validate_by_name=True, validate_by_alias=True
    )

    access_token: str = Field(min_length=1, repr=False)
    token_type: str = "Bearer"  # noqa: S105 - a scheme name, not a secret
    expires_in: int = Field(ge=0)
    refresh_token: str | None = Field(default=None, repr=False)
    scope: str = ""
    user_type: str | None = Field(default=None, alias="userType")
    location_id: str | None = Field(default=None, alias="locationId")
    company_id: str | None = Field(default=None, alias="companyId")
    user_id: str | None = Field(default=None, alias="userId")


class TokenError(BaseModel):
    """An OAuth error body: RFC 6749's `{error, error_description}`, or NestJS's `message`."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    error: str | None = None
    error_description: str | None = None
    message: str | list[str] | None = None
