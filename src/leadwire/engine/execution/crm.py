"""Making a plan's CRM calls: one client per contacts connection, each call idempotent.

- The upsert is idempotent by nature; its answer binds `contact_id` and `contact_new`.
- Every call carries its plan's `Idempotency-Key` (the embedded CRM honours it).
- On a CRM that does not honour keys, a task or note is looked up by its marker before being
  created, so a retried step never makes a second one.
- A duplicate refusal of the upsert names the contact it matched: that is the lead's contact.
- Add-tags calls of several runs with the same tags, made at the same moment, go as one bulk
  request where the connection allows it (`tag_batches.py`); tags are sets, so a retried or
  repeated bulk request is as harmless as a single one.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, cast

import httpx

from leadwire.connectors.contacts.client import ContactsClient
from leadwire.connectors.contacts.errors import (
    ContactsAuthError,
    ContactsBadRequestError,
    ContactsNotFoundError,
    DuplicateContactError,
)
from leadwire.connectors.contacts.oauth import ContactsEndpoints
from leadwire.connectors.contacts.ratelimits import RateBudget
from leadwire.connectors.contacts.wire.memberships import BulkTagAction
from leadwire.connectors.contacts.wire.notes import NewNote
from leadwire.connectors.contacts.wire.tasks import NewTask
from leadwire.engine.connections.health import record_failure, record_ok
from leadwire.engine.connections.model import ContactsConfig
from leadwire.engine.connections.records import load_connection
from leadwire.engine.execution.auth import ConnectionAuth
from leadwire.engine.execution.tag_batches import BulkUnavailableError, TagBatcher
from leadwire.engine.planning import CrmCall
from leadwire.engine.runtime import RateObservation, StepResult
from leadwire.engine.secrets import KeyRing
from leadwire.errors import AuthError, DecodeError, FatalError, LeadwireError
from leadwire.store.app import AppStore

log = logging.getLogger(__name__)

CONTACT_ID = "contact_id"
CONTACT_NEW = "contact_new"
# The calls made as a look-up, then a create, on a CRM that honours no idempotency keys.
ENSURED = {"create-task": "task", "create-note": "note"}
# Statuses of a bulk request that say this CRM's bulk update is not for us.
_NOT_FOR_US = (401, 403, 404, 405)
# Tag sets remembered as refused in bulk (the oldest forgotten), and for how long.
_NO_BULK_TAGS_KEPT = 1024
NO_BULK_TAGS_S = 600.0


def _observation(budget: RateBudget | None) -> RateObservation | None:
    if budget is None:
        return None
    return RateObservation(
        burst_max=budget.burst_limit,
        burst_remaining=budget.burst_remaining,
        interval_ms=budget.interval_ms,
        daily_remaining=budget.daily_remaining,
    )


DEFAULT_TIMEOUT_S = 30.0
# How often a working connection's health is written (each write is a transaction).
HEALTH_EVERY_S = 300.0


class CrmClients:
    """A `ContactsClient` per contacts connection, opened on first use; thread-safe.

    Also keeps each connection's health current from real traffic: a refused credential marks
    it failing (why, since when: `leadwire connections list`); a success marks it ok again, at
    most every `HEALTH_EVERY_S` while it keeps working.
    """

    def __init__(
        self,
        store: AppStore,
        ring: KeyRing,
        *,
        transport: httpx.BaseTransport | None = None,
        timeout_s: float = DEFAULT_TIMEOUT_S,
    ) -> None:
        self._store = store
        self._ring = ring
        self._transport = transport
        self._timeout = httpx.Timeout(timeout_s, connect=min(timeout_s, 5.0))
        self._lock = threading.Lock()
        self._open: dict[str, tuple[ContactsClient, ContactsConfig, ConnectionAuth]] = {}
        self._healthy_at: dict[str, float] = {}
        # Public for tests and metrics: how many add-tags calls wait for a bulk request.
        self.batches = TagBatcher()
        # Connections whose CRM refused bulk tag updates, and tag sets it refused them for.
        self._no_bulk: set[str] = set()
        self._no_bulk_tags: dict[tuple[str, tuple[str, ...]], float] = {}  # until (monotonic)

    def get(self, connection_id: str) -> tuple[ContactsClient, ContactsConfig]:
        """Return the client of a contacts connection and its settings."""
        with self._lock:
            found = self._open.get(connection_id)
            if found is None:
                connection = load_connection(self._store, connection_id)
                config = connection.config
                if not isinstance(config, ContactsConfig):
                    raise FatalError(f"connection {connection.name!r} is not a CRM connection")
                auth = ConnectionAuth(self._store, self._ring, connection_id)
                client = ContactsClient(
                    auth,
                    config.location_id,
                    endpoints=ContactsEndpoints(api_base_url=config.base_url),
                    transport=self._transport,
                    timeout=self._timeout,
                )
                found = (client, config, auth)
                self._open[connection_id] = found
            return found[0], found[1]

    def looks_up_before_create(self, connection_id: str) -> bool:
        """Tell whether tasks and notes are looked up before being created on the connection's
        CRM (it honours no idempotency keys): such a call is two requests.

        A connection that cannot be read (deleted, not a CRM's) says False: its calls fail
        with the reason, and a second request made anyway is counted when it is made.
        """
        try:
            return not self.get(connection_id)[1].idempotency_keys
        except LeadwireError:
            return False

    def close(self) -> None:
        """Close every client."""
        with self._lock:
            for client, _config, auth in self._open.values():
                client.close()
                auth.close()
            self._open.clear()

    def send(
        self,
        connection_id: str,
        call: CrmCall,
        bindings: Mapping[str, str],
        *,
        lead_created_at: datetime | None = None,
    ) -> StepResult:
        """Make one planned CRM call (raising the connector's classified errors).

        The upsert's contact counts as new when the CRM says so, or when it was added after
        `lead_created_at` (another flow's run of the same lead created it a moment ago).
        """
        try:
            result = self._send(connection_id, call, bindings, lead_created_at)
        except AuthError as exc:
            self._health(connection_id, failure=str(exc))
            raise
        self._health(connection_id)
        return result

    def _health(self, connection_id: str, *, failure: str | None = None) -> None:
        now = time.monotonic()
        with self._lock:
            last = self._healthy_at.get(connection_id)
            if failure is None and last is not None and now - last < HEALTH_EVERY_S:
                return
            self._healthy_at[connection_id] = now
            if failure is not None:
                self._healthy_at.pop(connection_id)
        try:
            if failure is None:
                record_ok(self._store, connection_id)
            else:
                record_failure(self._store, connection_id, failure)
        except Exception:
            # Health is a report, not part of the call: the call's own outcome stands.
            log.exception("connections.health_write_failed connection_id=%s", connection_id)

    def _send(
        self,
        connection_id: str,
        call: CrmCall,
        bindings: Mapping[str, str],
        lead_created_at: datetime | None,
    ) -> StepResult:
        if call.only_if_new_contact and bindings.get(CONTACT_NEW) != "true":
            summary = f"{call.operation_id}: skipped, the contact existed"
            return StepResult(summary=summary, requests=0)
        contact_id = ""
        if call.needs_contact_id:
            contact_id = bindings.get(CONTACT_ID, "")
            if not contact_id:
                raise FatalError(
                    f"{call.id}: no contact id; the flow has no upsert-contact step before it"
                )
            call = call.resolved(contact_id)
        client, config = self.get(connection_id)
        kind = ENSURED.get(call.operation_id)
        if kind is not None and not config.idempotency_keys:
            return _ensure(client, call, kind)
        if _mergeable(call, contact_id) and self._bulk(connection_id, config):
            return self._add_tags(connection_id, client, call, contact_id)
        return _request(client, call, lead_created_at)

    def _bulk(self, connection_id: str, config: ContactsConfig) -> bool:
        with self._lock:
            return config.bulk_tags and connection_id not in self._no_bulk

    def _no_bulk_for(self, key: tuple[str, tuple[str, ...]]) -> None:
        # For a while only: the refusal may have been the batch's contents, not its tags.
        with self._lock:
            self._no_bulk_tags.pop(key, None)
            if len(self._no_bulk_tags) >= _NO_BULK_TAGS_KEPT:  # lead-made tags: keep it bounded
                del self._no_bulk_tags[next(iter(self._no_bulk_tags))]
            self._no_bulk_tags[key] = time.monotonic() + NO_BULK_TAGS_S

    def _no_more_bulk(self, connection_id: str, exc: Exception) -> None:
        with self._lock:
            self._no_bulk.add(connection_id)
        log.warning(
            "crm.bulk_tags_unavailable connection_id=%s: %s; tags go one request per contact "
            "until the worker restarts",
            connection_id,
            exc,
        )

    def _add_tags(
        self, connection_id: str, client: ContactsClient, call: CrmCall, contact_id: str
    ) -> StepResult:
        """Add the call's tags, in one bulk request with other runs' calls of the same tags."""
        tags = [str(tag) for tag in cast(dict[str, Any], call.body)["tags"]]
        key = (connection_id, tuple(sorted(tags)))
        with self._lock:
            refused = self._no_bulk_tags.get(key, 0.0) > time.monotonic()
        if refused:
            return _request(client, call)
        return self.batches.add(
            key,
            contact_id,
            alone=lambda: _request(client, call),
            together=lambda contact_ids: self._tag_many(key, client, contact_ids),
        )

    def _tag_many(
        self,
        key: tuple[str, tuple[str, ...]],
        client: ContactsClient,
        contact_ids: Sequence[str],
    ) -> dict[str, StepResult]:
        """Send one bulk tag update; return the result of each contact it tagged.

        Credentials refused (401 after the session's own renewal, 403), no such endpoint (404,
        405) or an answer we cannot read mean this CRM's bulk update does not work for us:
        learnt for the connection, and every call goes on its own, with its own answer. Another
        refusal (400, 422: a tag a lead's answer made too long, say) is learnt for those tags.
        """
        connection_id, tags = key
        try:
            answer = client.tags.update_many(BulkTagAction.ADD, contact_ids, tags)
        except (ContactsAuthError, ContactsNotFoundError, ContactsBadRequestError) as exc:
            if exc.status_code in _NOT_FOR_US:
                self._no_more_bulk(connection_id, exc)
            else:
                self._no_bulk_for(key)
            raise BulkUnavailableError(str(exc)) from exc
        except DecodeError as exc:
            self._no_more_bulk(connection_id, exc)
            raise BulkUnavailableError(str(exc)) from exc
        rate = _observation(client.last_budget)
        summary = f"add-tags: added by one bulk request for {len(contact_ids)} contacts"
        failed = {item.contact_id for item in answer.responses if item.type != "success"}
        return {
            item.contact_id: StepResult(summary=summary, rate=rate, requests=0)
            for item in answer.responses
            if item.contact_id and item.contact_id not in failed
        }


def _mergeable(call: CrmCall, contact_id: str) -> bool:
    """An add-tags call of the run's own contact, its body only the tags (a generic step may
    name another contact, or send more)."""
    return (
        call.operation_id == "add-tags"
        and bool(contact_id)
        and call.path == f"/contacts/{contact_id}/tags"
        and not call.query
        and isinstance(call.body, dict)
        and set(call.body) == {"tags"}
        and isinstance(call.body["tags"], list)
    )


def _request(
    client: ContactsClient, call: CrmCall, lead_created_at: datetime | None = None
) -> StepResult:
    """Make the call as planned: one request."""
    body = cast(dict[str, Any] | None, call.body)
    try:
        response = client.session.call(
            call.method,
            call.path,
            call.operation_id,
            params=dict(call.query),
            body=body,
            headers={"Idempotency-Key": call.idempotency_key},
        )
    except DuplicateContactError as exc:
        if not call.gives_contact_id:
            raise
        return StepResult(
            outputs={CONTACT_ID: exc.contact_id, CONTACT_NEW: "false"},
            crm_ids={"contact": exc.contact_id},
            summary=f"{call.operation_id}: matched existing contact by {exc.matching_field}",
            rate=_observation(client.last_budget),
        )
    return _result(call, response, lead_created_at)


def _json(response: httpx.Response, call: CrmCall) -> dict[str, Any]:
    if not response.content:
        return {}
    try:
        data = response.json()
    except ValueError:
        raise DecodeError(f"{call.operation_id}: the CRM's answer is not JSON") from None
    return data if isinstance(data, dict) else {}


def _added_since(contact: dict[str, Any], moment: datetime | None) -> bool:
    if moment is None or not isinstance(contact.get("dateAdded"), str):
        return False
    try:
        added = datetime.fromisoformat(contact["dateAdded"].replace("Z", "+00:00"))
    except ValueError:
        return False
    return added.tzinfo is not None and added >= moment


def _result(
    call: CrmCall, response: httpx.Response, lead_created_at: datetime | None = None
) -> StepResult:
    data = _json(response, call)
    outputs: dict[str, str] = {}
    crm_ids: dict[str, str] = {}
    summary = f"{call.operation_id}: {response.status_code}"
    if call.gives_contact_id:
        contact = data.get("contact")
        if not isinstance(contact, dict) or not contact.get("id"):
            raise DecodeError(f"{call.operation_id}: the answer names no contact id")
        created = data.get("new") is True
        new = created or _added_since(contact, lead_created_at)
        outputs = {CONTACT_ID: str(contact["id"]), CONTACT_NEW: "true" if new else "false"}
        crm_ids["contact"] = str(contact["id"])
        summary = f"{call.operation_id}: " + (
            "created contact"
            if created
            else "updated contact (created for this lead)"
            if new
            else "updated contact"
        )
    for kind in ("task", "note"):
        item = data.get(kind)
        if isinstance(item, dict) and item.get("id"):
            crm_ids[f"{kind}:{call.step_id}"] = str(item["id"])
    return StepResult(
        outputs=outputs,
        crm_ids=crm_ids,
        summary=summary,
        rate=RateObservation.from_headers(response.headers),
    )


def _ensure(client: ContactsClient, call: CrmCall, kind: str) -> StepResult:
    """Create a task or note once per marker, on a CRM without idempotency keys."""
    contact_id = call.path.split("/")[2]
    marker = call.idempotency_key
    try:
        if kind == "task":
            task = client.ensure_task(contact_id, NewTask.model_validate(call.body), marker)
            item_id, created = task.item.id, task.created
        else:
            note = client.ensure_note(contact_id, NewNote.model_validate(call.body), marker)
            item_id, created = note.item.id, note.created
    except ValueError as exc:  # the planned body does not fit the DTO: a defect, not a retry
        raise FatalError(f"{call.operation_id}: {exc}") from None
    return StepResult(
        crm_ids={f"{kind}:{call.step_id}": str(item_id)},
        summary=f"{call.operation_id}: {'created' if created else 'found existing'} {kind}",
        rate=_observation(client.last_budget),
        requests=2 if created else 1,  # the look-up, then the create
    )
