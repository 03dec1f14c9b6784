"""The CRM event receiver: `POST /hooks/crm/{secret}` turns a signed CRM event into durable runs.

Like the Pinterest receiver it answers 200 only after every run the event starts is committed.
A CRM retries 429 and 5xx (the embedded one also 408; HighLevel every non-2xx), hence:

- 200 `{accepted, duplicates, flows}`: recorded, recorded before (a redelivery), or no flow
  takes the event (another type or location: `flows` is 0) — done;
- 400: the body is not an event, names no contact, or its signed `timestamp` is outside the
  replay window — retrying the same body cannot help;
- 401: the signature header is missing or does not verify with the hook's public key;
- 404: no hook has this secret; 413: the body is over 1 MiB;
- 503 with `Retry-After`: a flow that takes this type of event cannot run (no CRM connection,
  or an ambiguous one), or the database failed.

Each answer is logged once with its reason — hook id, event type and id, trace id; never the
URL secret or the event's fields. Signature checks, decoding and the database run in a worker
thread, never on the event loop.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable, Mapping
from datetime import datetime

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from leadwire.crm.webhooks.signing import ED25519_HEADER, RSA_HEADER, verify_signature
from leadwire.engine.execution.cache import TtlCache
from leadwire.engine.runtime import GroupIntake
from leadwire.engine.sources.crm_events import (
    CRM_HOOK_PATH,
    CrmEventIn,
    CrmHook,
    Scheme,
    decode_event,
    event_runs,
    find_crm_hook,
)
from leadwire.engine.sources.targets import FlowTarget, load_targets
from leadwire.errors import DecodeError
from leadwire.store.models.triggers import CrmHookRow
from leadwire.store.types import utcnow
from leadwire.web.errors import error_body, trace_id
from leadwire.web.hook_cache import DeliveryStamps
from leadwire.web.receiver import RETRY_AFTER_RECORDING_S, RETRY_AFTER_ROUTING_S, Verdict
from leadwire.web.services import WebServices

log = logging.getLogger(__name__)

HEADERS = {Scheme.ED25519: ED25519_HEADER, Scheme.RSA: RSA_HEADER}
DEFAULT_TTL_S = 2.0
TOUCH_INTERVAL_S = 60.0


class CrmEventReceiver:
    """Verifies, decodes, routes and durably records CRM events; called in a worker thread."""

    def __init__(
        self,
        read_sessions: Callable[[], Session],
        write_sessions: Callable[[], Session],
        intake: GroupIntake,
        *,
        ttl_s: float = DEFAULT_TTL_S,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._read = read_sessions
        self._write = write_sessions
        self._intake = intake
        self._clock = clock
        self._ttl_s = ttl_s
        # Found hooks only, keyed by the secret's hash (no URL secret outlives its request);
        # a removed hook stops answering within `ttl_s`.
        self._hooks: TtlCache[str, CrmHook] | None = TtlCache(1024, ttl_s) if ttl_s > 0 else None
        self._lock = threading.Lock()
        self._targets: list[FlowTarget] = []
        self._read_at: float | None = None
        self._stamps = DeliveryStamps(write_sessions, CrmHookRow, interval_s=TOUCH_INTERVAL_S)

    def _hook(self, secret: str) -> CrmHook | None:
        digest = hashlib.sha256(secret.encode()).hexdigest()
        cached = self._hooks.get(digest) if self._hooks is not None else None
        if cached is not None:
            return cached
        with self._read() as session:
            hook = find_crm_hook(session, secret)
        if hook is not None and self._hooks is not None:
            self._hooks.put(digest, hook)
        return hook

    def _live(self) -> list[FlowTarget]:
        with self._lock:
            now = time.monotonic()
            if self._read_at is None or now - self._read_at >= self._ttl_s:
                with self._read() as session:
                    self._targets = load_targets(session, trigger_types={"crm_event"})
                self._read_at = now
            return self._targets

    def receive(
        self, secret: str, body: bytes, headers: Mapping[str, str | None], trace: str
    ) -> Verdict:
        """Handle one event delivered to the hook of `secret`; return the answer to send."""
        try:
            hook = self._hook(secret)
        except Exception:
            log.exception("crm_events.hook_lookup_failed trace_id=%s", trace)
            return _unavailable(None, "could not look the hook up; retry later", trace)
        if hook is None:
            log.warning("crm_events.unknown_hook trace_id=%s bytes=%d", trace, len(body))
            return Verdict(404, error_body("not_found", "no such hook", trace))
        header = HEADERS[hook.scheme]
        signature = headers.get(header)
        if not signature or not verify_signature(hook.public_key, body, signature):
            reason = "missing" if not signature else "does not verify"
            log.warning(
                "crm_events.bad_signature hook=%s trace_id=%s reason=%s %s",
                hook.id,
                trace,
                header,
                reason,
            )
            detail = f"the {header} signature is {reason} with this hook's {hook.scheme} key"
            return Verdict(401, error_body("bad_signature", detail, trace), hook.id)
        try:
            event = decode_event(body, now=self._clock())
        except DecodeError as exc:
            log.warning("crm_events.undecodable hook=%s trace_id=%s reason=%s", hook.id, trace, exc)
            return Verdict(400, error_body("bad_event", str(exc), trace), hook.id)
        return self._record(hook, event, trace)

    def _record(self, hook: CrmHook, event: CrmEventIn, trace: str) -> Verdict:
        where = f"hook={hook.id} event={event.type} event_id={event.event_id} trace_id={trace}"
        try:
            runs = event_runs(self._live(), event) if event.is_known else []
        except ValueError as exc:
            log.error("crm_events.unroutable %s reason=%s", where, exc)
            detail = f"a flow this event triggers cannot run: {exc}"
            return _unavailable(hook.id, detail, trace, RETRY_AFTER_ROUTING_S)
        except Exception:
            log.exception("crm_events.routing_failed %s", where)
            return _unavailable(hook.id, "could not read the flows; retry later", trace)
        accepted = duplicates = 0
        if runs:
            try:
                report = self._intake.accept(runs)
            except Exception:
                log.exception("crm_events.record_failed %s", where)
                return _unavailable(hook.id, "could not record the event; retry later", trace)
            accepted, duplicates = len(report.accepted), len(report.duplicates)
        if not runs:
            log.info("crm_events.unmatched %s reason=no published flow takes it", where)
        elif accepted:
            log.info("crm_events.accepted %s runs=%d", where, accepted)
        else:
            log.info("crm_events.duplicate %s reason=already recorded", where)
        body = {"accepted": accepted, "duplicates": duplicates, "flows": len(runs)}
        return Verdict(200, body, hook.id)

    def is_touch_due(self, hook_id: str) -> bool:
        """Say whether the hook's `last_delivery_at` is due a write; claim it if so."""
        return self._stamps.is_due(hook_id)

    def touch(self, hook_id: str) -> None:
        """Set the hook's `last_delivery_at` to now (best effort: a failure is only logged)."""
        self._stamps.touch(hook_id)


def _unavailable(
    hook_id: str | None, detail: str, trace: str, retry_after_s: int = RETRY_AFTER_RECORDING_S
) -> Verdict:
    headers = {"Retry-After": str(retry_after_s)}
    return Verdict(503, error_body("unavailable", detail, trace), hook_id, headers)


_create_lock = threading.Lock()


def receiver_of(app: FastAPI) -> CrmEventReceiver:
    """Return the app's CRM event receiver, made on first use from its services."""
    found: CrmEventReceiver | None = getattr(app.state, "crm_events", None)
    if found is None:
        with _create_lock:
            found = getattr(app.state, "crm_events", None)
            if found is None:
                services: WebServices = app.state.services
                store = services.store
                found = CrmEventReceiver(store.read_sessions, store.sessions, services.group)
                app.state.crm_events = found
    return found


router = APIRouter()


@router.post(CRM_HOOK_PATH, include_in_schema=False)
async def receive_event(secret: str, request: Request) -> JSONResponse:
    """Receive one CRM event (see the module docstring for the answers)."""
    receiver = receiver_of(request.app)
    body = bytearray()
    async for chunk in request.stream():  # the gate cuts it off past its limit (413)
        body += chunk
    headers = {name: request.headers.get(name) for name in HEADERS.values()}
    verdict = await run_in_threadpool(
        receiver.receive, secret, bytes(body), headers, trace_id(request)
    )
    response = JSONResponse(verdict.body, verdict.status, headers=verdict.headers)
    if verdict.hook_id is not None and receiver.is_touch_due(verdict.hook_id):
        response.background = BackgroundTask(receiver.touch, verdict.hook_id)
    return response
