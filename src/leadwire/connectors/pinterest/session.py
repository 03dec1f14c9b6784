"""The one httpx client of a Pinterest connection: send, classify failures, decode, log.

Every operation goes through `PinterestSession.call`, so errors are classified by one rule
(`errors.error_for_response`) and every request makes one log line with a redacted URL.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, TypeAdapter, ValidationError

from leadwire.connectors.pinterest.errors import (
    PinterestApiError,
    PinterestRateLimitedError,
    error_for_response,
    error_for_transport,
)
from leadwire.connectors.pinterest.oauth import Clock, PinterestEndpoints, utc_now
from leadwire.connectors.pinterest.ratelimits import DAILY_QUOTA_THRESHOLD_S, describe_wait
from leadwire.errors import BadRequestError, DecodeError
from leadwire.logs import install_httpx_redaction, redact_url

logger = logging.getLogger(__name__)

M = TypeVar("M")

DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=5.0)
DEFAULT_LIMITS = httpx.Limits(max_connections=10, max_keepalive_connections=5, keepalive_expiry=30)
MAX_EXPORT_BYTES = 64 * 1024 * 1024
_ID = re.compile(r"[0-9]{1,19}")

QueryValue = str | int | bool | Sequence[str]
Query = Mapping[str, QueryValue | None]


def path_id(name: str, value: str, operation: str) -> str:
    """Return `value` if it is a Pinterest id (digits); refuse anything that could bend a path."""
    if not isinstance(value, str) or _ID.fullmatch(value) is None:
        raise BadRequestError(f"{operation}: {name} must be a string of digits")
    return value


def _query(params: Query | None) -> httpx.QueryParams:
    pairs: list[tuple[str, str | int | float | bool | None]] = []
    for key, value in (params or {}).items():
        if value is None:
            continue
        if isinstance(value, bool):
            pairs.append((key, "true" if value else "false"))
        elif isinstance(value, str | int):
            pairs.append((key, str(value)))
        else:  # arrays are exploded: `campaign_ids=1&campaign_ids=2`, as the spec's query style
            pairs.extend((key, str(item)) for item in value)
    return httpx.QueryParams(pairs)


class PinterestSession:
    """One `httpx.Client` with explicit timeouts and limits; tests inject `transport`."""

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
        install_httpx_redaction()
        self.endpoints = endpoints or PinterestEndpoints()
        self.clock = clock
        self._daily_s = daily_quota_threshold_s
        self.http = httpx.Client(
            base_url=self.endpoints.api_base_url.rstrip("/") + "/",
            auth=auth,
            timeout=timeout,
            limits=limits,
            transport=transport,
            headers={"Accept": "application/json", "User-Agent": "leadwire-pinterest/1"},
            follow_redirects=False,
        )

    def close(self) -> None:
        """Close the connection pool."""
        self.http.close()

    def call(
        self,
        method: str,
        path: str,
        operation: str,
        *,
        params: Query | None = None,
        body: BaseModel | Sequence[BaseModel] | None = None,
    ) -> httpx.Response:
        """Send one API request and return its 2xx response, or raise the classified error."""
        content: bytes | None = None
        if isinstance(body, BaseModel):
            content = body.model_dump_json(exclude_none=True).encode()
        elif body is not None:
            adapter = TypeAdapter(list[Any])
            content = adapter.dump_json(
                [m.model_dump(mode="json", exclude_none=True) for m in body]
            )
        headers = {"Content-Type": "application/json"} if content is not None else None
        request = self.http.build_request(
            method, path.lstrip("/"), params=_query(params), content=content, headers=headers
        )
        return self._send(request, operation)

    def _send(self, request: httpx.Request, operation: str, **kwargs: Any) -> httpx.Response:
        url = redact_url(str(request.url))
        try:
            response = self.http.send(request, **kwargs)
        except httpx.TransportError as exc:
            logger.warning(
                "pinterest.unavailable operation=%s method=%s url=%s error=%s",
                operation,
                request.method,
                url,
                type(exc).__name__,
            )
            raise error_for_transport(exc, operation) from None
        if response.is_success:
            logger.debug(
                "pinterest.response operation=%s method=%s url=%s status=%d",
                operation,
                request.method,
                url,
                response.status_code,
            )
            return response
        response.read()
        after_refresh = any(r.status_code == 401 for r in response.history)
        error = error_for_response(
            response,
            operation,
            self.clock(),
            daily_quota_threshold_s=self._daily_s,
            after_refresh=after_refresh,
        )
        self._log_error(error, operation, request.method, url)
        raise error

    @staticmethod
    def _log_error(error: PinterestApiError, operation: str, method: str, url: str) -> None:
        if isinstance(error, PinterestRateLimitedError):
            wait = error.retry_after_s
            logger.warning(
                "pinterest.rate_limited operation=%s url=%s code=%s retry_after_s=%s "
                "daily_quota=%s%s",
                operation,
                url,
                error.code,
                None if wait is None else round(wait),
                error.is_daily_quota,
                f" note=Pinterest daily quota exhausted; resets in {describe_wait(wait)}"
                if error.is_daily_quota and wait is not None
                else "",
            )
            return
        logger.warning(
            "pinterest.failed operation=%s method=%s url=%s status=%s code=%s error=%s",
            operation,
            method,
            url,
            error.http_status,
            error.code,
            type(error).__name__,
        )

    def decode(self, response: httpx.Response, model: type[M], operation: str) -> M:
        """Return the response body as `model`, or raise `DecodeError` naming what is wrong."""
        try:
            return TypeAdapter(model).validate_json(response.content)
        except ValidationError as exc:
            problem = exc.errors()[0]
            where = ".".join(str(p) for p in problem["loc"]) or "body"
            raise DecodeError(
                f"{operation}: unexpected response at {where}: {problem['msg']}"
            ) from None

    def fetch(self, path: str, model: type[M], operation: str, *, params: Query | None = None) -> M:
        """GET `path` and decode it as `model`."""
        return self.decode(self.call("GET", path, operation, params=params), model, operation)

    def download(self, url: str, operation: str, *, max_bytes: int = MAX_EXPORT_BYTES) -> bytes:
        """GET a file at an absolute URL, at most `max_bytes`, following redirects.

        The bearer token goes only to the API's own origin: a presigned storage URL elsewhere
        must not receive it (and S3-style stores reject a request carrying two auth schemes).
        """
        target = httpx.URL(url)
        if target.scheme not in ("http", "https"):
            raise BadRequestError(f"{operation}: download URL is not http(s)")
        api = httpx.URL(self.endpoints.api_base_url)
        same_origin = (target.scheme, target.host, target.port) == (api.scheme, api.host, api.port)
        request = self.http.build_request("GET", target, headers={"Accept": "*/*"})
        kwargs: dict[str, Any] = {"stream": True, "follow_redirects": True}
        if not same_origin:
            kwargs["auth"] = None
        response = self._send(request, operation, **kwargs)
        try:
            chunks: list[bytes] = []
            total = 0
            for chunk in response.iter_bytes():
                total += len(chunk)
                if total > max_bytes:
                    raise DecodeError(f"{operation}: the file exceeds {max_bytes} bytes")
                chunks.append(chunk)
        except httpx.TransportError as exc:
            raise error_for_transport(exc, operation) from None
        finally:
            response.close()
        logger.info("pinterest.downloaded operation=%s bytes=%d", operation, total)
        return b"".join(chunks)
