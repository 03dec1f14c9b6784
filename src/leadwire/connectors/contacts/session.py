"""The one httpx client of a Contacts connection: send, read the budget, classify, decode, log.

Every operation goes through `ContactsSession.call`, so every request carries `Version:
2021-07-28`, every response's rate budget reaches `on_budget`, failures are classified by one
rule (`errors.error_for_response`) and every request makes one log line with stable keys:

    contacts.request operation=get-contact method=GET url=… status=200 duration_ms=12
        trace_id=… burst_remaining=97 daily_remaining=199812

URLs pass through `leadwire.logs.redact_url`, and the query values that can hold personal data
(`email`, `number`, `phone`, `query`) are masked too — in our lines and in httpx's own.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx
from pydantic import BaseModel, ValidationError

from leadwire.connectors.contacts.errors import (
    ContactsRateLimitedError,
    error_for_response,
    error_for_transport,
)
from leadwire.connectors.contacts.oauth import Clock, utc_now
from leadwire.connectors.contacts.ratelimits import RateBudget, read_budget, retry_after_s
from leadwire.errors import BadRequestError, DecodeError, LeadwireError
from leadwire.logs import install_httpx_redaction, redact_url

logger = logging.getLogger(__name__)

M = TypeVar("M", bound=BaseModel)
BudgetCallback = Callable[[RateBudget], None]

API_VERSION = "2021-07-28"
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=5.0)
DEFAULT_LIMITS = httpx.Limits(max_connections=10, max_keepalive_connections=5, keepalive_expiry=30)
_PERSONAL_QUERY_KEYS = frozenset({"email", "number", "phone", "query"})
# HighLevel ids are 20 letters and digits; workflow ids are UUIDs. Nothing else may bend a path.
_PATH_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_IDEMPOTENCY_KEY = re.compile(r"[\x20-\x7e]{1,255}")


def safe_url(url: str) -> str:
    """Return `url` fit for a log: secrets redacted and personal query values masked."""
    parts = urlsplit(redact_url(url))
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    if not any(k.lower() in _PERSONAL_QUERY_KEYS for k, _ in pairs):
        return urlunsplit(parts)
    query = urlencode(
        [(k, "***" if k.lower() in _PERSONAL_QUERY_KEYS else v) for k, v in pairs], safe="*"
    )
    return urlunsplit(parts._replace(query=query))


class _MaskPersonalQuery(logging.Filter):
    """Mask personal query values in the URLs httpx logs for every request."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                safe_url(str(a))
                if isinstance(a, httpx.URL) or (isinstance(a, str) and a.startswith("http"))
                else a
                for a in record.args
            )
        return True


def install_query_masking() -> None:
    """Make httpx's request log lines mask personal query values (idempotent)."""
    install_httpx_redaction()
    httpx_logger = logging.getLogger("httpx")
    if not any(isinstance(f, _MaskPersonalQuery) for f in httpx_logger.filters):
        httpx_logger.addFilter(_MaskPersonalQuery())


def path_id(name: str, value: str, operation: str) -> str:
    """Return `value` if it can be an id; refuse anything that could bend a path."""
    if not isinstance(value, str) or _PATH_ID.fullmatch(value) is None:
        raise BadRequestError(f"{operation}: {name} must be 1-64 letters, digits, - or _")
    return value


def idempotency_header(key: str | None) -> dict[str, str]:
    """Return the `Idempotency-Key` header for `key` (1-255 printable ASCII), or none."""
    if key is None:
        return {}
    if _IDEMPOTENCY_KEY.fullmatch(key) is None:
        raise ValueError("an idempotency key is 1-255 printable ASCII characters")
    return {"Idempotency-Key": key}


class ContactsSession:
    """One `httpx.Client` with explicit timeouts and limits; tests inject `transport`."""

    def __init__(
        self,
        auth: httpx.Auth,
        *,
        base_url: str,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        limits: httpx.Limits = DEFAULT_LIMITS,
        transport: httpx.BaseTransport | None = None,
        clock: Clock = utc_now,
        on_budget: BudgetCallback | None = None,
    ) -> None:
        install_query_masking()
        self.clock = clock
        self.on_budget = on_budget
        self.last_budget: RateBudget | None = None
        self.http = httpx.Client(
            base_url=base_url.rstrip("/") + "/",
            auth=auth,
            timeout=timeout,
            limits=limits,
            transport=transport,
            headers={
                "Accept": "application/json",
                "Version": API_VERSION,
                "User-Agent": "leadwire-contacts/1",
            },
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
        params: Mapping[str, str | int | None] | None = None,
        body: dict[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """Send one API request and return its 2xx response, or raise the classified error."""
        query = {k: str(v) for k, v in (params or {}).items() if v is not None}
        request = self.http.build_request(
            method, path.lstrip("/"), params=query, json=body, headers=headers
        )
        url = safe_url(str(request.url))
        started = time.perf_counter()
        try:
            response = self.http.send(request)
        except httpx.RequestError as exc:
            error = error_for_transport(exc, operation)
            self._log(logging.WARNING, operation, method, url, None, started, error=error)
            raise error from None
        except LeadwireError as error:  # raised by the auth flow (a refused refresh)
            self._log(logging.WARNING, operation, method, url, None, started, error=error)
            raise
        budget = self._observe(response)
        if response.is_success:
            self._log(logging.DEBUG, operation, method, url, response, started, budget=budget)
            return response
        response.read()
        failure = error_for_response(
            response,
            operation,
            retry_after_s=retry_after_s(response.headers, budget, self.clock()),
            budget=budget,
            after_refresh=any(r.status_code == 401 for r in response.history),
        )
        self._log(
            logging.WARNING, operation, method, url, response, started, budget=budget, error=failure
        )
        raise failure

    def _observe(self, response: httpx.Response) -> RateBudget | None:
        budget = read_budget(response.headers, self.clock())
        if budget is None:
            return None
        self.last_budget = budget
        if self.on_budget is not None:
            try:
                self.on_budget(budget)
            except Exception:
                # The answer is already here: a broken observer must not turn it into a failure.
                logger.exception("contacts.budget_callback_failed")
        return budget

    @staticmethod
    def _log(
        level: int,
        operation: str,
        method: str,
        url: str,
        response: httpx.Response | None,
        started: float,
        *,
        budget: RateBudget | None = None,
        error: LeadwireError | None = None,
    ) -> None:
        if not logger.isEnabledFor(level):
            return
        wait = error.retry_after_s if isinstance(error, ContactsRateLimitedError) else None
        logger.log(
            level,
            "contacts.request operation=%s method=%s url=%s status=%s duration_ms=%d "
            "trace_id=%s burst_remaining=%s daily_remaining=%s error=%s retry_after_s=%s",
            operation,
            method,
            url,
            response.status_code if response is not None else None,
            round((time.perf_counter() - started) * 1000),
            response.headers.get("x-trace-id") if response is not None else None,
            budget.burst_remaining if budget is not None else None,
            budget.daily_remaining if budget is not None else None,
            type(error).__name__ if error is not None else None,
            None if wait is None else round(wait, 1),
        )

    def decode(self, response: httpx.Response, model: type[M], operation: str) -> M:
        """Return the response body as `model`, or raise `DecodeError` naming what is wrong."""
        try:
            return model.model_validate_json(response.content)
        except ValidationError as exc:
            problem = exc.errors()[0]
            where = ".".join(str(p) for p in problem["loc"]) or "body"
            raise DecodeError(
                f"{operation}: unexpected response at {where}: {problem['msg']}"
            ) from None

    def fetch(
        self,
        method: str,
        path: str,
        model: type[M],
        operation: str,
        *,
        params: Mapping[str, str | int | None] | None = None,
        body: dict[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> M:
        """Send a request and decode its answer as `model`."""
        response = self.call(method, path, operation, params=params, body=body, headers=headers)
        return self.decode(response, model, operation)
