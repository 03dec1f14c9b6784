"""The Starlette side of Authlib's OAuth 2.0 server: requests in, responses out.

Authlib ships server integrations for Flask and Django only. Its protocol classes need two
things from a framework: an `OAuth2Request` (method, URL, headers, parameters) and a way to turn
its `(status, body, headers)` answers into responses. Handlers here are sync (they run in the
thread pool and use sync sessions), so the body is read beforehand, in an async dependency.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from authlib.oauth2.rfc6749 import OAuth2Payload, OAuth2Request
from fastapi import Request
from starlette.datastructures import Headers
from starlette.responses import Response

FORM = "application/x-www-form-urlencoded"

Params = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class FormRequest:
    """An HTTP request read in full: what Authlib needs, before a sync handler runs."""

    method: str
    url: str
    headers: Headers
    query: Params
    # The urlencoded body's fields; empty when the body is not a form (see `is_form`).
    body: Params
    content_type: str
    # Why the body could not be read as a form (bad encoding), if it could not.
    body_error: str | None = None

    @property
    def is_form(self) -> bool:
        """Tell whether the body was sent as `application/x-www-form-urlencoded`."""
        return self.content_type == FORM and self.body_error is None

    def malformed(self) -> str | None:
        """Say what makes the parameters unusable (bad encoding, NUL characters), if anything."""
        if self.body_error is not None:
            return self.body_error
        if any("\x00" in k or "\x00" in v for k, v in self.query + self.body):
            # No client sends NUL in OAuth parameters; PostgreSQL cannot even compare them.
            return "parameters must not contain NUL characters"
        return None

    def field(self, name: str) -> str | None:
        """Return the first value of a body field."""
        return next((v for k, v in self.body if k == name), None)


async def read_form(request: Request) -> FormRequest:
    """Read the request and, if it is urlencoded, parse its body (a FastAPI dependency)."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    body: Params = ()
    body_error = None
    if content_type == FORM:
        raw = await request.body()
        try:
            body = tuple(parse_qsl(raw.decode("utf-8"), keep_blank_values=True))
        except UnicodeDecodeError:
            body_error = "the form body is not valid UTF-8"
    return FormRequest(
        method=request.method,
        url=str(request.url),
        headers=request.headers,
        query=tuple(request.query_params.multi_items()),
        body=body,
        content_type=content_type,
        body_error=body_error,
    )


class _Payload(OAuth2Payload):  # type: ignore[misc]
    """The parameters Authlib reads; the first of repeated values wins, `datalist` has all."""

    def __init__(self, params: Params) -> None:
        self._data: dict[str, str] = {}
        self._datalist: defaultdict[str, list[str]] = defaultdict(list)
        for key, value in params:
            self._data.setdefault(key, value)
            self._datalist[key].append(value)

    @property
    def data(self) -> dict[str, str]:
        return self._data

    @property
    def datalist(self) -> defaultdict[str, list[str]]:
        return self._datalist


class CrmOAuth2Request(OAuth2Request):  # type: ignore[misc]
    """An `OAuth2Request` over one set of parameters: the query (authorization endpoint) or
    the form body (token and revocation endpoints) — RFC 6749 puts them there, not both.

    Authlib refuses plain http here except on loopback addresses (RFC 8252 §7.3), so a CRM
    reached over the network must sit behind TLS.
    """

    def __init__(self, source: FormRequest, params: Params) -> None:
        super().__init__(source.method, source.url, headers=source.headers)
        self.payload = _Payload(params)

    @property
    def args(self) -> dict[str, str]:
        data: dict[str, str] = self.payload.data
        return data

    @property
    def form(self) -> dict[str, str]:
        data: dict[str, str] = self.payload.data
        return data


def printable(value: str, limit: int = 60) -> str:
    """Return `value` fit for an `error_description`, which RFC 6749 §5.2 limits to printable
    ASCII without `"` and `\\` (Authlib raises on anything else): others become `?`."""
    kept = "".join(c if " " <= c <= "~" and c not in '"\\' else "?" for c in value[:limit])
    return kept + ("..." if len(value) > limit else "")


def to_response(status: int, body: Any, headers: list[tuple[str, str]]) -> Response:
    """Return the Starlette response for one of Authlib's `(status, body, headers)` answers."""
    content = json.dumps(body).encode() if isinstance(body, dict) else (body or b"")
    return Response(content, status_code=status, headers=dict(headers))
