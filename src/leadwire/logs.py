"""Logging set-up, and the one function every logged URL passes through."""

from __future__ import annotations

import logging
import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

_SECRET_QUERY_KEYS = frozenset(
    {"access_token", "refresh_token", "code", "client_secret", "token", "key", "api_key", "secret"}
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


def configure_logging(level: str = "INFO") -> None:
    """Send one line per event to stderr at `level`."""
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    # Migrations say what they do at INFO on every start; only their problems are news.
    logging.getLogger("alembic").setLevel(max(logging.WARNING, logging.getLogger().level))
