"""The receiver: `POST /hooks/pinterest/{secret}` turns an encrypted delivery into durable runs.

It answers 200 only after every run the delivery starts is committed (the endpoint awaits
`GroupIntake.submit`'s future, which resolves after the commit), so an acknowledged lead is
never lost. Pinterest retries 429 and 5xx and drops other 4xx, hence:

- 200 `{accepted, duplicates, leads, unmatched}`: recorded, or recorded before, or no flow
  takes the lead (`unmatched`, logged as a warning) — done;
- 400: the body cannot be decoded with the hook's key — dropped;
- 404: no hook has this secret — dropped; 413: the body is over 1 MiB — dropped;
- 500: the hook's delivery key cannot be opened (the key ring is lost) — retried;
- 503 with `Retry-After`: a flow the lead triggers cannot run, or the database failed (looking
  the hook up, reading the flows, recording the runs) — retried.

Each answer is logged once with its reason — hook id, lead ids, trace id; never the URL
secret or anything a lead answered. The route is served by `hook_endpoint.DeliveryEndpoint`, a
plain ASGI function the app puts in front of FastAPI. Nothing that waits on the database
runs on the event loop: a delivery whose hook and flows are cached is decoded and routed on the
loop, then awaits its commit without holding a thread; any other goes to a worker thread.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from leadwire.connectors.pinterest.envelope import decode_delivery
from leadwire.connectors.pinterest.leads import Lead
from leadwire.engine.runtime import GroupIntake, IntakeReport, LeadIn
from leadwire.engine.sources import FlowRoutes, LiveFlow, RoutingError
from leadwire.errors import DecodeError
from leadwire.web.errors import error_body
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


_NO_RUNS = IntakeReport((), ())
# The `committed` of a delivery that handed intake nothing.
_NOTHING: Future[IntakeReport] = Future()
_NOTHING.set_result(_NO_RUNS)


def _ids(leads: Sequence[Lead] | Sequence[str]) -> str:
    shown = [lead if isinstance(lead, str) else lead.lead_id for lead in leads[:20]]
    more = len(leads) - len(shown)
    return ",".join(shown) + (f",+{more}" if more > 0 else "")


@dataclass(frozen=True, slots=True)
class Pending:
    """A delivery decoded and routed, its runs handed to intake: `committed` says when."""

    hook_id: str
    leads: list[Lead]
    unmatched: list[str]
    trace: str
    committed: Future[IntakeReport]


class Receiver:
    """Decodes, routes and durably records deliveries; thread-safe.

    `receive` does it all and blocks (in a worker thread). The endpoint instead calls `start`
    on the event loop with `cached_only` — what needs no I/O: a cached hook, the cached live
    flows, decryption — awaits the commit, and ends with `finish`; only when a cache must be
    read again does `start` go to a worker thread. The answers are the same either way.
    """

    def __init__(self, hooks: HookDirectory, routes: FlowRoutes, intake: GroupIntake) -> None:
        self._hooks = hooks
        self._routes = routes
        self._intake = intake

    def receive(self, secret: str, body: bytes, trace: str) -> Verdict:
        """Handle one delivery to the hook of `secret`; return the answer to send."""
        step = self.start(secret, body, trace)
        assert step is not None  # only `cached_only` gives up
        if isinstance(step, Verdict):
            return step
        try:
            report = step.committed.result()
        except Exception as exc:
            return self.finish(step, exc)
        return self.finish(step, report)

    def start(
        self, secret: str, body: bytes, trace: str, *, cached_only: bool = False
    ) -> Verdict | Pending | None:
        """Decode and route one delivery and hand its runs to intake; or answer it already.

        With `cached_only`, return None instead of reading the database (a hook or the live
        flows not cached): the caller then calls again, from a worker thread.
        """
        flows: list[LiveFlow] | None = None
        if cached_only:
            hook = self._hooks.cached(secret)
            flows = self._routes.cached()
            if hook is None or flows is None:
                return None
        else:
            try:
                hook = self._hooks.find(secret)
            except KeyUnavailableError as exc:
                log.critical(
                    "receiver.key_unavailable hook=%s trace_id=%s reason=%s: every delivery to "
                    "this hook fails (and Pinterest retries) until the key that sealed its "
                    "delivery key is back in the key ring (LEADWIRE_SECRET_KEYS or "
                    "data_dir/keys.json)",
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
        return self._route(hook.id, hook.pinterest_connection_id, leads, trace, flows)

    def _route(
        self,
        hook_id: str,
        connection_id: str | None,
        leads: list[Lead],
        trace: str,
        flows: list[LiveFlow] | None,
    ) -> Verdict | Pending:
        runs: list[LeadIn] = []
        unmatched: list[str] = []
        try:
            for lead in leads:
                # Flows that ran the lead in an earlier version are dropped by intake, in the
                # commit (the runs are `once_per_flow`): no read here.
                found = self._routes.runs_for(lead, connection_id, flows=flows)
                if not found:
                    unmatched.append(lead.lead_id)
                runs.extend(found)
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
        if not runs:
            return self.finish(Pending(hook_id, leads, unmatched, trace, _NOTHING), _NO_RUNS)
        try:
            committed = self._intake.submit(runs)
        except Exception as exc:  # intake closed
            return self.finish(Pending(hook_id, leads, unmatched, trace, _NOTHING), exc)
        return Pending(hook_id, leads, unmatched, trace, committed)

    def finish(self, pending: Pending, outcome: IntakeReport | Exception) -> Verdict:
        """Answer a delivery whose runs were committed (a report) or could not be (an error)."""
        hook_id, leads, trace = pending.hook_id, pending.leads, pending.trace
        if isinstance(outcome, Exception):
            log.error(
                "receiver.record_failed hook=%s leads=%s trace_id=%s",
                hook_id,
                _ids(leads),
                trace,
                exc_info=outcome,
            )
            detail = "could not record the leads durably; retry later"
            return self._unavailable(hook_id, detail, RETRY_AFTER_RECORDING_S, trace)
        accepted, duplicates = len(outcome.accepted), len(outcome.duplicates)
        self._log_recorded(hook_id, leads, pending.unmatched, accepted, duplicates, trace)
        body = {
            "accepted": accepted,
            "duplicates": duplicates,
            "leads": len(leads),
            "unmatched": len(pending.unmatched),
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
