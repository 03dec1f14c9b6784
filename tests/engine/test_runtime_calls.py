"""A real executor for the runtime's tests: plain HTTP calls to the embedded CRM, and its worker.

Each call is self-contained JSON in the lead's payload (method, path, body, idempotency key,
which response fields it binds), as the planner's calls will be; references to earlier calls'
results are `{name}` placeholders. Run as `python -m tests.engine.test_runtime_calls ...` it
is a worker process: the runtime launched with this executor until SIGTERM.

The tests here pin the executor's error classification against the real CRM.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from leadwire.engine.runtime import (
    JsonObject,
    RateBudget,
    RateObservation,
    RetryPolicy,
    RuntimeOptions,
    StepResult,
    serve_worker,
)
from leadwire.engine.runtime.contracts import StepCall
from leadwire.errors import (
    AuthError,
    BadRequestError,
    FatalError,
    NotFoundError,
    RateLimitedError,
    UpstreamUnavailableError,
)
from leadwire.store.types import utcnow

VERSION = "2021-07-28"


@dataclass(frozen=True, slots=True)
class HttpCall:
    """One CRM request of a lead's plan."""

    step_id: str
    method: str
    path: str
    body: JsonObject = field(default_factory=dict)
    idempotency_key: str | None = None
    # Output name -> dotted path in the response body, e.g. {"contact_id": "contact.id"}.
    binds: dict[str, str] = field(default_factory=dict)

    def describe(self) -> str:
        """Name the request without its body (which holds personal data)."""
        return f"{self.method} {self.path}"

    @property
    def requests(self) -> int:
        """Every call here is one CRM request."""
        return 1

    def to_wire(self) -> JsonObject:
        """Return the call as payload JSON."""
        return {
            "step_id": self.step_id,
            "method": self.method,
            "path": self.path,
            "body": self.body,
            "idempotency_key": self.idempotency_key,
            "binds": self.binds,
        }


def lead_payload(
    run_id: str, location_id: str, email: str, *, note: str = "From Pinterest"
) -> JsonObject:
    """The brief's calls for one lead: upsert, tags, a follow-up task, a note."""
    due = utcnow().isoformat().replace("+00:00", "Z")
    calls = [
        HttpCall(
            "upsert",
            "POST",
            "/contacts/upsert",
            {"locationId": location_id, "email": email, "firstName": "Lead", "source": "pinterest"},
            f"{run_id}:upsert",
            {"contact_id": "contact.id"},
        ),
        HttpCall(
            "tags",
            "POST",
            "/contacts/{contact_id}/tags",
            {"tags": ["pinterest", "new-lead"]},
            f"{run_id}:tags",
        ),
        HttpCall(
            "task",
            "POST",
            "/contacts/{contact_id}/tasks",
            {"title": "Call the lead", "dueDate": due, "completed": False},
            f"{run_id}:task",
            {"task_id": "task.id"},
        ),
        HttpCall(
            "note",
            "POST",
            "/contacts/{contact_id}/notes",
            {"body": note},
            f"{run_id}:note",
            {"note_id": "note.id"},
        ),
    ]
    return {"calls": [c.to_wire() for c in calls]}


def _fill(value: Any, bindings: Mapping[str, str]) -> Any:
    if isinstance(value, str):
        return value.format_map(bindings) if "{" in value else value
    if isinstance(value, dict):
        return {k: _fill(v, bindings) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, bindings) for v in value]
    return value


def _dig(body: Any, dotted: str) -> str:
    for part in dotted.split("."):
        body = body[part]
    return str(body)


def _retry_after_s(response: httpx.Response) -> float | None:
    raw = response.headers.get("Retry-After")
    if raw is None:
        return None
    try:
        return float(raw)
    except ValueError:
        return max(0.0, (parsedate_to_datetime(raw) - utcnow()).total_seconds())


class CrmExecutor:
    """Plans from the payload's `calls`; performs each with httpx and classifies the answer."""

    def __init__(self, base_url: str, token: str, *, timeout_s: float = 5.0) -> None:
        self._http = httpx.Client(
            base_url=base_url,
            headers={"Authorization": f"Bearer {token}", "Version": VERSION},
            timeout=timeout_s,
        )

    def close(self) -> None:
        """Close the HTTP client."""
        self._http.close()

    def looks_up(self, payload: JsonObject) -> bool:
        """The payload holds the calls; `look_up` in it stands for a look-up to checkpoint."""
        return bool(payload.get("look_up"))

    def prepare(self, payload: JsonObject, received_ms: int) -> JsonObject:
        """Stamp the reception; a "look-up" answers differently every time it is asked."""
        answer: JsonObject = {"received_ms": received_ms}
        if self.looks_up(payload):
            answer["looked_up_ns"] = time.time_ns()
        return answer

    def plan(self, payload: JsonObject, prepared: JsonObject) -> Sequence[StepCall]:
        """Read the calls of a lead's payload; the note says what `prepare` answered.

        So a plan made from another answer (a look-up not checkpointed, a segment preparing
        again) sends the note with its idempotency key and another body: the CRM refuses that
        with 422, and the run lands in the inbox instead of succeeding.
        """
        try:
            calls = [HttpCall(**c) for c in payload["calls"]]
        except (KeyError, TypeError) as exc:
            raise FatalError(f"payload has no valid calls: {exc}") from exc
        stamp = prepared.get("looked_up_ns", prepared.get("received_ms"))
        return [
            replace(c, body={**c.body, "body": f"{c.body['body']} ({stamp})"})
            if c.step_id == "note"
            else c
            for c in calls
        ]

    def execute(self, call: StepCall, bindings: Mapping[str, str]) -> StepResult:
        """Make the request; raise by what the answer says about trying again."""
        assert isinstance(call, HttpCall)
        if call.method == "WAIT":  # a delay step: no request, a pause before the next call
            seconds = float(call.body["seconds"])
            return StepResult(summary=f"wait {seconds:g} s", resume_after_s=seconds)
        headers = {"Idempotency-Key": call.idempotency_key} if call.idempotency_key else {}
        try:
            response = self._http.request(
                call.method,
                _fill(call.path, bindings),
                json=_fill(call.body, bindings),
                headers=headers,
            )
        except httpx.TimeoutException as exc:
            raise UpstreamUnavailableError(f"timed out: {type(exc).__name__}") from exc
        except httpx.TransportError as exc:
            raise UpstreamUnavailableError(f"unreachable: {type(exc).__name__}") from exc
        status = response.status_code
        if status < 300:
            body = response.json()
            outputs = {name: _dig(body, path) for name, path in call.binds.items()}
            return StepResult(
                outputs=outputs,
                crm_ids=outputs,
                summary=str(status),
                rate=RateObservation.from_headers(response.headers),
            )
        message = f"{call.describe()} answered {status}"
        if status == 429:
            raise RateLimitedError(message, retry_after_s=_retry_after_s(response))
        if status == 408 or status >= 500:
            raise UpstreamUnavailableError(message, retry_after_s=_retry_after_s(response))
        if status in (401, 403):
            raise AuthError(message)
        if status == 404:
            raise NotFoundError(message)
        raise BadRequestError(message)


def main(argv: Sequence[str] | None = None) -> None:
    """Run a worker with this executor until SIGTERM."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--crm-url", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--executor-id", default="worker-1")
    parser.add_argument("--ready-file", type=Path, required=True)
    parser.add_argument("--options", default="{}", help="JSON of RuntimeOptions overrides")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    extra = json.loads(args.options)
    retry = RetryPolicy(**extra.pop("retry", {"base_s": 0.2, "cap_s": 1.0, "window_s": 3.0}))
    budget = RateBudget(**extra.pop("budget", {}))
    options = RuntimeOptions(
        database_url=args.database_url,
        executor_id=args.executor_id,
        retry=retry,
        budget=budget,
        polling_interval_s=0.05,
        worker_concurrency=8,
        **extra,
    )
    executor = CrmExecutor(args.crm_url, args.token, timeout_s=2.0)
    try:
        serve_worker(options, executor, on_ready=lambda: args.ready_file.write_text("ready"))
    finally:
        executor.close()


if __name__ == "__main__":
    main()


# --- the executor's classification, against the real CRM ---------------------------------


@pytest.fixture
def crm_executor(runtime_tenant: Any) -> Any:
    executor = CrmExecutor(runtime_tenant.direct_url, runtime_tenant.key)
    yield executor
    executor.close()


def test_a_plan_binds_the_contact_for_later_calls(
    crm_executor: CrmExecutor, runtime_tenant: Any
) -> None:
    payload = lead_payload("run:calls-1", runtime_tenant.location_id, "calls-1@example.com")
    upsert, tags, *_ = crm_executor.plan(payload, {})
    first = crm_executor.execute(upsert, {})
    assert set(first.outputs) == {"contact_id"}
    assert first.rate is not None
    assert first.rate.burst_max is not None
    again = crm_executor.execute(upsert, {})
    assert again.outputs == first.outputs
    assert crm_executor.execute(tags, first.outputs).summary == "201"


def test_answers_are_classified(crm_executor: CrmExecutor, runtime_tenant: Any) -> None:
    missing = HttpCall("x", "POST", "/contacts/{contact_id}/notes", {"body": "n"})
    with pytest.raises(BadRequestError):
        crm_executor.execute(missing, {"contact_id": "not-an-id"})
    unknown = HttpCall("x", "POST", "/contacts/{contact_id}/notes", {"body": "n"})
    with pytest.raises(NotFoundError):
        crm_executor.execute(unknown, {"contact_id": "A" * 20})
    with pytest.raises(FatalError):
        crm_executor.plan({"calls": [{"step_id": "x"}]}, {})


def test_unreachable_crm_is_retryable() -> None:
    executor = CrmExecutor("http://127.0.0.1:9", "k", timeout_s=0.5)
    try:
        with pytest.raises(UpstreamUnavailableError):
            executor.execute(HttpCall("x", "GET", "/contacts/x"), {})
    finally:
        executor.close()
