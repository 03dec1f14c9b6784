"""A plan: the exact, ordered actions a flow version takes for one lead, and why.

The planner is pure; the executor runs a plan's actions in order as durable steps. Each action is
self-contained (method, path, body, idempotency key). Actions after the upsert refer to the
contact symbolically: `{contact_id}` in the path, and in the body at the JSON Pointers listed in
`contact_id_at`; `resolved(contact_id)` fills them in once the upsert has answered. An action with
`only_if_new_contact` runs only when the upsert answered `"new": true` (the initial lifecycle
stage must not demote a contact that already exists).
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, JsonValue

CONTACT_ID = "{contact_id}"
KEY_PREFIX = "lw1-"


def idempotency_key(lead_id: str, flow_id: str, version: int, action_id: str) -> str:
    """Return the key of one action of one lead in one flow version (stable across retries)."""
    digest = hashlib.sha256(f"{lead_id}\n{flow_id}\n{version}\n{action_id}".encode()).hexdigest()
    return KEY_PREFIX + digest[:40]


def pointer(path: tuple[str | int, ...]) -> str:
    """Return the JSON Pointer (RFC 6901) of a place in a JSON body."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)


def _put_contact_id(body: JsonValue, tokens: list[str], contact_id: str) -> JsonValue:
    if not tokens:
        return body.replace(CONTACT_ID, contact_id) if isinstance(body, str) else body
    head, rest = tokens[0], tokens[1:]
    if isinstance(body, dict) and head in body:
        return {**body, head: _put_contact_id(body[head], rest, contact_id)}
    if isinstance(body, list) and head.isdigit() and int(head) < len(body):
        at = int(head)
        return [*body[:at], _put_contact_id(body[at], rest, contact_id), *body[at + 1 :]]
    return body


def _tokens(json_pointer: str) -> list[str]:
    return [t.replace("~1", "/").replace("~0", "~") for t in json_pointer.split("/")[1:]]


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Action(_Frozen):
    id: str = Field(description="Stable id of the action: its step id, or step id + suffix.")
    step_id: str
    idempotency_key: str
    contact_id_at: tuple[str, ...] = Field(
        default=(), description="JSON Pointers in `body` holding `{contact_id}`."
    )

    def _resolved_body(self, body: JsonValue, contact_id: str) -> JsonValue:
        for json_pointer in self.contact_id_at:
            body = _put_contact_id(body, _tokens(json_pointer), contact_id)
        return body


class CrmCall(_Action):
    """One call of the Contacts API."""

    kind: Literal["crm_call"] = "crm_call"
    operation_id: str
    method: str
    path: str
    query: dict[str, str] = Field(default_factory=dict)
    body: JsonValue = None
    gives_contact_id: bool = Field(
        default=False, description="The upsert: its answer's contact.id resolves `{contact_id}`."
    )
    only_if_new_contact: bool = False

    @property
    def needs_contact_id(self) -> bool:
        """Return whether the call can only run once the contact id is known."""
        return CONTACT_ID in self.path or bool(self.contact_id_at)

    def resolved(self, contact_id: str) -> Self:
        """Return the call with the contact id filled in."""
        return self.model_copy(
            update={
                "path": self.path.replace(CONTACT_ID, contact_id),
                "body": self._resolved_body(self.body, contact_id),
                "contact_id_at": (),
            }
        )


class WebhookCall(_Action):
    """One signed call of an outside URL (signed when sent: the signature needs the secret)."""

    kind: Literal["webhook"] = "webhook"
    method: str
    url: str
    headers: dict[str, str] = Field(default_factory=dict)
    body: JsonValue = None

    def body_bytes(self) -> bytes:
        """Return the body exactly as sent (and signed): compact JSON, UTF-8."""
        return json.dumps(self.body, separators=(",", ":"), ensure_ascii=False).encode()

    def resolved(self, contact_id: str) -> Self:
        """Return the call with the contact id filled in."""
        body = self._resolved_body(self.body, contact_id)
        return self.model_copy(update={"body": body, "contact_id_at": ()})


class Wait(_Frozen):
    """A durable pause (a `delay` step)."""

    kind: Literal["wait"] = "wait"
    id: str
    step_id: str
    seconds: int


Action = Annotated[CrmCall | WebhookCall | Wait, Field(discriminator="kind")]


class RouteDecision(_Frozen):
    """Which branch a route took: the index of its first rule that held, or the default."""

    step_id: str
    rule: int | None = Field(description="0-based index of the rule taken; null: the default.")
    rule_name: str | None = None

    @property
    def branch(self) -> str:
        """Return the branch as the document names it."""
        return "default" if self.rule is None else f"rules[{self.rule}]"


class Problem(_Frozen):
    """A value that could not be mapped (left out, or why the run stopped)."""

    step_id: str
    field: str
    value: str | None = Field(description="The value that failed, as quoted in the message.")
    message: str
    stopped: bool = False


class Outcome(StrEnum):
    """How the run ends."""

    COMPLETE = "complete"
    FILTERED = "filtered"
    STOPPED = "stopped"


class Plan(_Frozen):
    """Everything one lead does in one flow version, in order."""

    flow_id: str
    version: int
    lead_id: str
    planned_at: datetime
    outcome: Outcome
    reason: str | None = None
    actions: tuple[Action, ...] = ()
    decisions: tuple[RouteDecision, ...] = ()
    problems: tuple[Problem, ...] = ()

    @property
    def calls(self) -> list[CrmCall]:
        """Return the CRM calls, in order."""
        return [action for action in self.actions if isinstance(action, CrmCall)]

    def to_json(self) -> dict[str, Any]:
        """Return the plan as JSON data."""
        return self.model_dump(mode="json")
