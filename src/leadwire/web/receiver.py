"""The receiver: `POST /hooks/pinterest/{secret}` turns an encrypted delivery into durable runs.

It answers 200 only after every run the delivery starts is committed (`GroupIntake.accept`
returns after the commit), so an acknowledged lead is never lost. Pinterest retries 429 and
5xx and drops other 4xx, hence:

- 200 `{accepted, duplicates, leads, unmatched}`: recorded, or recorded before, or no flow
  takes the lead (`unmatched`, logged as a warning) — done;
- 400: the body cannot be decoded with the hook's key — dropped;
- 404: no hook has this secret — dropped; 413: the body is over 1 MiB — dropped;
- 500: the hook's delivery key cannot be opened (the key ring is lost) — retried;
- 503 with `Retry-After`: a flow the lead triggers cannot run, or the database failed (looking
  the hook up, reading the flows, recording the runs) — retried.

Each answer is logged once with its reason — hook id, lead ids, trace id; never the URL
secret or anything a lead answered. Everything blocking (database, decryption) runs in a
worker thread, never on the event loop.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from leadwire.connectors.pinterest.envelope import decode_delivery
from leadwire.connectors.pinterest.leads import Lead
from leadwire.engine.runtime import GroupIntake, LeadIn
from leadwire.engine.sources import HOOK_PATH, FlowRoutes, RoutingError
from leadwire.errors import DecodeError
from leadwire.web.errors import error_body, trace_id
from leadwire.web.hook_cache import HookDirectory, KeyUnavailableError

log = logging.getLogger(__name__)

# Seconds Pinterest is asked to wait: a flow needing a person takes minutes to fix; a
# database hiccup passes in seconds.
RETRY_AFTER_ROUTING_S = 60
RETRY_AFTER_RECORDING_S = 5


@dataclass(frozen=True, slots=True)
class Verdict:
    """The answer to one delivery, and the hook it reached (if it reached one)."""

    status: int
    body: dict[str, Any]
    hook_id: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


def _ids(leads: Sequence[Lead] | Sequence[str]) -> str:
    shown = [lead if isinstance(lead, str) else lead.lead_id for lead in leads[:20]]
    more = len(leads) - len(shown)
    return ",".join(shown) + (f",+{more}" if more > 0 else "")


class Receiver:
    """Decodes, routes and durably records deliveries; called in a worker thread."""

    def __init__(self, hooks: HookDirectory, routes: FlowRoutes, intake: GroupIntake) -> None:
        self._hooks = hooks
        self._routes = routes
        self._intake = intake

    def receive(self, secret: str, body: bytes, trace: str) -> Verdict:
        """Handle one delivery to the hook of `secret`; return the answer to send."""
        try:
            hook = self._hooks.find(secret)
        except KeyUnavailableError as exc:
            log.critical(
                "receiver.key_unavailable hook=%s trace_id=%s reason=%s: every delivery to this "
                "hook fails (and Pinterest retries) until the key that sealed its delivery key "
                "is back in the key ring (LEADWIRE_SECRET_KEYS or data_dir/keys.json)",
                exc.hook_id,
                trace,
                exc,
            )
            detail = "this hook's delivery key cannot be opened; the operator must restore it"
            return Verdict(500, error_body("key_unavailable", detail, trace))
        except Exception:
            log.exception("receiver.hook_lookup_failed trace_id=%s", trace)
            detail = "could not look the hook up; retry later"
            return self._unavailable(None, detail, RETRY_AFTER_RECORDING_S, trace)
        if hook is None:
            log.warning("receiver.unknown_hook trace_id=%s bytes=%d", trace, len(body))
            return Verdict(404, error_body("not_found", "no such hook", trace))
        try:
            leads = decode_delivery(body, hook.delivery_key)
        except DecodeError as exc:
            log.warning(
                "receiver.undecodable hook=%s trace_id=%s bytes=%d reason=%s",
                hook.id,
                trace,
                len(body),
                exc,
            )
            return Verdict(400, error_body("bad_delivery", str(exc), trace), hook.id)
        return self._record(hook.id, hook.pinterest_connection_id, leads, trace)

    def _record(
        self, hook_id: str, connection_id: str | None, leads: list[Lead], trace: str
    ) -> Verdict:
        runs: list[LeadIn] = []
        unmatched: list[str] = []
        try:
            for lead in leads:
                found = self._routes.runs_for(lead, connection_id, skip_run=False)
                if not found:
                    unmatched.append(lead.lead_id)
                runs.extend(found)
            # A lead runs once per flow, whatever version is live now (see `already_run`).
            done = self._routes.already_run(runs) if runs else set()
        except RoutingError as exc:
            log.error(
                "receiver.unroutable hook=%s leads=%s trace_id=%s reason=%s",
                hook_id,
                _ids(leads),
                trace,
                exc,
            )
            detail = f"a flow these leads trigger cannot run: {exc}"
            return self._unavailable(hook_id, detail, RETRY_AFTER_ROUTING_S, trace)
        except Exception:
            log.exception("receiver.routing_failed hook=%s trace_id=%s", hook_id, trace)
            detail = "could not read the live flows; retry later"
            return self._unavailable(hook_id, detail, RETRY_AFTER_RECORDING_S, trace)
        fresh = [run for run in runs if (run.lead_id, run.flow_id) not in done]
        accepted, duplicates = 0, len(runs) - len(fresh)
        runs = fresh
        if runs:
            try:
                report = self._intake.accept(runs)
            except Exception:
                log.exception(
                    "receiver.record_failed hook=%s leads=%s trace_id=%s",
                    hook_id,
                    _ids(leads),
                    trace,
                )
                detail = "could not record the leads durably; retry later"
                return self._unavailable(hook_id, detail, RETRY_AFTER_RECORDING_S, trace)
            accepted, duplicates = len(report.accepted), duplicates + len(report.duplicates)
        self._log_recorded(hook_id, leads, unmatched, accepted, duplicates, trace)
        body = {
            "accepted": accepted,
            "duplicates": duplicates,
            "leads": len(leads),
            "unmatched": len(unmatched),
        }
        return Verdict(200, body, hook_id)

    @staticmethod
    def _unavailable(hook_id: str | None, detail: str, retry_after_s: int, trace: str) -> Verdict:
        headers = {"Retry-After": str(retry_after_s)}
        return Verdict(503, error_body("unavailable", detail, trace), hook_id, headers)

    @staticmethod
    def _log_recorded(
        hook_id: str,
        leads: list[Lead],
        unmatched: list[str],
        accepted: int,
        duplicates: int,
        trace: str,
    ) -> None:
        if unmatched:
            log.warning(
                "receiver.unmatched hook=%s leads=%s trace_id=%s reason=no published flow "
                "takes these leads (check the flows' triggers: ad account, forms, test leads)",
                hook_id,
                _ids(unmatched),
                trace,
            )
        if accepted == 0 and duplicates:
            log.info(
                "receiver.duplicate hook=%s leads=%s trace_id=%s reason=already recorded",
                hook_id,
                _ids(leads),
                trace,
            )
            return
        log.debug(
            "receiver.accepted hook=%s leads=%d runs=%d duplicates=%d trace_id=%s",
            hook_id,
            len(leads),
            accepted,
            duplicates,
            trace,
        )


router = APIRouter()


@router.post(HOOK_PATH, include_in_schema=False)
async def receive_delivery(secret: str, request: Request) -> JSONResponse:
    """Receive one Pinterest delivery (see the module docstring for the answers)."""
    receiver: Receiver = request.app.state.receiver
    hooks: HookDirectory = request.app.state.hooks
    # The gate cuts the body off past its limit (413) while it streams in.
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
    verdict = await run_in_threadpool(receiver.receive, secret, bytes(body), trace_id(request))
    response = JSONResponse(verdict.body, verdict.status, headers=verdict.headers)
    if verdict.hook_id is not None and hooks.is_touch_due(verdict.hook_id):
        response.background = BackgroundTask(hooks.touch, verdict.hook_id)
    return response
