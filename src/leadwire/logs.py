"""Logging set-up, and the one function every logged URL passes through."""

from __future__ import annotations

import logging
import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx

# Secrets, and personal data that lands in query strings (duplicate look-ups, searches).
_SECRET_QUERY_KEYS = frozenset(
    {"access_token", "refresh_token", "code", "client_secret", "token", "key", "api_key", "secret"}
    | {"email", "number", "phone", "query"}
)
_BEARER = re.compile(r"(?i)(bearer\s+)[^\s,;]+")
_PATH_SECRET = re.compile(r"(/hooks/[^/]+/)[^/?#]+")


def redact_url(url: str) -> str:
    """Return `url` with credentials, secret query values and hook secrets replaced by `***`."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        netloc = "***@" + netloc.rsplit("@", 1)[1]
    query = urlencode(
        [
            (k, "***" if k.lower() in _SECRET_QUERY_KEYS else v)
            for k, v in parse_qsl(parts.query, keep_blank_values=True)
        ],
        safe="*",
    )
    path = _PATH_SECRET.sub(r"\1***", parts.path)
    return urlunsplit((parts.scheme, netloc, path, query, parts.fragment))


def redact_text(text: str) -> str:
    """Return `text` with bearer tokens replaced by `***`."""
    return _BEARER.sub(r"\1***", text)


class _RedactHttpxUrls(logging.Filter):
    """Redact the URL httpx logs for every request (URLs may carry tokens, e.g. export links)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                redact_url(str(a)) if isinstance(a, httpx.URL) else a for a in record.args
            )
        return True


def install_httpx_redaction() -> None:
    """Make httpx's own request log lines pass their URLs through `redact_url` (idempotent)."""
    httpx_logger = logging.getLogger("httpx")
    if not any(isinstance(f, _RedactHttpxUrls) for f in httpx_logger.filters):
        httpx_logger.addFilter(_RedactHttpxUrls())


def configure_logging(level: str = "INFO") -> None:
    """Send one line per event to stderr at `level`."""
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    install_httpx_redaction()
    # Migrations say what they do at INFO on every start, httpx logs every request (the
    # connectors log their own, redacted, at DEBUG): only their problems are news.
    for noisy in ("alembic", "dbos", "httpx"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLogger().level))
