"""Actions of the generic steps: any Contacts catalog operation, and a signed outside webhook."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import quote

from pydantic import JsonValue

from leadwire.engine.expressions import Value, to_json
from leadwire.engine.flows.catalog import OPERATIONS, LocationIn
from leadwire.engine.flows.signing import DELIVERY_HEADER, FLOW_HEADER
from leadwire.engine.flows.steps import ContactsOperation, Webhook
from leadwire.engine.planning.contact_actions import RunFacts
from leadwire.engine.planning.mapping import Mapper
from leadwire.engine.planning.plan import CONTACT_ID, CrmCall, WebhookCall, idempotency_key


def _path(mapper: Mapper, step: ContactsOperation, template: str) -> str | None:
    path = template
    for name in OPERATIONS[step.operation].path_params:
        source = step.path.get(name)
        if source is None:  # only contactId may be left out (checked when the flow is saved)
            path = path.replace(f"{{{name}}}", CONTACT_ID)
            continue
        text = mapper.required_text(step, f"path.{name}", source, "the operation is left out")
        if text is None:
            return None
        # The contact id stays a placeholder, anything else is one path segment, escaped.
        segment = CONTACT_ID if text == CONTACT_ID else quote(text, safe="")
        path = path.replace(f"{{{name}}}", segment)
    return path


def operation_actions(mapper: Mapper, facts: RunFacts, step: ContactsOperation) -> list[CrmCall]:
    """Return the call of a contacts_operation step."""
    operation = OPERATIONS[step.operation]
    path = _path(mapper, step, operation.path)
    if path is None or mapper.is_stopped:
        return []
    query: dict[str, str] = {}
    for name, source in step.query.items():
        text = mapper.text(step, f"query.{name}", source)
        if text is not None:
            query[name] = text
    body: JsonValue = None
    pointers: list[str] = []
    if operation.has_body:
        body, pointers = mapper.json(step, "body", step.body if step.body is not None else {})
    if mapper.is_stopped:
        return []
    if operation.location_in is LocationIn.QUERY:
        query.setdefault("locationId", facts.location_id)
    elif operation.location_in is LocationIn.BODY and isinstance(body, dict):
        body.setdefault("locationId", facts.location_id)
    return [
        facts.call(
            step,
            "",
            operation.operation_id,
            operation.method,
            path,
            body,
            query=query,
            contact_id_at=tuple(pointers),
        )
    ]


def _mapping(value: Value) -> Mapping[str, Value]:
    return value if isinstance(value, Mapping) else {}


def standard_payload(mapper: Mapper, facts: RunFacts) -> dict[str, Value]:
    """Return the body a webhook step without `body` sends: the lead, its answers and context.

    A run no lead started sends what it has instead: its `event` or `schedule`.
    """
    scope = mapper.scope
    payload: dict[str, Value] = {"flow": {"id": facts.flow.flow_id, "version": facts.flow.version}}
    if "lead" in scope:
        payload["lead"] = {k: v for k, v in _mapping(scope["lead"]).items() if k != "answers_text"}
        payload["answers"] = scope["answers"]
        payload["pinterest"] = scope["pinterest"]
    for name in ("event", "schedule"):
        if name in scope:
            payload[name] = scope[name]
    if "contact" in scope:
        payload["contact_id"] = CONTACT_ID
    return payload


def webhook_actions(mapper: Mapper, facts: RunFacts, step: Webhook) -> list[WebhookCall]:
    """Return the webhook call of a webhook step."""
    if step.body is None:
        payload = standard_payload(mapper, facts)
        body: JsonValue = to_json(payload)
        pointers = ["/contact_id"] if "contact_id" in payload else []
    else:
        body, pointers = mapper.json(step, "body", step.body)
    if mapper.is_stopped:
        return []
    key = idempotency_key(facts.lead_id, facts.flow.flow_id, facts.flow.version, step.id)
    headers = {
        **step.headers,
        "Content-Type": "application/json",
        DELIVERY_HEADER: key,
        FLOW_HEADER: f"{facts.flow.flow_id}/v{facts.flow.version}",
    }
    call = WebhookCall(
        id=step.id,
        step_id=step.id,
        idempotency_key=key,
        contact_id_at=tuple(pointers),
        method=step.method,
        url=step.url,
        headers=headers,
        body=body,
    )
    return [call]
