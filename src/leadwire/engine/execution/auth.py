"""Authenticating a CRM connection's requests from the app store, for long-lived clients.

The token is read (and an OAuth token refreshed when due, serialised across processes by the
connection's row lock, `engine.connections.tokens`) once and reused until it is near expiry;
a 401 re-reads the connection once — the user may have rotated its key, or another worker
refreshed its token — before the error stands.
"""

from __future__ import annotations

import threading
from collections.abc import Generator
from datetime import datetime, timedelta

import httpx

from leadwire.engine.connections.contacts import TIMEOUT, bearer_token
from leadwire.engine.connections.records import load_credentials
from leadwire.engine.connections.tokens import DEFAULT_REFRESH_SKEW_S
from leadwire.engine.secrets import KeyRing
from leadwire.store.app import AppStore
from leadwire.store.types import utcnow


class ConnectionAuth(httpx.Auth):
    """Bearer auth with a stored contacts connection's API key or OAuth access token."""

    def __init__(self, store: AppStore, ring: KeyRing, connection_id: str) -> None:
        self._store = store
        self._ring = ring
        self._connection_id = connection_id
        self._lock = threading.Lock()
        self._token: str | None = None
        self._expires_at: datetime | None = None
        self._refresh_http = httpx.Client(timeout=TIMEOUT, follow_redirects=False)

    def __repr__(self) -> str:
        return f"ConnectionAuth(connection_id={self._connection_id!r})"

    def close(self) -> None:
        """Close the client used for token refreshes."""
        self._refresh_http.close()

    def token(self, *, reload: bool = False) -> str:
        """Return the token to send, reading the connection if needed or asked."""
        with self._lock:
            due = self._expires_at is not None and self._expires_at - utcnow() < timedelta(
                seconds=DEFAULT_REFRESH_SKEW_S
            )
            if self._token is None or reload or due:
                credentials = load_credentials(self._store, self._ring, self._connection_id)
                self._token = bearer_token(self._store, self._ring, credentials, self._refresh_http)
                # After a refresh this is the old expiry: the next request reads the row
                # again and finds the new one.
                self._expires_at = credentials.connection.access_expires_at
            return self._token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        """Send with the current token; on a 401, once more with the connection re-read."""
        request.headers["Authorization"] = f"Bearer {self.token()}"
        response = yield request
        if response.status_code == 401:
            refused = request.headers["Authorization"]
            fresh = f"Bearer {self.token(reload=True)}"
            if fresh != refused:
                request.headers["Authorization"] = fresh
                yield request
